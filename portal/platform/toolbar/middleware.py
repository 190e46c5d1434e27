"""The toolbar's middleware: which requests it records, with which status, and its handle.

It replaces aiohttp-debugtoolbar's own middleware, which recorded every
request it saw (static files filled the ten-entry history: one results page
took four), took a response's status before it was sent (a static file's 404
or 304 is only decided while sending, so it was listed as 200), dropped a
redirect raised past the error pages, and injected a handle that opened the
toolbar in a new window, labelled "FIXME: Debug Toolbar".

Static files, ``/favicon.ico``, WebSocket upgrades and the toolbar's own
pages pass straight through: no panel runs for them and none is recorded.
"""

from __future__ import annotations

import html
import ipaddress
import secrets
import sys
import warnings
from collections.abc import Sequence
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_exceptions import NotAppKeyWarning
from aiohttp_debugtoolbar.tbtools.tbtools import get_traceback
from aiohttp_debugtoolbar.toolbar import DebugToolbar
from aiohttp_debugtoolbar.utils import APP_KEY, AppState, ContextSwitcher

from portal.platform.live.sockets import socket_observer
from portal.platform.toolbar.sockets import socket_log_key

__all__ = ["record_sent_status", "toolbar_middleware"]

_HTML_TYPES: Final = ("text/html", "application/xhtml+xml")
_REQUEST_ROUTE: Final = "debugtoolbar.request"
_MAIN_ROUTE: Final = "debugtoolbar.main"

_toolbar_key = web.RequestKey("portal_toolbar", DebugToolbar)

# In the page's flow, after its last element: it takes room of its own
# instead of floating over buttons and text, at any width. A plain link, so
# the toolbar opens in the same tab; its page links back here.
_HANDLE: Final = """\
<div id="pDebug" style="clear:both;display:flex;justify-content:flex-end;\
padding:.75rem 1rem;margin:0;background:none">\
<a id="pShowToolBarButton" href="{url}" title="Open the debug toolbar for this request" \
style="font:600 13px/1.4 system-ui,sans-serif;color:#fff;background:#2f3b4f;\
padding:.3rem .75rem;border-radius:.3rem;text-decoration:none">Debug toolbar</a></div>
"""
# At the top of the content, not in the fixed navbar: there it wrapped to a
# second line at phone width and the navbar grew over the panels' tabs.
_BACK: Final = """\
<p style="margin:.5rem 0"><a id="pDebugBack" href="{url}">&larr; {label}</a></p>
"""


def _insert(document: bytes, marker: bytes, snippet: bytes, *, before: bool) -> bytes | None:
    """*document* with *snippet* next to its last *marker* (any case), or None without one."""
    at = document.lower().rfind(marker.lower())
    if at < 0:
        return None
    at = at if before else at + len(marker)
    return document[:at] + snippet + document[at:]


def _html_page(response: web.StreamResponse) -> tuple[web.Response, bytes] | None:
    """*response* and its body, if it is an HTML page held in memory (not a file, not streamed)."""
    if not isinstance(response, web.Response) or response.content_type not in _HTML_TYPES:
        return None
    body = response.body
    return (response, body) if isinstance(body, bytes) else None


def _is_local(request: web.Request, networks: Sequence[str]) -> bool:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer or not isinstance(peer, tuple):
        return False  # a Unix socket, or gone
    address = ipaddress.ip_address(peer[0])
    return any(address in ipaddress.ip_network(network) for network in networks)


def _passes_through(request: web.Request) -> bool:
    """Whether *request* is for an asset or a socket: nothing to show, nothing to record."""
    if request.path == "/favicon.ico":
        return True
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return True
    resource = request.match_info.route.resource
    return isinstance(resource, web.StaticResource)


@web.middleware
async def toolbar_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run the panels around each page request of this machine's and record it."""
    state = request.app[APP_KEY]
    settings = state["settings"]
    token = socket_observer.set(request.app[socket_log_key])
    try:
        if request.path.startswith(settings["path_prefix"]):
            return _with_way_back(request, await handler(request), state)
        if _passes_through(request) or not _is_local(request, settings["hosts"]):
            return await handler(request)
        return await _recorded(request, handler, state)
    finally:
        socket_observer.reset(token)


