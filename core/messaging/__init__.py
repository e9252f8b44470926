"""Sending messages: the outbox, the providers behind one interface, rate limits, suppressions,
unsubscribe links and the providers' delivery webhooks."""
