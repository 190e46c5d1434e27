"""``docs/apps.md``, followed on a copy of the project so that the tutorial cannot rot.

The test reads the page itself, with the conventions its "How to read this
page" section gives readers:

- a ``console`` block holds commands, each after ``$ ``; the lines under one
  are some of what it prints (``...`` stands for lines left out), and each
  must appear, spaces squeezed, within a line of its output; a command ending
  in ``# exits N`` must exit with N, any other with 0;
- any other block (``python``, ``html+jinja``, ``css``) starts with a comment
  ``file: PATH`` (the whole file), ``edit: PATH`` (the part of the file from
  the block's first line to the next line equal to its last line) or
  ``append: PATH`` (added at the end); ``text``, ``yaml`` and ``json`` blocks
  are only shown.

Commands run in the copy as written, ``.venv/bin/python`` being this
interpreter and ``.venv/bin/X`` ``python -m X``. ``make`` commands are not
run; instead, after each section, the checks :data:`CHECKS` lists for it
verify what the page promises there: they serve the copy with
``python -m portal run`` (for ``make run``) and, besides the app's tests that
the page runs itself, lint and type-check its files (for ``make test``).

The page is followed once, in its order, by one test: each step builds on
the ones before it, and the app's tests run where the page runs them, after
the API section.

This is also startapp's whole promise tested end to end (one command, one
settings line, ``migrate``, the page, the admin, ``routes``, the app's own
tests and lint): ``tests/platform/test_startapp.py`` keeps only what the
tutorial does not show (refusals, the files written).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.platform.db.schema import upgrade
from portal.testing import PASSWORD, TEST_SECRET
from tests.databases import scratch_database
from tests.servers import free_port, portal_command, running

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "apps.md"

#: The files the tutorial writes, which the stand-in for ``make test`` lints.
APP_FILES = ("portal/apps/notes", "tests/apps/notes")

_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^## (.+)$", re.MULTILINE)
_MARKER = re.compile(r"^(?:#|\{#|/\*)\s*(file|edit|append):\s*(\S+?)\s*(?:#\}|\*/)?\s*$")
_EXITS = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")
_SHOWN_ONLY = frozenset({"text", "yaml", "json"})
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True, slots=True)
class Command:
    """A ``$`` line of a console block, with what the page says it prints."""

    line: str
    status: int
    shown: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Edit:
    """A code block: what to write where."""

    #: ``file``, ``edit`` or ``append``.
    kind: str
    path: str
    text: str


Step = Command | Edit


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    steps: tuple[Step, ...]


def _commands(block: str) -> list[Command]:
    commands: list[Command] = []
    line: str | None = None
    shown: list[str] = []
    for text in block.splitlines():
        if text.startswith("$ "):
            if line is not None:
                commands.append(_command(line, shown))
            line, shown = text[2:], []
        elif line is None:
            raise ValueError(f"console block: output before any command: {text!r}")
        elif text.strip() not in ("", "..."):
            shown.append(text)
    if line is not None:
        commands.append(_command(line, shown))
    return commands


def _command(line: str, shown: list[str]) -> Command:
    exits = _EXITS.search(line)
    if exits is None:
        return Command(line.strip(), 0, tuple(shown))
    return Command(line[: exits.start()].strip(), int(exits.group(1)), tuple(shown))


def _edit(language: str, block: str) -> Edit:
    first, _, rest = block.partition("\n")
    marker = _MARKER.match(first)
    if marker is None:
        raise ValueError(
            f"a {language} block must start with `file:`, `edit:` or `append:`: {first!r}"
        )
    return Edit(marker.group(1), marker.group(2), rest)


def read_sections(text: str) -> list[Section]:
    """The page's ``##`` sections, each with its commands and edits in order."""
    headings = list(_HEADING.finditer(text))
    sections = []
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        body = text[heading.end() : following.start() if following else len(text)]
        steps: list[Step] = []
        for fence in _FENCE.finditer(body):
            language, block = fence.group(1).strip(), fence.group(2)
            if language == "console":
                steps.extend(_commands(block))
            elif language not in _SHOWN_ONLY:
                steps.append(_edit(language, block))
        sections.append(Section(heading.group(1).strip(), tuple(steps)))
    return sections


