"""``startapp NAME``: a new working app under ``portal/apps/NAME/``, with its tests.

The app is written from the files of ``app_template/`` (``$app`` and ``$App``
stand for the name and its title; ``APP`` in a file name for the name): its
factory, routes, a view and a template on the shared base, a table with its
queries and first migration, its admin registration, a seed, its static
folder, and tests in ``tests/apps/NAME/`` that use the project's fixtures.
Every check runs before anything is written, and the files are written to a
temporary folder first, then moved into place: a refusal or a failure leaves
nothing behind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import keyword
import re
import shutil
import string
import tempfile
from pathlib import Path

from portal.platform.commands.base import (
    Command,
    CommandError,
    command_settings,
    installed_apps,
)

__all__ = ["command", "render_app"]

_TEMPLATE = Path(__file__).resolve().parent / "app_template"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: The project folder: the one holding the ``portal`` package and ``tests``.
_PROJECT = Path(__file__).resolve().parents[3]


def _refusal(name: str, project: Path, taken: set[str]) -> str | None:
    """Why *name* cannot be a new app, or None."""
    from portal.platform.routes import RESERVED_PATHS

    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        return (
            f"{name!r} is not a lowercase identifier: use letters, digits and _, "
            "starting with a letter (e.g. notes)"
        )
    if name in taken:
        return f"an installed app is already named {name!r}"
    if any(path.strip("/").split("/")[0] == name for path in RESERVED_PATHS):
        return f"/{name}/ would hide the site's own /{name}: choose another name"
    if importlib.util.find_spec(name) is not None:
        return f"{name!r} is the name of a Python module already: choose another name"
    for folder in (project / "portal" / "apps" / name, project / "tests" / "apps" / name):
        if folder.exists():
            return f"{folder} exists already: nothing written"
    return None


def render_app(name: str, destination: Path) -> list[Path]:
    """Write the app *name* from the template under *destination*; the files written.

    *destination* receives ``portal/apps/<name>/`` and ``tests/apps/<name>/``.
    """
    values = {
        "app": name,
        "App": name.replace("_", " ").capitalize(),
        "date": dt.date.today().isoformat(),
    }
    written = []
    for source in sorted(_TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(_TEMPLATE)
        parts = [part.replace("APP", name) for part in relative.with_suffix("").parts]
        if parts[0] == "tests":
            target = destination / "tests" / "apps" / name / Path(*parts[1:])
        else:
            target = destination / "portal" / "apps" / name / Path(*parts)
        text = string.Template(source.read_text(encoding="utf-8")).substitute(values)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def _startapp(args: argparse.Namespace) -> int:
    name: str = args.name
    project = Path(args.project) if args.project else _PROJECT
    taken = {spec.name for spec in installed_apps(command_settings(args))}
    problem = _refusal(name, project, taken)
    if problem is not None:
        raise CommandError(f"startapp: {problem}")
    with tempfile.TemporaryDirectory(dir=project / "portal" / "apps") as scratch:
        render_app(name, Path(scratch))
        shutil.move(Path(scratch) / "portal" / "apps" / name, project / "portal" / "apps" / name)
        shutil.move(Path(scratch) / "tests" / "apps" / name, project / "tests" / "apps" / name)
    print(f"Created portal/apps/{name}/ and its tests in tests/apps/{name}/.")
    print("To install it, add this line to INSTALLED_APPS in portal/apps/__init__.py")
    print("(or the entry to installed_apps in your settings), then run python -m portal migrate:")
    print(f'    "portal.apps.{name}",')
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the app's name: a lowercase identifier")
    parser.add_argument(
        "--project",
        metavar="DIR",
        help="the project folder holding portal/ and tests/ (default: this checkout)",
    )


command = Command(
    "startapp",
    "create a new app under portal/apps/NAME/ with its tests; prints the line that installs it",
    _startapp,
    _arguments,
)
