"""``startapp``: a new app that works once installed, and a refusal that writes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portal import cli
from portal.testing import migrated_database

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project: the folders startapp writes into."""
    (tmp_path / "portal" / "apps").mkdir(parents=True)
    (tmp_path / "tests" / "apps").mkdir(parents=True)
    return tmp_path


def _files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Notes", "not a lowercase identifier"),
        ("my-notes", "not a lowercase identifier"),
        ("class", "not a lowercase identifier"),
        ("polls", "an installed app is already named 'polls'"),
        ("json", "the name of a Python module already"),
        ("static", "would hide the site's own /static"),
        ("login", "would hide the site's own /login"),
    ],
)
def test_a_bad_name_is_refused_and_nothing_is_written(
    project: Path, name: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["startapp", name, "--project", str(project)])

    assert status == 1
    assert reason in capsys.readouterr().err
    assert _files(project) == []


def test_an_existing_folder_is_refused_and_left_as_it_is(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "tests" / "apps" / "notes").mkdir()

    status = cli.main(["startapp", "notes", "--project", str(project)])

    assert status == 1
    assert "exists already" in capsys.readouterr().err
    assert not (project / "portal" / "apps" / "notes").exists()


def test_the_new_app_and_its_tests_are_written_with_the_line_to_install_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["startapp", "notes", "--project", str(project)]) == 0

    assert _files(project) == [
        "portal/apps/notes/__init__.py",
        "portal/apps/notes/admin.py",
        "portal/apps/notes/app.py",
        "portal/apps/notes/migrations/notes_0001_initial.py",
        "portal/apps/notes/queries.py",
        "portal/apps/notes/routes.py",
        "portal/apps/notes/seed.py",
        "portal/apps/notes/static/notes.css",
        "portal/apps/notes/tables.py",
        "portal/apps/notes/templates/notes/index.html",
        "portal/apps/notes/views.py",
        "tests/apps/notes/__init__.py",
        "tests/apps/notes/test_notes.py",
    ]
    assert '    "portal.apps.notes",' in capsys.readouterr().out.splitlines()


def test_installed_the_new_app_migrates_serves_and_passes_its_own_tests(
    database_url: str, tmp_path: Path
) -> None:
    """The whole promise, on a copy of the project: one command, one settings line."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache")
    for folder in ("portal", "tests"):
        shutil.copytree(REPO / folder, copy / folder, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PYTHONPATH"] = str(copy)

    def portal(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portal", *args],
            cwd=copy, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    made = portal("startapp", "notes")
    assert made.returncode == 0, made.stderr
    apps = copy / "portal" / "apps" / "__init__.py"
    line = '    "portal.apps.notes",\n'
    apps.write_text(apps.read_text().replace("]\n", line + "]\n"))
    database = migrated_database(database_url, "portal_startapp")
    env["PORTAL_DATABASE_URL"] = database
    assert portal("migrate").returncode == 0
    assert "notes:index" in portal("routes").stdout

    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "portal/apps/notes", "tests/apps/notes"],
        cwd=copy, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout
    tests = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
            "tests/apps/notes", "tests/platform/test_route_inventory.py",
        ],
        cwd=copy, env={**env, "PORTAL_TEST_DATABASE_URL": database},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:]
