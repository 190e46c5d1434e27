"""``startapp``: a new app that works once installed, and a refusal that writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project: the folders startapp writes into."""
    (tmp_path / "portal" / "apps").mkdir(parents=True)
    (tmp_path / "tests" / "apps").mkdir(parents=True)
    return tmp_path


# The app written below is "scrapbook", not "notes": startapp refuses an
# installed app's name, and notes is installed once someone follows docs/apps.md.
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
    (project / "tests" / "apps" / "scrapbook").mkdir()

    status = cli.main(["startapp", "scrapbook", "--project", str(project)])

    assert status == 1
    assert "exists already" in capsys.readouterr().err
    assert not (project / "portal" / "apps" / "scrapbook").exists()


def test_the_new_app_and_its_tests_are_written_with_the_line_to_install_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["startapp", "scrapbook", "--project", str(project)]) == 0

    assert _files(project) == [
        "portal/apps/scrapbook/__init__.py",
        "portal/apps/scrapbook/admin.py",
        "portal/apps/scrapbook/app.py",
        "portal/apps/scrapbook/migrations/scrapbook_0001_initial.py",
        "portal/apps/scrapbook/queries.py",
        "portal/apps/scrapbook/routes.py",
        "portal/apps/scrapbook/seed.py",
        "portal/apps/scrapbook/static/scrapbook.css",
        "portal/apps/scrapbook/tables.py",
        "portal/apps/scrapbook/templates/scrapbook/index.html",
        "portal/apps/scrapbook/views.py",
        "tests/apps/scrapbook/__init__.py",
        "tests/apps/scrapbook/test_scrapbook.py",
    ]
    assert '    "portal.apps.scrapbook",' in capsys.readouterr().out.splitlines()
