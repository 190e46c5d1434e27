"""The dev server's own pieces; ``tests/e2e/test_devloop.py`` drives the real ``adev runserver``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp_devtools.runserver.serve import WS

from portal.platform.serve.development import DevServerTask, StartFailure, classify, served_url


@pytest.mark.parametrize(
    ("names", "action"),
    [
        (["views.py"], "restart"),
        (["index.html", "views.py"], "restart"),
        (["site.css"], "styles"),
        (["a.css", "b.CSS"], "styles"),
        (["index.html"], "page"),
        (["results.js"], "page"),
        (["site.css", "index.html"], "page"),
    ],
)
def test_each_kind_of_change_gets_its_action(tmp_path: Path, names: list[str], action: str) -> None:
    paths = [str(tmp_path / name) for name in names]
    for path in paths:
        Path(path).touch()

    assert classify(paths)[0] == action


def test_a_temporary_file_renamed_over_a_stylesheet_is_still_a_style_change(
    tmp_path: Path,
) -> None:
    stylesheet = tmp_path / "site.css"
    stylesheet.touch()
    gone = tmp_path / ".site.css.swp-sed1234"  # written, then renamed over site.css

    assert classify([str(gone), str(stylesheet)]) == ("styles", [str(stylesheet)])


def test_a_deleted_module_restarts_the_server(tmp_path: Path) -> None:
    assert classify([str(tmp_path / "gone.py")])[0] == "restart"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/"),
        ("0.0.0.0", "http://127.0.0.1:8000/"),  # noqa: S104
        ("::1", "http://[::1]:8000/"),
    ],
)
def test_the_url_printed_is_one_that_reaches_the_server(host: str, url: str) -> None:
    assert served_url(host, 8000) == url


def test_a_syntax_error_is_told_in_a_few_lines_naming_the_file() -> None:
    try:
        compile("def broken(:\n    pass\n", "portal/apps/demo/views.py", "exec")
    except SyntaxError as exc:
        failure = StartFailure.of(exc)

    assert "portal/apps/demo/views.py" in failure.summary
    assert "line 1" in failure.summary
    assert failure.summary.endswith("SyntaxError: invalid syntax")
    assert failure.block().count("\n") < 10


def test_an_error_at_start_up_names_the_project_line_that_raised() -> None:
    def start() -> None:
        raise LookupError("no such table")

    try:
        start()
    except LookupError as exc:
        failure = StartFailure.of(exc)

    assert "test_devserver.py" in failure.summary
    assert 'raise LookupError("no such table")' in failure.summary
    assert failure.summary.endswith("LookupError: no such table")
    assert "Traceback" in failure.details


def test_the_failure_page_escapes_what_it_shows() -> None:
    failure = StartFailure("ValueError: <script>alert(1)</script>", "details <b>")

    page = failure.page()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page


class _Page:
    """An open page's livereload socket: what it was sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, data: dict[str, Any]) -> None:
        self.sent.append(data)


class _BrokenWatch:
    def __aiter__(self) -> AsyncIterator[set[tuple[int, str]]]:
        return self

    async def __anext__(self) -> set[tuple[int, str]]:
        raise OSError("inotify watch limit reached")


class _Task(DevServerTask):
    """The watcher with no server process behind it."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._awatch = _BrokenWatch()
        self._reloads = 0

    def _start_dev_server(self, go: object = None) -> None:
        pass


async def test_a_watcher_that_stops_says_so_in_the_terminal_and_on_every_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = web.Application()
    page = _Page()
    app[WS] = {(page, "/polls/")}
    task = _Task(app)

    with caplog.at_level(logging.INFO), pytest.raises(OSError, match="inotify"):
        await task._run()
    assert task._session is not None
    await task._session.close()

    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1
    assert "file watcher stopped" in critical[0].getMessage()
    assert "Restart `make run`" in critical[0].getMessage()
    assert page.sent[0]["command"] == "alert"
    assert "no longer reload" in page.sent[0]["message"]
