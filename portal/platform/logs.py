"""Logging set-up shared by the CLI and the server."""

from __future__ import annotations

import logging

__all__ = ["configure_logging"]

# Libraries that narrate every step at INFO; their warnings still show.
_CHATTY = ("pgserver", "alembic.runtime.plugins")


def configure_logging(level: str) -> None:
    """Log to stderr at *level*, with the chattiest libraries kept to warnings."""
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