async def _recorded(request: web.Request, handler: Handler, state: AppState) -> web.StreamResponse:
    settings = state["settings"]
    panels = settings["panels"] + settings["extra_panels"]
    toolbar = DebugToolbar(request, panels, settings["global_panels"])  # type: ignore[no-untyped-call]
    switcher = ContextSwitcher()  # type: ignore[no-untyped-call]
    wrapped = handler
    for panel in toolbar.panels:
        wrapped = panel.wrap_handler(wrapped, switcher)
    request[_toolbar_key] = toolbar
    request_id = secrets.token_hex(8)
    try:
        response: web.StreamResponse = await switcher(wrapped(request))
    except web.HTTPException as exc:
        # Raised past the error pages, which answer only 4xx and 5xx: a redirect.
        await _record(request_id, toolbar, exc, state)
        raise
    except Exception:
        if not settings["intercept_exc"]:
            raise
        response = _traceback_page(request, state)
    await _record(request_id, toolbar, response, state)
    page = _html_page(response)
    if page is not None:
        html_response, body = page
        url = request.app.router[_REQUEST_ROUTE].url_for(request_id=request_id)
        snippet = _HANDLE.format(url=html.escape(str(url)))
        injected = _insert(
            body, b"</body>", snippet.encode(html_response.charset or "utf-8"), before=True
        )
        if injected is not None:
            html_response.body = injected
    return response


async def _record(
    request_id: str, toolbar: DebugToolbar, response: web.StreamResponse, state: AppState
) -> None:
    # Provisional: record_sent_status() sets what is really sent.
    toolbar.status = response.status
    await toolbar.process_response(toolbar.request, response)  # type: ignore[no-untyped-call]
    state["request_history"].put(request_id, toolbar)  # type: ignore[no-untyped-call]


def _traceback_page(request: web.Request, state: AppState) -> web.Response:
    """The library's interactive traceback for the exception being handled."""
    info = sys.exc_info()
    traceback = get_traceback(  # type: ignore[no-untyped-call]
        info=info,
        skip=1,
        show_hidden_frames=False,
        ignore_system_exceptions=True,
        exc=info[1],
        app=request.app,
    )
    history = state["exc_history"]
    for frame in traceback.frames:
        history.frames[frame.id] = frame
    history.tracebacks[traceback.id] = traceback
    # The library's traceback panel reads this string key; aiohttp warns
    # (once per process) about string keys, which are the library's choice.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotAppKeyWarning)
        request["pdbt_tb"] = traceback
    body = traceback.render_full(request).encode("utf-8", "replace")
    return web.Response(body=body, status=500, content_type="text/html")


async def record_sent_status(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the status a recorded request really sent.

    A file response settles its status (404 for a missing file, 304, 206)
    only while being sent, after every middleware has returned.
    """
    toolbar = request.get(_toolbar_key)
    if toolbar is not None:
        toolbar.status = response.status


def _with_way_back(
    request: web.Request, response: web.StreamResponse, state: AppState
) -> web.StreamResponse:
    """The toolbar's page, with a link back to the page it shows (it opens in the same tab)."""
    page = _html_page(response)
    if page is None or request.match_info.route.name not in (_REQUEST_ROUTE, _MAIN_ROUTE):
        return response
    html_response, body = page
    history = state["request_history"]
    request_id = request.match_info.get("request_id")
    if request_id is None and history:
        request_id = history[0][0]  # the page shows the latest request
    shown = history.get(request_id) if request_id else None  # type: ignore[no-untyped-call]
    if shown is not None and shown.request.method == "GET":
        url, label = shown.request.path_qs, f"Back to {shown.request.path_qs}"
    else:
        url, label = "/", "Back to the site"
    link = _BACK.format(url=html.escape(url), label=html.escape(label))
    marked = _insert(
        body, b'<div id="content" class="container-fluid">', link.encode(), before=False
    )
    html_response.body = marked or _insert(body, b"<body>", link.encode(), before=False) or body
    return response
