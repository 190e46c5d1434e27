"""The root's routes, declared as data; each named, so links never hard-code a path."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from portal.platform import views
from portal.platform.auth import views as auth_views

__all__ = ["RESERVED_PATHS", "SHARED_STATIC", "setup_routes"]

#: The root's own paths, which no app's prefix may cover: those added below,
#: the Prometheus endpoint and the debug toolbar's pages.
RESERVED_PATHS = (
    "/login",
    "/logout",
    "/healthz",
    "/readyz",
    "/favicon.ico",
    "/static/",
    "/metrics",
    "/_debugtoolbar/",
)

SHARED_STATIC = Path(__file__).resolve().parent.parent / "static"
_FAVICON = SHARED_STATIC / "favicon.ico"


async def _favicon(request: web.Request) -> web.StreamResponse:
    # Browsers ask for /favicon.ico on every site (the toolbar's pages too):
    # without it each page view logs a 404.
    return web.FileResponse(_FAVICON, headers={"Cache-Control": "public, max-age=86400"})


def setup_routes(app: web.Application) -> None:
    """Add the home page, login/logout, health checks and the shared static files."""
    app.router.add_get("/", views.home, name="home")
    app.router.add_get("/login", auth_views.login_form, name="login")
    app.router.add_post("/login", auth_views.login, name="login_submit")
    app.router.add_post("/logout", auth_views.logout, name="logout")
    app.router.add_get("/healthz", views.healthz, name="healthz")
    app.router.add_get("/readyz", views.readyz, name="readyz")
    app.router.add_get("/favicon.ico", _favicon, name="favicon")
    app.router.add_static("/static/", SHARED_STATIC, name="static", append_version=True)
