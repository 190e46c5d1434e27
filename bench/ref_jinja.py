"""The bare aiohttp-jinja2 reference for portal's polls index page.

Renders portal's own ``polls/index.html`` (which extends portal's
``base.html``) with the same Jinja2 options as portal, from the same query,
through aiohttp-jinja2 alone: its built-in ``url()`` over named resources of
this one router, a ``static()`` over aiohttp's versioned static routes, and
the minimal context the layout reads (nobody logged in, no messages).

It is meant as the floor, so it does nothing per request that a tuned bare
app would not: templates are not re-checked on disk (``auto_reload=False``)
and each static file's versioned URL is computed once at start-up, not
re-hashed per render as ``url_for(..., append_version=True)`` would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import aiohttp_jinja2
import jinja2
import sqlalchemy as sa
from aiohttp import web

from bench.ref_tables import question

__all__ = ["NAV", "POLLS_STATIC", "SHARED_STATIC", "engine_key", "polls_index", "setup_page"]

_PORTAL = Path(__file__).resolve().parent.parent / "portal"
_TEMPLATES = (_PORTAL / "apps" / "polls" / "templates", _PORTAL / "templates")
POLLS_STATIC = _PORTAL / "apps" / "polls" / "static"
SHARED_STATIC = _PORTAL / "static"

#: The shared ``aiopg.sa`` engine of the reference app.
engine_key: web.AppKey[Any] = web.AppKey("engine_key")


class _Spec(NamedTuple):
    name: str
    title: str
    index_route: str = "index"


class _Mounted(NamedTuple):
    spec: _Spec


#: The navigation portal's layout lists: each mounted app's name and title.
NAV = tuple(
    _Mounted(_Spec(name, title))
    for name, title in (("polls", "Polls"), ("todos", "Todos"), ("api", "API"), ("admin", "Admin"))
)


def _static_urls(app: web.Application) -> dict[str, str]:
    # "polls:polls.css" names a file of the polls static route, "portal.css" a shared one.
    urls = {}
    routes = (("polls:", "polls:static", POLLS_STATIC), ("", "static", SHARED_STATIC))
    for prefix, route, folder in routes:
        for path in folder.iterdir():
            if path.is_file():
                urls[prefix + path.name] = str(app.router[route].url_for(filename=path.name))
    return urls


def setup_page(app: web.Application) -> None:
    """Add the page, its static routes and the named resources its links resolve to."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader([str(folder) for folder in _TEMPLATES]),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    app.router.add_get("/polls/", polls_index, name="polls:index")
    app.router.add_static("/polls/static/", POLLS_STATIC, name="polls:static", append_version=True)
    app.router.add_static("/static/", SHARED_STATIC, name="static", append_version=True)
    env.globals["static"] = _static_urls(app).__getitem__
    # Link targets only: aiohttp-jinja2's url() reverses them, nothing serves them.
    for path, name in (
        ("/", "home"),
        ("/login", "login"),
        ("/logout", "logout"),
        ("/polls/{question_id}/", "polls:detail"),
        ("/todos/", "todos:index"),
        ("/admin/", "admin:index"),
    ):
        app.router.add_resource(path, name=name)


async def polls_index(request: web.Request) -> web.Response:
    """The latest ten published questions, rendered with portal's template."""
    query = (
        sa.select(question)
        .where(question.c.pub_date <= sa.func.now())
        .order_by(question.c.pub_date.desc(), question.c.id.desc())
        .limit(10)
    )
    async with request.app[engine_key].acquire() as conn:
        questions = [row async for row in await conn.execute(query)]
    context = {
        "request": request,
        "user": None,
        "messages": (),
        "debug": False,
        "mounted": NAV,
        "questions": questions,
    }
    return aiohttp_jinja2.render_template("polls/index.html", request, context)
