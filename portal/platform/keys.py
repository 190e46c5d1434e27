"""Typed keys for everything the root shares, read through ``request.config_dict``.

One place for them all, so any sub-app reaches the shared services the same
way and a typo is an import error rather than a ``KeyError`` at run time.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.helpers import ChainMapProxy

from portal.settings import Settings

if TYPE_CHECKING:
    from portal.platform.api.endpoints import Endpoint
    from portal.platform.auth.users import User
    from portal.platform.events import EventBus
    from portal.platform.policy import Policy
    from portal.platform.registry import Mounts

__all__ = [
    "api_endpoints_key",
    "config_of",
    "database_url_key",
    "db_key",
    "events_key",
    "https_key",
    "mounts_key",
    "policy_key",
    "root_key",
    "settings_key",
    "sockets_key",
    "user_key",
]

#: The endpoints an API app was built from (its router and its OpenAPI document).
api_endpoints_key: web.AppKey[tuple[Endpoint, ...]] = web.AppKey("api_endpoints_key")

#: The settings the root was built with.
settings_key = web.AppKey("settings_key", Settings)

#: The URL of the PostgreSQL server, known once the embedded server (if any) runs.
database_url_key = web.AppKey("database_url_key", str)

#: The shared ``aiopg.sa`` engine; opened and closed in the root's ``cleanup_ctx``.
db_key: web.AppKey[Any] = web.AppKey("db_key")

#: This process's end of the cross-process event channel (LISTEN/NOTIFY).
events_key: web.AppKey[EventBus] = web.AppKey("events_key")

#: This process's open live-page WebSockets, closed with "going away" at shutdown.
sockets_key: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets_key")

#: The mounted apps, their prefixes and routers: what cross-app URLs are built from.
mounts_key: web.AppKey[Mounts] = web.AppKey("mounts_key")

#: The rules (session, CSRF, error format, authentication) of one app's section.
policy_key: web.AppKey[Policy] = web.AppKey("policy_key")

#: The logged-in user of this request, loaded at most once per request.
user_key: web.RequestKey[User | None] = web.RequestKey("user_key")

#: Whether the client reached the site over https, when a trusted proxy said so
#: (``X-Forwarded-Proto``); absent, the connection's own scheme counts.
https_key: web.RequestKey[bool] = web.RequestKey("https_key")

#: Set on each sub-app when it is mounted: the root it belongs to.
root_key = web.AppKey("root_key", web.Application)


def config_of(app: web.Application) -> ChainMapProxy:
    """What ``request.config_dict`` would be, for code that has an app but no request.

    A sub-app's start-up and cleanup hooks use it to reach the root's shared
    services (``config_of(app)[db_key]``); the app's own state comes first.
    """
    if root_key not in app:
        return ChainMapProxy([app])
    root: web.Application = app[root_key]
    return ChainMapProxy([app, root])
