"""Request body limits per section: HTML forms and API JSON each have their own.

A body that declares a length over its section's limit is refused (413)
before a byte of it is read. One that does not declare its length (chunked)
or is compressed is cut off as it is read, counted after decompression, so a
small gzip body that inflates past the limit is refused without being
buffered: forms by aiohttp's ``client_max_size`` (set on the root to the form
limit), API bodies by the API's own bounded read.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from portal.platform.policy import policy_for
from portal.settings import Settings

__all__ = ["body_limit_middleware"]


def body_limit_middleware(settings: Settings) -> Middleware:
    """The middleware refusing a declared body over its section's limit with 413."""
    limits = {"form": settings.form_body_limit, "json": settings.api_body_limit}

    @web.middleware
    async def limit_body(request: web.Request, handler: Handler) -> web.StreamResponse:
        length = request.content_length
        if length is not None:
            limit = limits[policy_for(request).body]
            if length > limit:
                raise web.HTTPRequestEntityTooLarge(
                    max_size=limit,
                    actual_size=length,
                    text=f"The request body is larger than this page accepts ({limit} bytes).",
                )
        return await handler(request)

    return limit_body
