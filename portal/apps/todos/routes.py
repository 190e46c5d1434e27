"""The todos routes; names are reversed as ``todos:<name>``."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from portal.apps.todos import views

__all__ = ["setup_routes"]

_STATIC = Path(__file__).resolve().parent / "static"


def setup_routes(app: web.Application) -> None:
    """The list, its three forms' targets and the app's own static files."""
    app.router.add_get("/", views.index, name="index")
    app.router.add_post("/", views.add, name="add")
    # ASCII digits: ``\d`` also matches other scripts' digits, a second URL for each page.
    app.router.add_post("/{todo_id:[0-9]+}/toggle", views.toggle, name="toggle")
    app.router.add_post("/{todo_id:[0-9]+}/delete", views.delete, name="delete")
    app.router.add_get("/live", views.live, name="live")
    app.router.add_static("/static/", _STATIC, name="static", append_version=True)
