"""What the toolbar never shows: credentials in headers, cookies, forms and sessions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from portal.platform.edge.csrf import CSRF_FIELD, CSRF_HEADER

__all__ = ["REDACTED", "is_secret_field", "redact_headers"]

#: Shown in place of a secret value.
REDACTED: Final = "[redacted]"

_SECRET_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", CSRF_HEADER.lower()}
)
# Form fields, template context names and session keys whose values are
# credentials: the CSRF token (its form field and the session's copy) and
# passwords. Matched on the lower-cased name.
_SECRET_FIELDS: Final = frozenset({CSRF_FIELD, "_csrf", "password", "password2", "secret"})


def is_secret_field(name: object) -> bool:
    """Whether a form field, context name or session key named *name* holds a credential."""
    return isinstance(name, str) and name.lower() in _SECRET_FIELDS


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """*headers* with the value of each credential-bearing header replaced."""
    return [
        (name, REDACTED if name.lower() in _SECRET_HEADERS else value) for name, value in headers
    ]
