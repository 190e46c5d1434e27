"""The project's exceptions: one base, domain errors raised by the data layer."""

from __future__ import annotations

__all__ = ["ConfigurationError", "Conflict", "Invalid", "NotFound", "PortalError"]


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
