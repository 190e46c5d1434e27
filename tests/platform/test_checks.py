"""``check``'s verdict on settings alone: each unsafe production setting is named."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp import web

from portal.appkit import HTML_SITE, AppSpec, DeployCheck
from portal.platform.checks import app_problems, settings_problems
from portal.settings import Settings

SAFE = Settings(
    secret_key="a-production-secret-that-is-long-enough-42",
    allowed_hosts=("portal.example",),
    trusted_proxies=("10.0.0.1",),
)


def test_a_production_configuration_behind_a_proxy_has_no_problem() -> None:
    assert settings_problems(SAFE) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"debug": True}, "debug is on"),
        ({"trusted_proxies": ()}, "session cookies are sent over plain http"),
        ({"trusted_proxies": ("0.0.0.0/0",)}, "trusts every address"),
        ({"trusted_proxies": ("::/0",)}, "trusts every address"),
        ({"hsts_seconds": 0}, "HSTS is off"),
        ({"request_timeout": 0.0}, "requests have no time limit"),
        ({"db_statement_timeout": 0.0}, "queries have no time limit"),
        ({"api_rate_limit": "off"}, "the API has no rate limit"),
        ({"allowed_hosts": ()}, "no allowed_hosts"),
        ({"allowed_hosts": ("*",)}, "any Host header is accepted"),
        ({"session_lifetime": 31 * 24 * 3600, "session_max_age": 31 * 24 * 3600}, "30 days"),
        ({"staff_idle_timeout": 0}, "staff_idle_timeout is 0"),
        ({"session_max_age": 3600}, "shorter than session_lifetime"),
        ({"session_max_age": 365 * 24 * 3600}, "the cookie outlives any login"),
    ],
)
def test_an_unsafe_setting_is_named(change: dict[str, Any], named: str) -> None:
    problems = settings_problems(SAFE.with_overrides(**change))

    assert len(problems) == 1
    assert named in problems[0]


def test_a_guessable_secret_key_is_named() -> None:
    # Loading such settings with debug off already fails; check names it for
    # settings it reads without requiring a key (and for debug-on settings).
    problems = settings_problems(dataclasses.replace(SAFE, secret_key="changeme" * 4))

    assert len(problems) == 1
    assert "the secret key is too easy to guess" in problems[0]


def test_forcing_secure_cookies_stands_in_for_a_trusted_proxy() -> None:
    settings = SAFE.with_overrides(trusted_proxies=(), session_cookie_secure=True)

    assert settings_problems(settings) == []


def _app(name: str, *checks: DeployCheck) -> AppSpec:
    return AppSpec(
        name=name,
        title=name.title(),
        description="An app with deploy checks of its own.",
        factory=lambda settings: web.Application(),
        policy=HTML_SITE,
        checks=checks,
    )


def _needs_a_mail_server(settings: Settings) -> list[str]:
    return [] if settings.debug else ["no mail server is configured: set MAIL_URL"]


def test_an_apps_own_check_is_merged_named_by_the_app() -> None:
    apps = [_app("quiet"), _app("mailer", _needs_a_mail_server)]

    assert app_problems(apps, SAFE) == ["mailer: no mail server is configured: set MAIL_URL"]


def test_an_apps_check_sees_the_settings_it_is_given() -> None:
    assert (
        app_problems([_app("mailer", _needs_a_mail_server)], SAFE.with_overrides(debug=True)) == []
    )


def test_a_check_that_fails_is_a_problem_and_the_others_still_run() -> None:
    def broken(settings: Settings) -> list[str]:
        raise KeyError("MAIL_URL")

    problems = app_problems([_app("broken", broken), _app("mailer", _needs_a_mail_server)], SAFE)

    assert problems == [
        "broken: the check test_a_check_that_fails_is_a_problem_and_the_others_still_run."
        "<locals>.broken failed: KeyError('MAIL_URL')",
        "mailer: no mail server is configured: set MAIL_URL",
    ]
