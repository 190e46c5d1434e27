"""The polls routes; names are reversed as ``polls:<name>``."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from portal.apps.polls import views

__all__ = ["setup_routes"]

_STATIC = Path(__file__).resolve().parent / "static"


def setup_routes(app: web.Application) -> None:
    """Index, detail, vote, results and the app's own static files."""
    app.router.add_get("/", views.index, name="index")
    # ASCII digits: ``\d`` also matches other scripts' digits, a second URL for each page.
    app.router.add_get("/{question_id:[0-9]+}/", views.detail, name="detail")
    app.router.add_post("/{question_id:[0-9]+}/vote", views.vote, name="vote")
    app.router.add_get("/{question_id:[0-9]+}/results", views.results, name="results")
    app.router.add_get("/{question_id:[0-9]+}/live", views.live, name="live")
    app.router.add_static("/static/", _STATIC, name="static", append_version=True)
