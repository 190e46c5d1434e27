"""Which tables can be dumped, by ``app.table`` label, in a foreign-key-safe order."""

from __future__ import annotations

import heapq
import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from portal.platform.appspec import AppSpec
from portal.platform.exceptions import PortalError

__all__ = ["PLATFORM", "DataTables", "TransferError", "data_tables"]

#: The name the platform's own tables go by (``platform.users``).
PLATFORM: Final = "platform"


class TransferError(PortalError):
    """A dump cannot be written or a file cannot be loaded; the message says which record."""


@dataclass(frozen=True, slots=True)
class DataTables:
    """Every table that can be dumped, by ``app.table`` label, in a foreign-key-safe order."""

    #: Label to table, dependencies first.
    tables: Mapping[str, sa.Table]
    #: Owner (an app's name, or :data:`PLATFORM`) to its labels.
    owners: Mapping[str, tuple[str, ...]]

    def select(self, names: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[str]:
        """The labels *names* pick (every table when empty) minus *exclude*, in dump order.

        A name is ``APP`` (all its tables) or ``APP.TABLE``; an unknown one is a
        :class:`TransferError` naming it.
        """
        chosen = set(self._expand(names)) if names else set(self.tables)
        chosen -= set(self._expand(exclude))
        return [label for label in self.tables if label in chosen]

    def _expand(self, names: Sequence[str]) -> list[str]:
        labels: list[str] = []
        for name in names:
            owner, dot, table = name.partition(".")
            if owner not in self.owners:
                known = ", ".join(sorted(self.owners))
                raise TransferError(f"no installed app named {owner!r} (known: {known})")
            if not dot:
                labels.extend(self.owners[owner])
            elif name in self.owners[owner]:
                labels.append(name)
            else:
                tables = ", ".join(label.partition(".")[2] for label in self.owners[owner])
                raise TransferError(
                    f"app {owner!r} has no table {table!r} (its tables: {tables or 'none'})"
                )
        return labels


def data_tables(apps: Iterable[AppSpec]) -> DataTables:
    """The platform's tables and those of every app in *apps*."""
    owned: dict[str, list[sa.Table]] = {PLATFORM: _platform_tables()}
    for spec in apps:
        if spec.name in owned:
            raise TransferError(
                f"app {spec.name!r} has the name of the platform's tables: rename the app"
            )
        owned[spec.name] = [] if spec.metadata is None else list(spec.metadata.sorted_tables)
    labelled: dict[str, sa.Table] = {}
    seen: set[str] = set()
    for owner, tables in owned.items():
        for table in tables:
            # One table, one label: the first owner keeps a table two metadata share.
            if table.name not in seen:
                seen.add(table.name)
                labelled[f"{owner}.{table.name}"] = table
    order = _dependency_order(labelled)
    return DataTables(
        tables={label: labelled[label] for label in order},
        owners={
            owner: tuple(label for label in order if label.partition(".")[0] == owner)
            for owner in owned
        },
    )


def _platform_tables() -> list[sa.Table]:
    """Every table of every ``sa.MetaData`` in the platform's ``tables.py`` modules."""
    from portal import platform

    root = Path(platform.__file__).parent
    found: dict[str, sa.Table] = {}
    # Walked rather than listed, so a table module the platform grows (or moves
    # into a subpackage) is dumped without anyone remembering to add it here.
    for path in sorted(root.rglob("tables.py")):
        parts = path.relative_to(root).with_suffix("").parts
        module = importlib.import_module(".".join((platform.__name__, *parts)))
        for value in vars(module).values():
            if isinstance(value, sa.MetaData):
                found.update(value.tables)
    return list(found.values())


def _dependency_order(tables: Mapping[str, sa.Table]) -> list[str]:
    """Labels with each table after those it references; ties (and cycles) by label."""
    by_name = {table.name: label for label, table in tables.items()}
    needs: dict[str, set[str]] = {}
    for label, table in tables.items():
        # target_fullname is the "table.column" string, so a foreign key into
        # another MetaData (an app's table pointing at users) counts as well.
        referenced = {fk.target_fullname.rpartition(".")[0] for fk in table.foreign_keys}
        needs[label] = {by_name[name] for name in referenced if name in by_name} - {label}
    users: dict[str, set[str]] = {label: set() for label in tables}
    for label, required in needs.items():
        for other in required:
            users[other].add(label)
    ready = [label for label, required in needs.items() if not required]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        label = heapq.heappop(ready)
        order.append(label)
        for user in users[label]:
            needs[user].discard(label)
            if not needs[user]:
                heapq.heappush(ready, user)
    # A cycle of foreign keys has no safe order: its tables go last, by label.
    order.extend(sorted(label for label in tables if label not in order))
    return order
