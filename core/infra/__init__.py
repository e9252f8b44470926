"""Plumbing the domain packages share: the audit log, events, logs, health, money formatting,
SQL helpers, bulk writes, CSV safety, the migration runner, the job rows and settings rows."""
