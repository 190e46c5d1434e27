"""Jinja2 environments: compiled templates are shared, edits are still seen."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from portal.platform.templating import setup_templates


def test_an_edited_template_renders_anew_though_compiled_code_is_shared(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("first")
    first = setup_templates(web.Application(), tmp_path, reload=True)
    assert first.get_template("page.html").render() == "first"

    page.write_text("second, and longer")
    # Another environment, as the next test's site (or another app) builds it.
    second = setup_templates(web.Application(), tmp_path, reload=True)

    assert second.get_template("page.html").render() == "second, and longer"
