"""What the admin shows: each mounted app's registered tables, then the platform's.

Read from ``request.config_dict[mounts_key]`` at request time, so the admin
follows whatever the root mounted; nothing is registered globally.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from aiohttp import web

from portal.platform.admin.builtin import PLATFORM_TABLES
from portal.platform.admin.options import AdminTable
from portal.platform.appspec import mounts_key
from portal.platform.exceptions import ConfigurationError

__all__ = ["PLATFORM", "AdminApp", "AdminSite", "admin_site"]

#: The name the platform's own tables are listed under, in URLs too.
PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class AdminApp:
    """One section of the admin: an app and the tables it registered."""

    name: str
    title: str
    tables: tuple[AdminTable, ...]


class AdminSite:
    """The admin's sections, with lookups by URL names and by ``Table``."""

    def __init__(self, apps: Sequence[AdminApp]) -> None:
        self.apps = tuple(apps)
        self._by_name: dict[tuple[str, str], tuple[AdminApp, AdminTable]] = {}
        self._by_table: dict[sa.Table, tuple[AdminApp, AdminTable]] = {}
        for app in self.apps:
            for admin in app.tables:
                key = (app.name, admin.name)
                if key in self._by_name:
                    raise ConfigurationError(
                        f"admin: table {admin.name!r} of {app.name!r} is registered twice"
                    )
                self._by_name[key] = (app, admin)
                self._by_table.setdefault(admin.table, (app, admin))

    def __iter__(self) -> Iterator[AdminApp]:
        return iter(self.apps)

    def get(self, app: str, table: str) -> tuple[AdminApp, AdminTable]:
        """The section and registration behind ``/admin/<app>/<table>/``; LookupError if none."""
        try:
            return self._by_name[(app, table)]
        except KeyError:
            raise LookupError(f"no admin for table {table!r} of {app!r}") from None

    def find(self, table: sa.Table) -> tuple[AdminApp, AdminTable] | None:
        """Where *table* is registered, if it is."""
        return self._by_table.get(table)

    def tables(self) -> set[sa.Table]:
        """Every table the admin knows: registered ones and their inlines."""
        known = set(self._by_table)
        for _, admin in self._by_name.values():
            known.update(inline.table for inline in admin.inlines)
        return known

    def title_column(self, table: sa.Table) -> sa.Column:
        """The column naming a row of *table*: its registered title, or its id."""
        found = self.find(table)
        return table.c[found[1].title] if found is not None else table.c.id


def admin_site(request: web.Request) -> AdminSite:
    """The registrations of the apps mounted on this request's root, then the platform's."""
    apps = [
        AdminApp(mounted.spec.name, mounted.spec.title, mounted.spec.admin)
        for mounted in request.config_dict[mounts_key]
        if mounted.spec.admin
    ]
    apps.append(AdminApp(PLATFORM, "Platform", PLATFORM_TABLES))
    return AdminSite(apps)
