"""The admin's routes, reversed as ``admin:<name>``; GET shows, POST changes.

``{app}`` and ``{table}`` are looked up among the registrations by the views
(an unknown one is a 404); the patterns only keep out what no name can be.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from portal.platform.admin import bulk_views, edit_views, views

__all__ = ["setup_routes"]

_STATIC = Path(__file__).resolve().parent / "static"
_TABLE = "/{app:[a-z][a-z0-9_]*}/{table:[a-z][a-z0-9_]*}"
# ASCII digits: ``\d`` also matches other scripts' digits, a second URL for each row.
_ROW = _TABLE + "/{row_id:[0-9]+}"


def setup_routes(app: web.Application) -> None:
    """The dashboard, each table's list, bulk actions, forms, deletion and history."""
    router = app.router
    router.add_get("/", views.index, name="index")
    router.add_get(_TABLE + "/", views.changelist_page, name="list")
    router.add_get(_TABLE + "/bulk", bulk_views.confirm, name="bulk")
    router.add_post(_TABLE + "/bulk", bulk_views.apply, name="bulk_apply")
    router.add_get(_TABLE + "/add", edit_views.add_form, name="add")
    router.add_post(_TABLE + "/add", edit_views.add, name="add_submit")
    router.add_get(_ROW + "/", edit_views.change_form, name="change")
    router.add_post(_ROW + "/", edit_views.change, name="change_submit")
    router.add_get(_ROW + "/delete", edit_views.delete_form, name="delete")
    router.add_post(_ROW + "/delete", edit_views.delete, name="delete_submit")
    router.add_get(_ROW + "/history", views.history_page, name="history")
    router.add_static("/static/", _STATIC, name="static", append_version=True)
