"""The project's exceptions: one base, domain errors raised by the data layer."""

from __future__ import annotations

__all__ = ["ConfigurationError", "Conflict", "NotFound", "PortalError"]


class PortalError(Exception):
    """Base of every exception portal raises on purpose."""


class ConfigurationError(PortalError):
    """The platform cannot start as configured; the message says what to do."""


class NotFound(PortalError):
    """The row asked for does not exist."""


class Conflict(PortalError):
    """The change would break a uniqueness or integrity rule."""
