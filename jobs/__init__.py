"""Background work: the queue (RQ on Redis, or threads in-process) and thin task functions."""
