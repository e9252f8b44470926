"""Domain errors. Entry points (pages, routes, jobs, CLI) map them to what the user sees."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: the message is written for the person who caused it."""


class NotFound(DomainError):
    pass


class ValidationError(DomainError):
    """Bad input. `field` names what was wrong when one field is to blame."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PermissionDenied(DomainError):
    pass


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a wrong status)."""


class Unavailable(DomainError):
    """A service the app depends on (the job queue, a provider) did not answer: nothing was
    done, and trying again later may work."""
