"""The installed apps: what the ``installed_apps`` setting names, loaded and checked.

An entry is a dotted module path whose module exposes ``spec`` (an
:class:`~portal.platform.appspec.AppSpec`), or the name of an entry point in
the group ``portal.apps`` (a pip-installed package shipping an app), which
loads such a module or the spec itself. Without the setting, the project's
list applies: ``INSTALLED_APPS`` in ``portal/apps/__init__.py``.

Every mistake stops start-up, and every command, with one line naming the
entry and the fix (:class:`InstalledAppsError`).
"""

from __future__ import annotations

import importlib
import keyword
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Final

from portal.platform.appspec import AppSpec
from portal.platform.exceptions import ConfigurationError
from portal.settings import Settings

__all__ = [
    "ENTRY_POINT_GROUP",
    "InstalledAppsError",
    "check_apps",
    "default_entries",
    "installed_apps",
    "load_apps",
    "mount_prefix",
]

#: The entry-point group a pip-installed package names its app in.
ENTRY_POINT_GROUP: Final = "portal.apps"


class InstalledAppsError(ConfigurationError):
    """An installed app cannot be loaded or does not fit with the others."""


def default_entries() -> tuple[str, ...]:
    """The project's app list, used when the ``installed_apps`` setting is not given."""
    from portal import apps

    return tuple(apps.INSTALLED_APPS)


def load_apps(settings: Settings) -> tuple[AppSpec, ...]:
    """The specs of the apps *settings* install, in their order (the home page's), checked."""
    specs = installed_apps(settings)
    check_apps(specs, settings)
    return specs


def installed_apps(settings: Settings) -> tuple[AppSpec, ...]:
    """The specs of the apps *settings* install, in their order, as an app reads them.

    Each is loaded (a bad entry raises :class:`InstalledAppsError`), but the
    set is not checked against the rest of the settings: the root checks the
    apps it mounts at start-up, and a test that mounts apps of its own beside
    these gives them prefixes (``apps``) this list does not name.
    """
    entries = settings.installed_apps
    if entries is None:
        entries = default_entries()
    return tuple(_load(entry) for entry in entries)


def _load(entry: str) -> AppSpec:
    where = f"installed_apps: {entry!r}"
    if not entry or not all(part.isidentifier() for part in entry.split(".")):
        raise InstalledAppsError(f"{where} is neither a dotted module path nor an entry point name")
    if "." not in entry:
        found = entry_points(group=ENTRY_POINT_GROUP, name=entry)
        if found:
            (point, *_) = tuple(found)
            try:
                loaded = point.load()
            except Exception as exc:
                raise InstalledAppsError(
                    f"{where}: entry point {point.value!r} does not load ({exc!r})"
                ) from exc
            return _spec_of(loaded, where)
    try:
        module = importlib.import_module(entry)
    except ModuleNotFoundError as exc:
        if exc.name is not None and entry.startswith(exc.name):
            raise InstalledAppsError(
                f"{where}: no module {exc.name!r} (and no entry point {entry!r} in the group "
                f"{ENTRY_POINT_GROUP!r}); check the spelling, or pip install the app"
            ) from exc
        raise InstalledAppsError(f"{where} does not import: {exc}") from exc
    except Exception as exc:
        raise InstalledAppsError(f"{where} does not import: {type(exc).__name__}: {exc}") from exc
    return _spec_of(module, where)


def _spec_of(loaded: object, where: str) -> AppSpec:
    spec = loaded if isinstance(loaded, AppSpec) else getattr(loaded, "spec", None)
    if not isinstance(spec, AppSpec):
        raise InstalledAppsError(
            f"{where} has no `spec` (an AppSpec): an app's package defines "
            "`spec = AppSpec(...)` in its __init__.py"
        )
    return spec


def mount_prefix(spec: AppSpec, settings: Settings) -> str:
    """Where *spec* is mounted: the ``apps`` setting's prefix for it, else its own default."""
    return settings.apps.get(spec.name, spec.default_prefix)


def check_apps(specs: Sequence[AppSpec], settings: Settings) -> None:
    """Refuse a set of apps that cannot be mounted together, naming the fix."""
    from portal.platform.routes import RESERVED_PATHS

    names: dict[str, AppSpec] = {}
    for spec in specs:
        if (
            not spec.name.isidentifier()
            or keyword.iskeyword(spec.name)
            or spec.name != (spec.name.lower())
        ):
            raise InstalledAppsError(
                f"installed_apps: app name {spec.name!r} is not a lowercase identifier"
            )
        if spec.name in names:
            raise InstalledAppsError(
                f"installed_apps: two apps are named {spec.name!r}: install one of them"
            )
        names[spec.name] = spec
    for spec in specs:
        for needed in spec.requires:
            if needed not in names:
                raise InstalledAppsError(
                    f"installed_apps: {spec.name!r} needs the app {needed!r}, which is not "
                    f"installed: add it to installed_apps before {spec.name!r}"
                )
    for moved in settings.apps:
        if moved not in names:
            raise InstalledAppsError(
                f"setting 'apps': {moved!r} is not an installed app (installed: {', '.join(names)})"
            )
    prefixes: dict[str, str] = {}
    for spec in specs:
        prefix = mount_prefix(spec, settings)
        path = prefix.rstrip("/")
        for other_prefix, other in prefixes.items():
            other_path = other_prefix.rstrip("/")
            if (
                path == other_path
                or path.startswith(other_path + "/")
                or (other_path.startswith(path + "/"))
            ):
                raise InstalledAppsError(
                    f"apps {other!r} and {spec.name!r} are both mounted at {prefix!r}: move "
                    f"one with the 'apps' setting (apps: {{{spec.name}: /another/}})"
                )
        for reserved in RESERVED_PATHS:
            reserved_path = reserved.rstrip("/")
            if reserved_path == path or reserved_path.startswith(path + "/"):
                raise InstalledAppsError(
                    f"app {spec.name!r} at {prefix!r} would hide the site's own {reserved!r}: "
                    f"move it with the 'apps' setting (apps: {{{spec.name}: /another/}})"
                )
        prefixes[prefix] = spec.name
