"""``python -m portal check``: what would make this configuration unsafe to deploy."""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Iterable

from portal.platform.appspec import AppSpec
from portal.platform.auth.passwords import FAST_HASHING_ENV
from portal.platform.exceptions import PortalError
from portal.platform.installed import load_apps
from portal.settings import Settings, parse_rate, weak_secret

__all__ = ["app_problems", "deploy_problems", "settings_problems"]


def deploy_problems(settings: Settings) -> list[str]:
    """One sentence per problem; empty when the configuration is fit for production.

    The platform's own checks, then each installed app's (``AppSpec.checks``),
    then the database's schema.
    """
    apps = load_apps(settings)
    problems = settings_problems(settings)
    problems.extend(app_problems(apps, settings))
    if os.environ.get(FAST_HASHING_ENV) == "1":
        problems.append(
            f"{FAST_HASHING_ENV} is set: passwords are hashed with the cheap parameters "
            "meant for test suites, so a stolen hash is quick to crack; unset it"
        )
    problem = _database_problem(settings, apps)
    if problem:
        problems.append(problem)
    return problems


def app_problems(apps: Iterable[AppSpec], settings: Settings) -> list[str]:
    """What the installed apps' own deploy checks find, each named by its app.

    A check that fails is itself a problem (named, with its error), never a
    traceback that hides the other apps' findings.
    """
    problems: list[str] = []
    for spec in apps:
        for check in spec.checks:
            try:
                found = list(check(settings))
            except Exception as exc:
                name = getattr(check, "__qualname__", repr(check))
                problems.append(f"{spec.name}: the check {name} failed: {exc!r}")
                continue
            problems.extend(f"{spec.name}: {problem}" for problem in found)
    return problems


def settings_problems(settings: Settings) -> list[str]:
    """The problems of *settings* alone, without reaching the database."""
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
    elif (reason := weak_secret(settings.secret_key)) is not None:
        problems.append(
            f"the secret key is too easy to guess ({reason}): set PORTAL_SECRET_KEY to "
            "the output of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    problems.extend(_session_problems(settings))
    if not settings.session_cookie_secure and not settings.trusted_proxies:
        problems.append(
            "session cookies are sent over plain http: behind a proxy that terminates "
            "https, set trusted_proxies (PORTAL_TRUSTED_PROXIES) to its address so its "
            "X-Forwarded-Proto is believed, or set PORTAL_SESSION_COOKIE_SECURE=1"
        )
    if any(ipaddress.ip_network(p, strict=False).prefixlen == 0 for p in settings.trusted_proxies):
        problems.append(
            "trusted_proxies trusts every address: any client can claim https or "
            "another client's address; list only your proxies"
        )
    if settings.hsts_seconds == 0:
        problems.append("HSTS is off (hsts_seconds is 0): browsers may be downgraded to http")
    if settings.request_timeout == 0:
        problems.append("requests have no time limit (request_timeout is 0): slow requests pile up")
    if settings.db_statement_timeout == 0:
        problems.append(
            "queries have no time limit (db_statement_timeout is 0): one slow query "
            "can hold a pooled connection indefinitely"
        )
    if parse_rate(settings.api_rate_limit) is None:
        problems.append(
            "the API has no rate limit (api_rate_limit is off): one runaway client can "
            "take every pooled connection; set PORTAL_API_RATE_LIMIT (default 600/minute)"
        )
    if not settings.allowed_hosts:
        problems.append(
            "no allowed_hosts: with debug off only localhost is answered; set "
            "PORTAL_ALLOWED_HOSTS to the site's host names (example.com,.example.com)"
        )
    elif "*" in settings.allowed_hosts:
        problems.append("allowed_hosts contains '*': any Host header is accepted")
    return problems


_DAY = 24 * 3600
#: A login longer than this outlives the point of logging in at all.
_LONGEST_LIFETIME = 30 * _DAY
#: Browsers cap a cookie's lifetime at 400 days; far below that is plenty.
_LONGEST_COOKIE = 90 * _DAY


def _session_problems(settings: Settings) -> list[str]:
    """Session settings that defeat the session rules (README: Sessions)."""
    problems: list[str] = []
    if settings.session_lifetime > _LONGEST_LIFETIME:
        problems.append(
            f"session_lifetime is {settings.session_lifetime // _DAY} days: a stolen login "
            "stays good that long; keep it at 30 days or less (the default is 12 hours)"
        )
    if settings.staff_idle_timeout == 0:
        problems.append(
            "staff_idle_timeout is 0: a staff login left open on a shared machine never "
            "ends while unused; set it (the default is 30 minutes)"
        )
    if settings.session_max_age < settings.session_lifetime:
        problems.append(
            f"session_max_age ({settings.session_max_age} s) is shorter than "
            f"session_lifetime ({settings.session_lifetime} s): browsers drop the cookie "
            "first, so logins end early and unpredictably; make it at least as long"
        )
    elif settings.session_max_age > _LONGEST_COOKIE:
        problems.append(
            f"session_max_age is {settings.session_max_age // _DAY} days: the cookie outlives "
            "any login by far; keep it at 90 days or less (the default is 14 days)"
        )
    return problems


def _is_dev_secret(settings: Settings) -> bool:
    path = settings.data_dir / "secret_key"
    return path.exists() and path.read_text(encoding="utf-8").strip() == settings.secret_key


def _database_problem(settings: Settings, apps: Iterable[AppSpec]) -> str | None:
    from portal.platform.db import embedded
    from portal.platform.db.engine import connect, current_revisions
    from portal.platform.db.revisions import expected_heads, schema_problem

    async def check(url: str) -> str | None:
        async with connect(url) as conn:
            current = await current_revisions(conn)
        return schema_problem(current, expected_heads(apps))

    try:
        url = settings.database_url or embedded.start(settings.data_dir)
        return asyncio.run(check(url))
    except PortalError as exc:
        return str(exc)
