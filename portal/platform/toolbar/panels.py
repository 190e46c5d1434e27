"""The toolbar's panels for one request: SQL, templates, and the library's, redacted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pprint import saferepr
from typing import Any, Final

from aiohttp import web
from aiohttp_debugtoolbar.panels import HeaderDebugPanel, RequestVarsDebugPanel
from aiohttp_debugtoolbar.panels.base import DebugPanel
from aiohttp_session import Session

from portal.platform.db.tracing import QueryRecord, recording
from portal.platform.templating import template_recorder
from portal.platform.toolbar.redaction import REDACTED, is_secret_field, redact_headers

__all__ = ["HeadersPanel", "RenderedTemplate", "RequestVarsPanel", "SQLPanel", "TemplatesPanel"]

#: A context value's repr is cut here: a page's context can hold long lists.
_REPR_LIMIT: Final = 400


def shown(name: object, value: object) -> str:
    """How the toolbar shows *value* under *name*: a short repr, or redacted."""
    if is_secret_field(name):
        return REDACTED
    text = saferepr(value)
    return text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT] + "…"


class SQLPanel(DebugPanel):
    """Every statement the request ran through the shared engine.

    With the values it ran with and its duration, the total, and the
    statements that ran more than once (the N+1 smell).
    """

    name = "SQL"
    has_content = True
    template = "portal_sql.jinja2"
    title = "SQL queries"
    nav_title = "SQL"

    def __init__(self, request: web.Request) -> None:
        super().__init__(request)  # type: ignore[no-untyped-call]
        self._records: list[QueryRecord] = []

    def wrap_handler(self, handler: Any, context_switcher: Any) -> Any:
        async def traced(request: web.Request) -> web.StreamResponse:
            async with recording() as records:
                try:
                    return await handler(request)  # type: ignore[no-any-return]
                finally:
                    self._records = list(records)

        return traced

    async def process_response(self, response: web.StreamResponse) -> None:
        counts = Counter(record.sql for record in self._records)
        total = sum(record.duration_ms for record in self._records)
        self.data = {
            "queries": self._records,
            "total_ms": total,
            "repeated": [(sql, n) for sql, n in counts.most_common() if n > 1],
        }
        self.nav_subtitle = f"{len(self._records)} in {total:.1f} ms"


@dataclass(frozen=True, slots=True)
class RenderedTemplate:
    """One template :func:`portal.platform.templating.render` rendered, and its context."""

    name: str
    context: list[tuple[str, str]]


class TemplatesPanel(DebugPanel):
    """The templates the request rendered, in order, each with its context."""

    name = "Templates"
    has_content = True
    template = "portal_templates.jinja2"
    title = "Templates rendered"
    nav_title = "Templates"

    def __init__(self, request: web.Request) -> None:
        super().__init__(request)  # type: ignore[no-untyped-call]
        self._rendered: list[RenderedTemplate] = []

    def _record(self, name: str, context: Any) -> None:
        # Shown as it was when rendered: the values may change afterwards.
        pairs = [(str(key), shown(key, value)) for key, value in context.items()]
        self._rendered.append(RenderedTemplate(name, pairs))

    def wrap_handler(self, handler: Any, context_switcher: Any) -> Any:
        async def recorded(request: web.Request) -> web.StreamResponse:
            token = template_recorder.set(self._record)
            try:
                return await handler(request)  # type: ignore[no-any-return]
            finally:
                template_recorder.reset(token)

        return recorded

    async def process_response(self, response: web.StreamResponse) -> None:
        self.data = {"rendered": self._rendered}
        self.nav_subtitle = str(len(self._rendered))


class HeadersPanel(HeaderDebugPanel):
    """The library's headers panel, with credentials redacted."""

    def __init__(self, request: web.Request) -> None:
        super().__init__(request)  # type: ignore[no-untyped-call]
        self._request_headers = redact_headers(self._request_headers)

    async def process_response(self, response: web.StreamResponse) -> None:
        await super().process_response(response)  # type: ignore[no-untyped-call]
        self.data["response_headers"] = redact_headers(self.data["response_headers"])


class RequestVarsPanel(RequestVarsDebugPanel):
    """The library's request variables, without cookie values, CSRF tokens or passwords."""

    async def process_response(self, response: web.StreamResponse) -> None:
        await super().process_response(response)  # type: ignore[no-untyped-call]
        data = self.data
        # Every cookie: the session cookie is the session itself.
        data["cookies"] = [(name, REDACTED) for name, _ in data["cookies"]]
        # The library has made each field's values a repr already.
        data["post"] = [
            (name, REDACTED if is_secret_field(name) else values) for name, values in data["post"]
        ]
        if "session" in data:
            data["session"] = [(key, shown(key, value)) for key, value in data["session"]]
        # The session object's repr prints its contents, CSRF token included.
        data["attrs"] = [
            (key, REDACTED if isinstance(value, Session) else shown(key, value))
            for key, value in data["attrs"]
        ]
