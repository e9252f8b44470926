"""Last Call's domain: everything but the UI and the queue."""

__version__ = "0.1.0"
