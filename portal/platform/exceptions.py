"""The project's exceptions: one base, domain errors raised by the data layer."""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "Conflict",
    "DatabaseUnavailable",
    "Invalid",
    "NotFound",
    "PortalError",
]


class PortalError(Exception):
    """Base of every exception portal raises on purpose."""


class ConfigurationError(PortalError):
    """The platform cannot start as configured; the message says what to do."""


class NotFound(PortalError):
    """The row asked for does not exist."""


class Conflict(PortalError):
    """The change would break a uniqueness or integrity rule.

    *field* names the input at fault, when one is (a duplicate ``name``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Invalid(PortalError):
    """A value the data layer refuses; *field* names it when one input is at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DatabaseUnavailable(PortalError):
    """The database cannot serve this request now; the same request may succeed later.

    Raised when no pooled connection frees up in time, when a statement runs
    past ``statement_timeout``, and while the site waits for the database to
    be reached (or migrated). The error middleware answers it with 503.
    """