def apply_edit(project: Path, edit: Edit) -> None:
    """Write *edit* into the file it names under *project*."""
    path = project / edit.path
    if edit.kind == "file":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(edit.text)
        return
    current = path.read_text()
    if edit.kind == "append":
        path.write_text(current + edit.text)
        return
    lines, new = current.splitlines(keepends=True), edit.text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == new[0].rstrip("\n")]
    if len(starts) != 1:
        pytest.fail(f"{edit.path}: the line {new[0]!r} is there {len(starts)} times, not once")
    start = starts[0]
    ends = [i for i in range(start, len(lines)) if lines[i].rstrip("\n") == new[-1].rstrip("\n")]
    if not ends:
        pytest.fail(f"{edit.path}: no line {new[-1]!r} after {new[0]!r}")
    path.write_text("".join([*lines[:start], *new, *lines[ends[0] + 1 :]]))


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def missing_output(shown: tuple[str, ...], output: str) -> list[str]:
    """The lines of *shown* that no line of *output* contains, spaces squeezed."""
    lines = [_squeezed(line) for line in output.splitlines()]
    return [line for line in shown if not any(_squeezed(line) in out for out in lines)]


@dataclass
class Tutorial:
    """The copy of the project the page is followed on, and how far it got."""

    project: Path
    env: dict[str, str]
    logs: Path

    def run(self, argv: list[str], stdin: str = "", timeout: float = 180) -> tuple[int, str]:
        """*argv* in the copy; its exit status and its output (stdout, then stderr)."""
        result = subprocess.run(
            argv, cwd=self.project, env=self.env, input=stdin,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        return result.returncode, result.stdout + result.stderr

    def portal(self, *args: str, stdin: str = "") -> str:
        status, output = self.run([sys.executable, "-m", "portal", *args], stdin)
        assert status == 0, output
        return output

    def follow(self, section: Section) -> None:
        """Apply *section*'s steps, then run its checks."""
        for step in section.steps:
            if isinstance(step, Edit):
                apply_edit(self.project, step)
            else:
                self._command(step)
        for check in CHECKS.get(section.title, ()):
            check(self)

    def _command(self, command: Command) -> None:
        argv = shlex.split(command.line)
        if argv[0] == "make":
            return
        if argv[0] == ".venv/bin/python":
            argv[0:1] = [sys.executable]
        elif argv[0].startswith(".venv/bin/"):
            argv[0:1] = [sys.executable, "-m", argv[0].removeprefix(".venv/bin/")]
        else:
            pytest.fail(f"the test does not know how to run {command.line!r}")
        status, output = self.run(argv)
        assert status == command.status, (
            f"$ {command.line} exited {status}, not {command.status}:\n{output[-4000:]}"
        )
        missing = missing_output(command.shown, output)
        assert not missing, f"$ {command.line} did not print {missing}:\n{output[-4000:]}"

    @contextlib.contextmanager
    def site(self) -> Iterator[Browser]:
        """The copy served by ``python -m portal run``, as ``make run`` would serve it."""
        port = free_port()
        log = self.logs / f"server-{port}.log"
        # The copy's first start compiles every module afresh: a longer wait.
        with running(portal_command(port), port, self.env, log, cwd=self.project, within=60):
            yield Browser(f"http://127.0.0.1:{port}")


class Browser:
    """Pages of a running site, with a cookie jar (a login sticks)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        """The status and text of *path* (a POST of *form* when given)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self._opener.open(self.base + path, data=data, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def page(self, path: str) -> str:
        status, text = self.open(path)
        assert status == 200, f"GET {path}: {status}\n{text[:2000]}"
        return text

    def log_in(self, username: str, password: str) -> None:
        token = _CSRF.search(self.page("/login"))
        assert token is not None, "no CSRF token on /login"
        form = {"username": username, "password": password, "csrf_token": token.group(1)}
        status, text = self.open("/login", form)
        assert status == 200, f"login: {status}\n{text[:2000]}"


# What each section promises, checked after its steps.


def _the_page_lists_the_first_entry(tutorial: Tutorial) -> None:
    with tutorial.site() as site:
        assert "The first notes entry" in site.page("/notes/")
        assert 'href="/notes/"' in site.page("/")


def _each_entry_has_its_page(tutorial: Tutorial) -> None:
    with tutorial.site() as site:
        assert 'href="/notes/1/"' in site.page("/notes/")
        assert "<h1>The first notes entry</h1>" in site.page("/notes/1/")
        status, _ = site.open("/notes/12345/")
        assert status == 404


def _the_admin_lists_the_body(tutorial: Tutorial) -> None:
    tutorial.portal(
        "createsuperuser", "--username", "admin", "--password-stdin", stdin=f"{PASSWORD}\n"
    )
    with tutorial.site() as site:
        site.log_in("admin", PASSWORD)
        listing = site.page("/admin/notes/notes_entry/")
        assert re.search(r"<th[^>]*>\s*(<a[^>]*>)?\s*Body\b", listing), listing[:3000]
        assert 'name="body"' in site.page("/admin/notes/notes_entry/1/")


def _the_api_serves_the_entries(tutorial: Tutorial) -> None:
    with tutorial.site() as site:
        page = json.loads(site.page("/api/notes/"))
        assert [item["title"] for item in page["items"]] == ["The first notes entry"]
        assert json.loads(site.page("/api/notes/1"))["url"] == "/api/notes/1"
        paths = json.loads(site.page("/api/openapi.json"))["paths"]
        assert {"/api/notes/", "/api/notes/{entry_id}"} <= set(paths)


def _the_app_is_lint_clean(tutorial: Tutorial) -> None:
    """What ``make test`` adds to the app's tests: ruff and ``mypy --strict`` on its files."""
    for tool in (["ruff", "check"], ["ruff", "format", "--check"], ["mypy"]):
        status, output = tutorial.run([sys.executable, "-m", *tool, *APP_FILES])
        assert status == 0, f"{' '.join(tool)}:\n{output[-4000:]}"


CHECKS: dict[str, tuple[Callable[[Tutorial], None], ...]] = {
    "Install it": (_the_page_lists_the_first_entry,),
    "Give each entry a page": (_each_entry_has_its_page,),
    "Show the new column in the admin": (_the_admin_lists_the_body,),
    "Serve it in the API": (_the_api_serves_the_entries,),
    "Run the tests": (_the_app_is_lint_clean,),
}


@pytest.fixture(scope="module")
def sections() -> list[Section]:
    found = read_sections(PAGE.read_text())
    titles = [section.title for section in found]
    missing = sorted(set(CHECKS) - set(titles))
    assert not missing, f"no section titled {missing} in {PAGE}"
    return found


@pytest.fixture(scope="module")
def tutorial(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tutorial]:
    """A copy of the project (``portal/``, ``tests/``, ``pyproject.toml``), its own database."""
    root = tmp_path_factory.mktemp("tutorial")
    project = root / "project"
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".mypy_cache")
    for folder in ("portal", "tests"):
        shutil.copytree(REPO / folder, project / folder, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    _without_notes(project)
    # make test runs mypy before pytest: starting from its cache saves ~20 s
    # (a cache that cannot be copied only costs that time).
    with contextlib.suppress(OSError, shutil.Error):
        shutil.copytree(REPO / ".mypy_cache", root / "mypy-cache")
    with (
        scratch_database(database_url, "portal_tutorial") as database,
        # The page's pytest command empties its database between tests: not the site's.
        scratch_database(database_url, "portal_tutorial_tests") as tests_database,
    ):
        # Only the platform's tables: the copy's own migrate makes the rest (this
        # project's apps may differ from the copy's, by a notes app for one).
        upgrade(database, ())
        upgrade(tests_database, ())
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env.update(
            PYTHONPATH=str(project),
            PORTAL_DATABASE_URL=database,
            PORTAL_TEST_DATABASE_URL=tests_database,
            PORTAL_DATA_DIR=str(root / "data"),
            PORTAL_SECRET_KEY=TEST_SECRET,
            PORTAL_FAST_PASSWORD_HASHING="1",
            MYPY_CACHE_DIR=str(root / "mypy-cache"),
            RUFF_CACHE_DIR=str(root / "ruff-cache"),
        )
        yield Tutorial(project, env, root)


def _without_notes(project: Path) -> None:
    """The copy as it was before the tutorial, should this project have followed it.

    Someone who has just followed the page has a notes app installed; ``startapp
    notes`` would then refuse, and ``make test`` fail on the tutorial itself.
    """
    for folder in (project / "portal" / "apps" / "notes", project / "tests" / "apps" / "notes"):
        shutil.rmtree(folder, ignore_errors=True)
    apps = project / "portal" / "apps" / "__init__.py"
    lines = apps.read_text().splitlines(keepends=True)
    apps.write_text("".join(line for line in lines if line.strip() != '"portal.apps.notes",'))


def test_the_tutorial_works_step_by_step(sections: list[Section], tutorial: Tutorial) -> None:
    """Every section in order: create, install, migrate, change the table, a page,
    the admin, the tests, the API, then the app's tests and lint."""
    for section in sections:
        tutorial.follow(section)
