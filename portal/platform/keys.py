"""The root's own keys: its settings, and the root a sub-app belongs to.

Every other shared service keeps its key beside itself (the engine's in
:mod:`portal.platform.db.engine`, the event channel's in
:mod:`portal.platform.live.events` …), so this module imports nothing of the
platform and no hub of keys can start an import circle.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.helpers import ChainMapProxy

from portal.settings import Settings

__all__ = ["config_of", "root_key", "settings_key"]

#: The settings the root was built with.
settings_key = web.AppKey("settings_key", Settings)

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
