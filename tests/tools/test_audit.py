"""``make audit``: advisories are reported, and an unreachable database is said plainly."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest
from aiohttp import web
from packaging.requirements import Requirement
from pytest_aiohttp import AiohttpServer

from tools import audit

ROOT = Path(__file__).resolve().parents[2]
ADVISORIES = {("jinja2", "3.1.0"): [{"id": "GHSA-h75v-3vvj-5mfj", "fixed_in": ["3.1.4"]}]}


@pytest.fixture
async def fake_pypi(aiohttp_server: AiohttpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local stand-in for PyPI's JSON API; OSV is pointed at a closed port."""

    async def release(request: web.Request) -> web.Response:
        key = (request.match_info["name"].lower(), request.match_info["version"])
        return web.json_response({"vulnerabilities": ADVISORIES.get(key, [])})

    app = web.Application()
    app.router.add_get("/pypi/{name}/{version}/json", release)
    server = await aiohttp_server(app)
    monkeypatch.setattr(audit, "PYPI_URL", str(server.make_url("/pypi")))
    monkeypatch.setattr(audit, "OSV_URL", "http://127.0.0.1:9/v1/query")


def lock(tmp_path: Path, *pins: str) -> Path:
    path = tmp_path / "constraints.txt"
    path.write_text("# a lock\n" + "\n".join(pins) + "\n", encoding="utf-8")
    return path


@pytest.mark.usefixtures("fake_pypi")
async def test_a_pin_with_an_advisory_fails_naming_it_and_its_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = lock(tmp_path, "Jinja2==3.1.0", "aiohttp==3.14.5")

    status = await asyncio.to_thread(audit.main, [str(path)])

    assert status == 1
    assert "Jinja2 3.1.0: GHSA-h75v-3vvj-5mfj (fixed in 3.1.4)" in capsys.readouterr().out


@pytest.mark.usefixtures("fake_pypi")
async def test_pins_without_advisories_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = lock(tmp_path, "Jinja2==3.1.6", "aiohttp==3.14.5")

    status = await asyncio.to_thread(audit.main, [str(path)])

    assert status == 0
    assert "No known advisories for the 2 pins" in capsys.readouterr().out


def test_no_reachable_database_is_said_plainly_and_is_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(audit, "PYPI_URL", "http://127.0.0.1:9/pypi")
    monkeypatch.setattr(audit, "OSV_URL", "http://127.0.0.1:9/v1/query")

    assert audit.main([str(lock(tmp_path, "Jinja2==3.1.6"))]) == 2

    assert "NOT CHECKED" in capsys.readouterr().err


def test_the_lock_pins_every_declared_dependency_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [Requirement(text) for text in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared += [Requirement(text) for text in extra]
    pins = {
        name.lower().replace("_", "-"): v for name, v in audit.read_pins(ROOT / "constraints.txt")
    }

    outside = [
        str(req)
        for req in declared
        if req.name.lower().replace("_", "-") not in pins
        or pins[req.name.lower().replace("_", "-")] not in req.specifier
    ]

    assert outside == []
