"""The registry of mountable apps, and the table of what is mounted where.

Each app package exposes an :class:`AppSpec`: its name, the factory that
builds its ``web.Application``, the policy of its section, its migrations,
its sample data and the rest of what it brings (admin tables, commands,
checks, API operations). The root factory mounts the specs it is given;
:class:`Mounts` remembers the result so that any request can build a URL in
any app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from aiohttp import web
from yarl import URL

from portal.platform.keys import root_key
from portal.platform.policy import Policy, policy_key
from portal.settings import Settings

if TYPE_CHECKING:
    from portal.platform.admin.options import AdminTable
    from portal.platform.api.endpoints import Endpoint
    from portal.platform.commands import Command
    from portal.platform.db.engine import Connection

__all__ = ["AppSpec", "DeployCheck", "Mounted", "Mounts", "Seeder", "mounts_key"]

#: The mounted apps, their prefixes and routers: what cross-app URLs are built from.
mounts_key: web.AppKey[Mounts] = web.AppKey("mounts_key")

#: Loads an app's sample data through a connection; must be idempotent.
Seeder = Callable[["Connection"], Awaitable[None]]

#: One of an app's deploy checks: the problems it finds in these settings, one
#: sentence each (none when fit to deploy). ``python -m portal check`` runs them.
DeployCheck = Callable[[Settings], Iterable[str]]


@dataclass(frozen=True, slots=True)
class AppSpec:
    """What the platform needs to know to mount, migrate and seed one app."""

    name: str
    title: str
    description: str
    factory: Callable[[Settings], web.Application]
    policy: Policy
    #: Folder of this app's Alembic revisions (one branch labelled ``name``).
    migrations: Path | None = None
    #: The app's own tables (its ``tables.metadata``), what its migrations create.
    metadata: sa.MetaData | None = None
    #: The apps this one needs installed too, by name (an app reading another's
    #: tables or queries).
    requires: tuple[str, ...] = ()
    seed: Seeder | None = None
    #: The route the home page links to.
    index_route: str = "index"
    #: Further pages the home page links under the app's name, as (route, label)
    #: pairs: the api's interactive docs, say.
    home_links: tuple[tuple[str, str], ...] = ()
    #: The tables this app shows in the admin, declared in its ``admin.py``.
    admin: tuple[AdminTable, ...] = ()
    #: This app's own ``python -m portal`` commands.
    commands: tuple[Command, ...] = ()
    #: Where the app is mounted unless the ``apps`` setting moves it; default ``/{name}/``.
    prefix: str | None = None
    #: This app's own deploy checks, merged into ``python -m portal check``.
    checks: tuple[DeployCheck, ...] = ()
    #: This app's operations under the API's prefix (paths relative to it, e.g.
    #: ``/notes/{note_id}``), served by the api app when both are installed.
    api: tuple[Endpoint, ...] = ()

    @property
    def default_prefix(self) -> str:
        """The prefix this app asks for: its own, else ``/{name}/``."""
        return self.prefix or f"/{self.name}/"


@dataclass(frozen=True, slots=True)
class Mounted:
    """One app as mounted: its spec, its prefix and its built application."""

    spec: AppSpec
    prefix: str
    app: web.Application


class Mounts:
    """Every mounted app by name, and the root; builds namespaced URLs.

    Names are ``"app:route"`` (``"polls:detail"``) for a sub-app's routes and a
    bare ``"route"`` for the root's own (``"login"``).
    """

    def __init__(self, root: web.Application, *, cache_static: bool = False) -> None:
        self.root = root
        self._apps: dict[str, Mounted] = {}
        # With cache_static, each static file's URL (aiohttp hashes the file
        # for its version) is computed once: a memo of immutable values.
        self._static_urls: dict[str, URL] | None = {} if cache_static else None
        # Once the root is frozen no route or prefix changes, so a route's
        # resource, and the URL of a route without parts, are looked up once.
        self._resources: dict[str, web.AbstractResource] = {}
        self._fixed_urls: dict[str, URL] = {}
        self._formatters: dict[str, str] = {}

    def mount(self, spec: AppSpec, prefix: str, settings: Settings) -> Mounted:
        """Build *spec*'s app, declare its policy and mount it at *prefix*."""
        if spec.name in self._apps:
            raise ValueError(f"app {spec.name!r} is already mounted")
        app = spec.factory(settings)
        app[policy_key] = spec.policy
        app[root_key] = self.root
        # aiohttp wants the prefix without its trailing slash; the sub-app's "/"
        # route then answers at ``/polls/``.
        self.root.add_subapp(prefix.rstrip("/"), app)
        mounted = Mounted(spec=spec, prefix=prefix, app=app)
        self._apps[spec.name] = mounted
        return mounted

    def __iter__(self) -> Iterator[Mounted]:
        return iter(self._apps.values())

    def __contains__(self, name: object) -> bool:
        return name in self._apps

    def get(self, name: str) -> Mounted:
        try:
            return self._apps[name]
        except KeyError:
            raise LookupError(f"no app named {name!r} is mounted") from None

    def router_for(self, name: str) -> tuple[web.UrlDispatcher, str]:
        """The router owning *name* and the route name inside it."""
        app_name, sep, route = name.rpartition(":")
        if not sep:
            return self.root.router, route
        return self.get(app_name).app.router, route

    def url(
        self, name: str, *, query: Mapping[str, str | int] | None = None, **parts: str | int
    ) -> URL:
        """The path of route *name* with its dynamic *parts* filled in."""
        if parts:
            url = self._resource(name).url_for(**{key: str(value) for key, value in parts.items()})
        else:
            url = self._fixed_urls.get(name) or self._fixed_url(name)
        return url.with_query(query) if query else url

    def path(self, name: str, **parts: str | int) -> str:
        """``str(url(name, **parts))``, faster when every part is an integer (an id).

        Digits need no quoting, so the route's formatter is filled in directly
        instead of building a URL object; anything else takes :meth:`url`.
        """
        formatter = self._formatters.get(name)
        if formatter is None and self.root.frozen:
            info = self._resource(name).get_info()
            formatter = self._formatters[name] = info.get("formatter") or info.get("path") or ""
        if formatter and all(type(value) is int for value in parts.values()):
            return formatter.format_map(parts)
        return str(self.url(name, query=None, **parts))

    def _resource(self, name: str) -> web.AbstractResource:
        resource = self._resources.get(name)
        if resource is None:
            router, route = self.router_for(name)
            try:
                resource = router[route]
            except KeyError:
                raise LookupError(f"no route named {name!r}") from None
            if self.root.frozen:
                self._resources[name] = resource
        return resource

    def _fixed_url(self, name: str) -> URL:
        url = self._resource(name).url_for()
        if self.root.frozen:
            self._fixed_urls[name] = url
        return url

    def static(self, name: str) -> URL:
        """The URL of a static file: ``"polls:polls.css"``, or ``"portal.css"`` for shared."""
        cache = self._static_urls
        if cache is not None and name in cache:
            return cache[name]
        app_name, sep, filename = name.rpartition(":")
        prefix = f"{app_name}:" if sep else ""
        url = self.url(f"{prefix}static", filename=filename)
        if cache is not None:
            cache[name] = url
        return url
