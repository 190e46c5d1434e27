"""Reading an HTML form's fields, with unreadable text refused as the client's error."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

__all__ = ["read_form"]


async def read_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The fields of the form *request* carries (read once; later calls reuse them).

    aiohttp decodes the fields with the charset the request names: raw bytes
    that are not valid in it, or a charset Python does not know, raise while
    decoding. That is the sender's mistake, so it is a 400, not a 500.
    """
    try:
        return await request.post()
    except (UnicodeDecodeError, LookupError) as exc:
        raise web.HTTPBadRequest(
            reason="Unreadable form",
            text="The form could not be read: its text is not valid in the charset it names "
            "(UTF-8 unless it says otherwise).",
        ) from exc
