"""Jinja2 for every app: one environment per app, all reaching the shared layout.

``url('polls:detail', question_id=1)`` and ``static('polls:polls.css')`` work
in any app's templates, unlike aiohttp-jinja2's ``url()``, which only sees the
routes of the app owning the environment (aiohttp issue #2314).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import get_session
from markupsafe import Markup

from portal.platform.appspec import Mounts, mounts_key
from portal.platform.auth.current import current_user
from portal.platform.edge.caching import mark_private
from portal.platform.edge.csrf import CSRF_FIELD, session_csrf_token
from portal.platform.keys import settings_key
from portal.platform.sessions.flash import pop_flashes

__all__ = ["SHARED_TEMPLATES", "TemplateRecorder", "render", "setup_templates", "template_recorder"]

#: The shared layout and error pages every environment can extend.
SHARED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

#: Told of each template :func:`render` renders, with its whole context.
TemplateRecorder = Callable[[str, Mapping[str, Any]], None]
#: Set only by the debug toolbar (its templates panel), for one request; with
#: debug off it stays None and costs one lookup per render.
template_recorder: ContextVar[TemplateRecorder | None] = ContextVar(
    "portal_template_recorder", default=None
)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates, shared by every environment :func:`setup_templates` makes.

    Each app's environment would otherwise compile the shared layout again, and
    a test suite, building the site for every test, every template for every
    test (~20 ms each). The environments compile alike (same options), and
    Jinja2 checks an entry against the template's source, so an edited
    template is compiled afresh.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


@jinja2.pass_context
def _url(
    context: Mapping[str, Any], name: str, query_: Mapping[str, Any] | None = None, **parts: Any
) -> str:
    request: web.Request = context["request"]
    return str(request.config_dict[mounts_key].url(name, query=query_, **parts))


@jinja2.pass_context
def _static(context: Mapping[str, Any], name: str) -> str:
    request: web.Request = context["request"]
    return str(request.config_dict[mounts_key].static(name))


def setup_templates(
    app: web.Application, templates: Path | None = None, *, reload: bool
) -> jinja2.Environment:
    """Give *app* its own Jinja2 environment over *templates* plus the shared ones.

    An app keeps its templates under ``templates/<app>/`` so two apps'
    ``index.html`` never collide. With *reload* (debug) an edited template is
    picked up at once; without it, no render stats the template files.
    """
    folders = [SHARED_TEMPLATES] if templates is None else [templates, SHARED_TEMPLATES]
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader([str(folder) for folder in folders]),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=reload,
        bytecode_cache=_COMPILED,
    )
    env.globals.update(url=_url, static=_static)
    return env


async def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """Render *template* with the platform's context: user, messages, CSRF, apps."""
    session = await get_session(request)
    mounts: Mounts = request.config_dict[mounts_key]

    def csrf_input() -> Markup:
        token = session_csrf_token(session)
        mark_private(request)  # a cached copy would hand this token to the next visitor
        # Both interpolated values are escaped by Markup.format.
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)

    base: dict[str, Any] = {
        "request": request,
        "user": await current_user(request),
        "messages": pop_flashes(session),
        "csrf_input": csrf_input,
        "debug": request.config_dict[settings_key].debug,
        "mounted": list(mounts),
    }
    base.update(context or {})
    recorder = template_recorder.get()
    if recorder is not None:
        recorder(template, base)
    return aiohttp_jinja2.render_template(template, request, base, status=status)
