"""Namespaced URL reversing from Python: ``url_for(request, "polls:detail", question_id=1)``.

aiohttp's own ``url_for`` sees one router; these helpers see every mounted app,
so a view in one app can link or redirect into another, and every prefix
follows the settings.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from yarl import URL

from portal.platform.appspec import mounts_key

__all__ = ["redirect", "static_url", "url_for"]


def url_for(
    request: web.Request,
    name: str,
    *,
    query: Mapping[str, str | int] | None = None,
    **parts: str | int,
) -> URL:
    """The path of route *name* (``"app:route"``, or ``"route"`` for the root's own)."""
    return request.config_dict[mounts_key].url(name, query=query, **parts)


def static_url(request: web.Request, name: str) -> URL:
    """The URL of a static file: ``"polls:polls.css"``, or ``"portal.css"``."""
    return request.config_dict[mounts_key].static(name)


def redirect(request: web.Request, name: str, **parts: str | int) -> web.HTTPSeeOther:
    """A 303 to route *name*, for the end of a successful POST (raise it)."""
    return web.HTTPSeeOther(location=url_for(request, name, query=None, **parts))
