"""A page on another origin calls the API with ``fetch``, in a real browser.

One portal server for the module, with ``cors_origins`` naming the page
server's origin ``http://127.0.0.1:<port>``. The same page served as
``http://localhost:<port>`` is another origin, not listed: the browser must
keep it from reading the API, and its preflight keeps the write from being
sent at all.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from portal.platform.auth import passwords
from portal.platform.auth.tables import api_tokens, users
from portal.platform.auth.tokens import generate_token
from portal.testing import PASSWORD, truncate_all
from tests.servers import Server, free_port, portal_command, running, server_env

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<title>another origin</title>
<pre id="result"></pre>
<script src="call-api.js"></script>
"""

# Each call on its own, so a refused read does not hide what the write did.
SCRIPT = """
const params = new URLSearchParams(location.search);
const api = params.get("api");
async function attempt(call) {
  try { return await call(); } catch (error) { return {error: String(error)}; }
}
(async () => {
  const read = await attempt(async () => {
    const response = await fetch(api + "/api/todos/");
    return {status: response.status, items: (await response.json()).items.length};
  });
  const write = await attempt(async () => {
    const response = await fetch(api + "/api/todos/", {
      method: "POST",
      headers: {
        "Authorization": "Bearer " + params.get("token"),
        "Content-Type": "application/json",
      },
      body: JSON.stringify({name: "sent from " + location.origin}),
    });
    return {status: response.status, location: response.headers.get("Location")};
  });
  document.getElementById("result").textContent = JSON.stringify({read, write});
})();
"""


@pytest.fixture(scope="module")
def page_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A static server for the calling page, on 127.0.0.1, in a thread; its port."""
    folder = tmp_path_factory.mktemp("other-origin")
    (folder / "index.html").write_text(PAGE)
    (folder / "call-api.js").write_text(SCRIPT)
    handler = partial(_QuietHandler, directory=str(folder))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def cors_site(
    e2e_database: str, page_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``python -m portal run`` allowing the page server's 127.0.0.1 origin."""
    folder = tmp_path_factory.mktemp("cors-site")
    port = free_port()
    env = {
        **server_env(e2e_database, folder / "data"),
        "PORTAL_CORS_ORIGINS": f"http://127.0.0.1:{page_port}",
    }
    with running(portal_command(port), port, env, folder / "server.log") as server:
        yield server


@pytest.fixture
def token(e2e_database: str) -> str:
    """A write token of a new user, on an otherwise empty database."""
    truncate_all(e2e_database)
    secret, token_hash = generate_token()
    engine = sa.create_engine(e2e_database, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            user_id = conn.execute(
                users.insert()
                .values(username="client", password_hash=passwords.hasher().hash(PASSWORD))
                .returning(users.c.id)
            ).scalar_one()
            conn.execute(
                api_tokens.insert().values(user_id=user_id, name="spa", token_hash=token_hash)
            )
    finally:
        engine.dispose()
    return secret


def call_from(page: Page, origin: str, api: str, token: str) -> dict[str, Any]:
    """What the page at *origin* could read of its two calls to *api*."""
    page.goto(f"{origin}/index.html?api={api}&token={token}")
    result = page.locator("#result")
    result.filter(has_text="write").wait_for()
    found: dict[str, Any] = json.loads(result.text_content() or "{}")
    return found


def test_a_listed_origin_reads_and_writes_through_the_api(
    page: Page, cors_site: Server, page_port: int, token: str
) -> None:
    result = call_from(page, f"http://127.0.0.1:{page_port}", cors_site.url, token)

    assert result == {
        "read": {"status": 200, "items": 0},
        "write": {"status": 201, "location": "/api/todos/1"},
    }


def test_an_unlisted_origin_can_neither_read_nor_write(
    page: Page, cors_site: Server, page_port: int, token: str, e2e_database: str
) -> None:
    result = call_from(page, f"http://localhost:{page_port}", cors_site.url, token)

    assert result == {
        "read": {"error": "TypeError: Failed to fetch"},
        "write": {"error": "TypeError: Failed to fetch"},
    }
    # The preflight was refused, so the write itself was never sent.
    engine = sa.create_engine(e2e_database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM todo")).scalar_one() == 0
    finally:
        engine.dispose()
