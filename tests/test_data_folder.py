"""The data folder survives routine commands; deleting it takes a named, confirmed step."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from portal import cli

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A folder shaped like portal's data folder (no server running in it)."""
    folder = tmp_path / "data"
    (folder / "postgres").mkdir(parents=True)
    (folder / "secret_key").write_text("kept\n", encoding="utf-8")
    for name in ("PORTAL_CONFIG", "PORTAL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(folder))
    return folder


def test_delete_without_confirm_names_the_folder_and_deletes_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["db", "delete"]) == 1

    err = capsys.readouterr().err
    assert str(data_dir) in err
    assert "CONFIRM=1" in err
    assert (data_dir / "secret_key").exists()


def test_delete_with_confirm_removes_the_folder(data_dir: Path) -> None:
    assert cli.main(["db", "delete", "--confirm"]) == 0

    assert not data_dir.exists()


def test_delete_refuses_a_folder_that_is_not_portals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work", encoding="utf-8")
    monkeypatch.delenv("PORTAL_CONFIG", raising=False)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(precious))

    assert cli.main(["db", "delete", "--confirm"]) == 1

    assert "does not look like portal's data folder" in capsys.readouterr().err
    assert (precious / "thesis.tex").exists()


def _make(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "MAKE"))}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO,
        env={**env, "PORTAL_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_clean_never_touches_the_data_folder(data_dir: Path) -> None:
    # -n prints the commands without running them: .venv stays for the suite.
    commands = _make("-n", "clean", data_dir=data_dir).stdout

    assert "rm -rf" in commands
    assert str(data_dir) not in commands
    assert ".data" not in commands


def test_make_delete_data_refuses_without_confirm(data_dir: Path) -> None:
    result = _make("delete-data", data_dir=data_dir)

    assert result.returncode != 0
    assert str(data_dir) in result.stderr
    assert (data_dir / "secret_key").exists()
