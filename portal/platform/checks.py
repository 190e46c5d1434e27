"""``python -m portal check``: what would make this configuration unsafe to deploy."""

from __future__ import annotations

import asyncio

from portal.platform.errors import PortalError
from portal.settings import Settings

__all__ = ["deploy_problems"]


def deploy_problems(settings: Settings) -> list[str]:
    """One sentence per problem; empty when the configuration is fit for production."""
    problems: list[str] = []
    if settings.debug:
        problems.append("debug is on: set PORTAL_DEBUG=0 (debug shows tracebacks and the toolbar)")
    if settings.secret_key is None:
        problems.append("no secret key: set PORTAL_SECRET_KEY to a long random value")
    elif _is_dev_secret(settings):
        problems.append(
            "the secret key is the development key from the data folder: "
            "set PORTAL_SECRET_KEY to a value of its own"
        )
    if not settings.session_cookie_secure:
        problems.append(
            "session cookies are sent over plain http: set session_cookie_secure "
            "(PORTAL_SESSION_COOKIE_SECURE=1) when serving over https"
        )
    if not settings.allowed_hosts:
        problems.append(
            "no allowed_hosts: with debug off only localhost is answered; set "
            "PORTAL_ALLOWED_HOSTS to the site's host names (example.com,.example.com)"
        )
    elif "*" in settings.allowed_hosts:
        problems.append("allowed_hosts contains '*': any Host header is accepted")
    problem = _database_problem(settings)
    if problem:
        problems.append(problem)
    return problems


def _is_dev_secret(settings: Settings) -> bool:
    path = settings.data_dir / "secret_key"
    return path.exists() and path.read_text(encoding="utf-8").strip() == settings.secret_key


def _database_problem(settings: Settings) -> str | None:
    from portal.main import INSTALLED_APPS
    from portal.platform import embedded
    from portal.platform.db import connect, current_revisions
    from portal.platform.revisions import expected_heads, schema_problem

    async def check(url: str) -> str | None:
        async with connect(url) as conn:
            current = await current_revisions(conn)
        return schema_problem(current, expected_heads(INSTALLED_APPS))

    try:
        url = settings.database_url or embedded.start(settings.data_dir)
        return asyncio.run(check(url))
    except PortalError as exc:
        return str(exc)
