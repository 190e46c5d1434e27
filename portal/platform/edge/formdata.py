"""Reading an HTML form's fields; a body that cannot be read is the sender's error (400).

aiohttp's form readers (``request.post()`` and the multipart reader under it)
report a malformed body with whatever exception the failing step happens to
raise: ``ValueError`` (no or a bad boundary, a part without a name, a body
that ends mid-part, bad base64), ``LookupError`` (an unknown charset),
``UnicodeDecodeError``, ``BadHttpMessage`` (a garbage part header, too many or
too long ones), and from inside the multipart parser ``RuntimeError`` (an
unknown transfer encoding) and ``AssertionError`` (a ``_charset_`` part with
a long boundary). Each is the client's mistake, so each is a 400 with one
WARNING line, never a 500 with a traceback at ERROR. A body over the limit
is still aiohttp's 413, and nothing else (the database, the disk) is caught.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Final

from aiohttp import hdrs, web
from aiohttp.helpers import parse_mimetype
from aiohttp.http_exceptions import BadHttpMessage
from multidict import MultiDictProxy

__all__ = ["read_form"]

log = logging.getLogger(__name__)

#: Raised only for what the body says, wherever in the readers they come from.
_MALFORMED: Final = (ValueError, LookupError, BadHttpMessage)
#: Too general to catch from anywhere: a fault in the body only when raised by
#: the multipart parser itself. (Its warnings about a bad Content-Disposition
#: are raised as errors only under an ``error`` warnings filter, as in tests.)
_PARSER_ONLY: Final = (RuntimeError, AssertionError, Warning)
_PARSER_MODULE: Final = "aiohttp.multipart"
#: RFC 2046: a multipart boundary is 1 to 70 characters.
_MAX_BOUNDARY: Final = 70

_CHARSET_TEXT: Final = (
    "The form could not be read: its text is not valid in the charset it names "
    "(UTF-8 unless it says otherwise)."
)
_MALFORMED_TEXT: Final = "The form could not be read: its body is not a well-formed form."


async def read_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The fields of the form *request* carries (read once; later calls reuse them).

    A body that is not a well-formed form is answered 400 (see the module's
    docstring for what aiohttp raises and why each is the sender's fault).
    """
    try:
        _check_boundary(request)
        return await request.post()
    except (UnicodeDecodeError, LookupError) as exc:
        raise _refuse(request, exc, _CHARSET_TEXT) from exc
    except _MALFORMED as exc:
        raise _refuse(request, exc, _MALFORMED_TEXT) from exc
    except _PARSER_ONLY as exc:
        if not _raised_in(exc.__traceback__, _PARSER_MODULE):
            raise
        raise _refuse(request, exc, _MALFORMED_TEXT) from exc


def _check_boundary(request: web.Request) -> None:
    """Refuse an empty multipart boundary, which aiohttp would read without complaint."""
    if request.content_type != "multipart/form-data":
        return
    boundary = parse_mimetype(request.headers[hdrs.CONTENT_TYPE]).parameters.get("boundary")
    # A missing one is left to aiohttp, which refuses it with the others.
    if boundary is not None and not 0 < len(boundary) <= _MAX_BOUNDARY:
        raise ValueError("a multipart boundary is 1 to 70 characters")


def _raised_in(tb: TracebackType | None, module: str) -> bool:
    """Whether the innermost frame of the traceback *tb* runs code of *module*."""
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__") == module


def _refuse(request: web.Request, exc: BaseException, text: str) -> web.HTTPBadRequest:
    # The exception's name only: its message may quote the body, and form
    # values never reach the log.
    log.warning(
        "unreadable form body in %s %s: %s", request.method, request.path, type(exc).__name__
    )
    return web.HTTPBadRequest(reason="Unreadable form", text=text)
