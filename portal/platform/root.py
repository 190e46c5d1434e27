"""The root application: shared services first, then the sub-apps mounted on it."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from aiohttp.web_middlewares import normalize_path_middleware

from portal.platform.appspec import AppSpec, Mounts, mounts_key
from portal.platform.auth.passwords import hash_slots, hash_slots_key
from portal.platform.auth.throttle import AttemptLocks, attempt_locks_key
from portal.platform.db.engine import database_url_key, embedded_postgres_ctx, engine_ctx
from portal.platform.edge.audit import security_log_middleware
from portal.platform.edge.bodies import body_limit_middleware
from portal.platform.edge.caching import private_cache_middleware
from portal.platform.edge.cors import cors_headers, cors_middleware
from portal.platform.edge.csrf import csrf_middleware
from portal.platform.edge.errorpages import error_middleware
from portal.platform.edge.headers import hide_server_version, security_headers
from portal.platform.edge.hosts import host_middleware
from portal.platform.edge.proxy import forwarded_middleware
from portal.platform.edge.timeouts import timeout_middleware
from portal.platform.installed import check_apps, load_apps, mount_prefix
from portal.platform.keys import settings_key
from portal.platform.lifecycle import freeze_startup_objects
from portal.platform.live.events import EventBus, events_ctx, events_key
from portal.platform.live.sockets import close_sockets, new_socket_registry, sockets_key
from portal.platform.logs import request_log_middleware, setup_app_logging
from portal.platform.policy import HTML_SITE, policy_key
from portal.platform.ratelimit import rate_limit_middleware
from portal.platform.routes import setup_routes
from portal.platform.sessions.storage import platform_session_middleware
from portal.platform.templating import setup_templates
from portal.settings import Settings

__all__ = ["build_root"]


def build_root(settings: Settings, specs: Iterable[AppSpec]) -> web.Application:
    """The root app with its shared services, and each of *specs* mounted at its prefix.

    Order matters: the cleanup contexts are registered before any sub-app is
    mounted (so the engine is open before sub-app start-up hooks run), and each
    sub-app is complete before ``add_subapp`` freezes it.
    """
    # Outermost first: a trusted proxy's client address and scheme are taken
    # (when proxies are configured), every request is logged with its final
    # status (when the access log is on), a response made for one session is
    # marked uncacheable, 404s get a trailing slash tried, errors are
    # formatted, each refusal (401/403/429) is logged as a security event,
    # a request past request_timeout is answered 504,
    # the session is reachable (error pages read it too),
    # a malformed Host is refused (and with debug off an unknown one), a body
    # declared too large is refused unread, and the CSRF check runs; then, in
    # the API's sections, a listed origin's CORS preflight is answered (with
    # cors_origins set) and the request is counted against its client's rate
    # limit (unless api_rate_limit is off).
    # client_max_size bounds what request.post() reads: HTML forms. The API
    # reads its JSON bodies itself, against api_body_limit.
    rate_limit = rate_limit_middleware(settings)
    root = web.Application(
        client_max_size=settings.form_body_limit,
        middlewares=[
            *([forwarded_middleware(settings)] if settings.trusted_proxies else []),
            *([request_log_middleware] if settings.access_log else []),
            private_cache_middleware,
            normalize_path_middleware(append_slash=True, merge_slashes=True),
            error_middleware,
            security_log_middleware,
            timeout_middleware(settings),
            platform_session_middleware(settings),
            host_middleware(settings),
            body_limit_middleware(settings),
            csrf_middleware,
            *([cors_middleware(settings)] if settings.cors_origins else []),
            *([rate_limit] if rate_limit is not None else []),
        ],
    )
    root[settings_key] = settings
    root[policy_key] = HTML_SITE
    root.on_response_prepare.append(security_headers(settings))
    if settings.cors_origins:
        root.on_response_prepare.append(cors_headers(settings))
    hide_server_version()

    if settings.database_url is None:
        root.cleanup_ctx.append(embedded_postgres_ctx)
    else:
        root[database_url_key] = settings.database_url
    root.cleanup_ctx.append(engine_ctx)
    root[events_key] = EventBus()
    root.cleanup_ctx.append(events_ctx)
    root[sockets_key] = new_socket_registry()
    root[hash_slots_key] = hash_slots()
    root[attempt_locks_key] = AttemptLocks()
    root.on_shutdown.append(close_sockets)

    setup_templates(root, reload=settings.debug)
    setup_routes(root)

    # In production static files do not change while the server runs, so
    # their versioned URLs (a hash of the file) are computed once.
    mounts = Mounts(root, cache_static=not settings.debug)
    specs = tuple(specs)
    check_apps(specs, settings)
    for spec in specs:
        mounts.mount(spec, mount_prefix(spec, settings), settings)
    root[mounts_key] = mounts
    # After every sub-app's start-up hook (registered by add_subapp above).
    freeze_startup_objects(root)

    if settings.debug:
        # Imported here so production never loads the toolbar at all.
        from portal.platform.toolbar import setup_toolbar

        setup_toolbar(root)
    return root


def build_site(settings: Settings, apps: Iterable[AppSpec] | None = None) -> web.Application:
    """The whole site for *settings*: logging set up, the root with the installed apps.

    What every server runs (``portal.main``'s factories, ``python -m portal run``);
    *apps* replaces the installed ones (tests mount apps of their own).
    """
    setup_app_logging(settings)
    return build_root(settings, load_apps(settings) if apps is None else apps)
