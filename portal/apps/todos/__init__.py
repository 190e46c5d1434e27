"""The todos app: the aiohttp todo tutorial's list, kept in PostgreSQL.

Anyone reads the list; logged-in users add todos, mark them finished or not
(one atomic ``UPDATE ... SET finished = NOT finished``) and delete them.
"""

from __future__ import annotations

from pathlib import Path

from portal.appkit import HTML_SITE, AppSpec
from portal.apps.todos.admin import ADMIN
from portal.apps.todos.api import ENDPOINTS
from portal.apps.todos.app import create_app
from portal.apps.todos.seed import seed
from portal.apps.todos.tables import metadata

__all__ = ["create_app", "spec"]

spec = AppSpec(
    name="todos",
    title="Todos",
    description="A shared todo list: add todos, tick them off, clear them away.",
    factory=create_app,
    policy=HTML_SITE,
    migrations=Path(__file__).resolve().parent / "migrations",
    metadata=metadata,
    seed=seed,
    admin=ADMIN,
    api=ENDPOINTS,
)
