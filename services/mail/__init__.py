"""Mail: the outbox (a row per message, written with the event that causes it) and its
delivery by the worker (SMTP or the embedded mail drop)."""
