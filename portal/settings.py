"""Typed settings: defaults, then an optional YAML file, then ``PORTAL_*`` variables.

Every CLI command and the server read settings through :func:`load_settings`.
Mistakes stop start-up with a :class:`SettingsError` naming the key at fault.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from portal.platform.exceptions import PortalError

__all__ = [
    "Rate",
    "Settings",
    "SettingsError",
    "load_settings",
    "parse_origin",
    "parse_rate",
    "weak_secret",
]

_MIN_SECRET_LENGTH = 32
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(PortalError):
    """A setting is missing, unknown or of the wrong type."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the whole platform is configured with; built once, never mutated."""

    debug: bool = False
    database_url: str | None = None
    data_dir: Path = Path(".data")
    secret_key: str | None = None
    #: The apps to mount, in home-page order: dotted module paths exposing
    #: ``spec``, or names of entry points in the group ``portal.apps``. None:
    #: the project's list (``INSTALLED_APPS`` in ``portal/apps/__init__.py``).
    installed_apps: tuple[str, ...] | None = None
    #: Installed apps moved from their own default prefix: name -> ``/prefix/``.
    apps: Mapping[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 8000
    session_cookie_name: str = "portal_session"
    session_cookie_secure: bool = False
    session_max_age: int = 14 * 24 * 3600
    #: A login lasts at most this long (seconds), however active it is.
    session_lifetime: int = 12 * 3600
    #: A staff login ends after this long without a request (seconds; 0: never).
    staff_idle_timeout: int = 30 * 60
    #: The same for other users (0: only the lifetime applies).
    user_idle_timeout: int = 0
    db_pool_min: int = 1
    db_pool_max: int = 10
    log_level: str = "INFO"
    #: One ``portal.access`` line per request. Unless set, it follows debug: on
    #: for development, off in production, where the proxy in front usually
    #: logs requests and a line per request costs ~10% of a small one.
    access_log: bool = False
    #: Host names the site answers to with debug off; a request for another
    #: host is refused (400). ``.example.com`` also matches its subdomains,
    #: ``*`` matches any. Empty: only this machine's names (localhost, 127.0.0.1, ::1).
    allowed_hosts: tuple[str, ...] = ()
    #: The largest JSON body the API reads, in bytes; larger ones get 413.
    api_body_limit: int = 1024 * 1024
    #: The largest HTML form body (urlencoded or multipart), in bytes; larger get 413.
    form_body_limit: int = 256 * 1024
    #: Peers (addresses or networks such as ``10.0.0.0/8``) whose ``X-Forwarded-For``
    #: and ``X-Forwarded-Proto`` are believed. Empty: the peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    #: ``Strict-Transport-Security`` max-age sent on https responses (seconds; 0: none).
    hsts_seconds: int = 365 * 24 * 3600
    #: Add ``includeSubDomains`` to HSTS: every subdomain must then serve https too.
    hsts_include_subdomains: bool = False
    #: How long a request waits for a pooled database connection before 503 (seconds).
    db_acquire_timeout: float = 3.0
    #: PostgreSQL's ``statement_timeout`` for the site's queries (seconds; 0: none).
    db_statement_timeout: float = 10.0
    #: A request still running after this long is answered 504 (seconds; 0: no
    #: limit). Live sockets and streams are exempt.
    request_timeout: float = 30.0
    #: On SIGTERM, in-flight requests get this long to finish (seconds).
    shutdown_timeout: float = 10.0
    #: Login throttling (see ``portal.platform.auth.throttle``): within this
    #: window (seconds), at most so many failed logins for one account from one
    #: client address, from one address whatever the accounts, and for one
    #: account from every address (a ceiling against distributed guessing).
    login_failure_window: int = 15 * 60
    login_failures_per_account_and_address: int = 10
    login_failures_per_address: int = 30
    login_failures_per_account: int = 100
    #: Origins (``https://app.example.com``) whose pages may call the API from a
    #: browser (CORS). Empty: no CORS header is ever sent.
    cors_origins: tuple[str, ...] = ()
    #: Requests each API client may make (``600/minute``; ``N/second|minute|hour``),
    #: counted per token, or per client address without a valid token; ``off``:
    #: no limit at all. See ``portal.platform.ratelimit``.
    api_rate_limit: str = "600/minute"
    #: The same for the tokens of staff users (``off``: staff tokens are not limited).
    api_rate_limit_staff: str = "6000/minute"

    @property
    def embedded_database(self) -> bool:
        """True when no URL is configured and the platform runs its own PostgreSQL."""
        return self.database_url is None

    def with_overrides(self, **changes: Any) -> Settings:
        """A validated copy with *changes* applied (tests and the CLI use this).

        ``apps`` is read as in the YAML file: the apps it names move, the
        others stay at their own default prefixes.
        """
        if "apps" in changes:
            changes = {**changes, "apps": _coerce_apps(changes["apps"])}
        settings = _validate(dataclasses.replace(self, **changes))
        if self.secret_key is not None:
            _require_secret(settings)
        return settings


# name in YAML -> environment variable; every field may come from the file.
_ENV = {
    "debug": "PORTAL_DEBUG",
    "database_url": "PORTAL_DATABASE_URL",
    "data_dir": "PORTAL_DATA_DIR",
    "secret_key": "PORTAL_SECRET_KEY",
    "installed_apps": "PORTAL_INSTALLED_APPS",
    "host": "PORTAL_HOST",
    "port": "PORTAL_PORT",
    "session_cookie_secure": "PORTAL_SESSION_COOKIE_SECURE",
    "log_level": "PORTAL_LOG_LEVEL",
    "access_log": "PORTAL_ACCESS_LOG",
    "allowed_hosts": "PORTAL_ALLOWED_HOSTS",
    "trusted_proxies": "PORTAL_TRUSTED_PROXIES",
    "hsts_include_subdomains": "PORTAL_HSTS_INCLUDE_SUBDOMAINS",
    "db_acquire_timeout": "PORTAL_DB_ACQUIRE_TIMEOUT",
    "db_statement_timeout": "PORTAL_DB_STATEMENT_TIMEOUT",
    "request_timeout": "PORTAL_REQUEST_TIMEOUT",
    "shutdown_timeout": "PORTAL_SHUTDOWN_TIMEOUT",
    "cors_origins": "PORTAL_CORS_ORIGINS",
    "api_rate_limit": "PORTAL_API_RATE_LIMIT",
    "api_rate_limit_staff": "PORTAL_API_RATE_LIMIT_STAFF",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def load_settings(
    *,
    debug_default: bool = False,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    require_secret: bool = True,
) -> Settings:
    """Build the settings for one process.

    *debug_default* is what debug is when neither the file nor ``PORTAL_DEBUG``
    says: on for the development factory, off for production. The YAML file is
    *config_file*, else ``PORTAL_CONFIG``; the environment overrides the file.
    Commands that never serve a page (``migrate``, ``check``) pass
    ``require_secret=False``: only serving needs the secret key.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {"debug": debug_default}
    path = config_file if config_file is not None else env.get("PORTAL_CONFIG") or None
    if path is not None:
        values.update(_read_yaml(Path(path)))
    for name, var in _ENV.items():
        if var in env:
            values[name] = _from_env(name, var, env[var])
    values.setdefault("access_log", values["debug"])
    settings = Settings(**{k: _coerce(k, v) for k, v in values.items()})
    settings = _validate(settings)
    if require_secret:
        _require_secret(settings)
    if settings.secret_key is None and settings.debug:
        settings = dataclasses.replace(settings, secret_key=_dev_secret(settings.data_dir))
    return settings


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"config file {path} is not valid YAML: {exc}") from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SettingsError(f"config file {path} must be a mapping of setting names to values")
    for key in raw:
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise SettingsError(f"{path}: unknown setting {key!r} (known settings: {known})")
    return dict(raw)


def _from_env(name: str, var: str, text: str) -> Any:
    kind = _FIELDS[name].type
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingsError(f"{var} must be a boolean (1/0, true/false), not {text!r}")
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{var} must be an integer, not {text!r}") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{var} must be a number, not {text!r}") from None
    if kind in _LISTS:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


#: Settings that are lists of strings (comma-separated in the environment).
_LISTS = ("tuple[str, ...]", "tuple[str, ...] | None")

_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "str | None": (str, type(None)),
    "Path": (str, Path),
}


def _coerce(name: str, value: Any) -> Any:
    kind = _FIELDS[name].type
    if name == "apps":
        return _coerce_apps(value)
    if kind in _LISTS:
        if kind.endswith("None") and value is None:
            return None
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"setting {name!r} must be a list of strings, not {value!r}")
        return tuple(value)
    if name in _RATES and value is False:
        # YAML 1.1 reads a bare ``off`` as false.
        return "off"
    allowed = _TYPES[str(kind)]
    # bool is an int subclass: a number setting must not accept ``true``.
    if not isinstance(value, allowed) or (kind in ("int", "float") and isinstance(value, bool)):
        expected = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
        raise SettingsError(
            f"setting {name!r} must be {expected}, not {type(value).__name__} ({value!r})"
        )
    if kind == "Path":
        return Path(str(value))
    if kind == "float" and isinstance(value, int):
        return float(value)
    return value


def _coerce_apps(value: Any) -> dict[str, str]:
    """The ``apps`` mapping, prefixes normalised; whether each app is installed is
    checked with the installed apps (``portal.platform.installed``)."""
    if not isinstance(value, Mapping):
        raise SettingsError("setting 'apps' must map app names to URL prefixes")
    apps = {}
    for name, prefix in value.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise SettingsError(f"setting 'apps': {name!r} is not an app name")
        if not isinstance(prefix, str) or not prefix.startswith("/") or prefix == "/":
            raise SettingsError(
                f"setting 'apps.{name}' must be a URL prefix such as '/{name}/', not {prefix!r}"
            )
        apps[name] = "/" + prefix.strip("/") + "/"
    return apps


#: The command that prints a good key (quoted in error messages).
_MAKE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105

#: Keys printed in portal's own docs and examples, and the placeholders people
#: paste: whoever reads them can forge sessions, however long they are.
_PUBLIC_SECRETS = frozenset(
    {
        "bench-secret-key-not-for-production-0123456789",
    }
)
_PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "notsecret", "insecure", "placeholder")


def weak_secret(key: str) -> str | None:
    """Why *key* is too guessable to sign sessions with, or None when it is fine.

    Length alone says little: ``0`` * 32 is 32 characters. A key that is one
    short pattern repeated, draws on a handful of characters, runs along the
    alphabet, or is printed somewhere public is refused; a key from
    :data:`_MAKE_SECRET` passes with overwhelming probability.
    """
    if key in _PUBLIC_SECRETS:
        return "it is an example key printed in portal's own files"
    lowered = key.lower()
    for word in _PLACEHOLDER_WORDS:
        if word in lowered:
            return f"it contains the placeholder {word!r}"
    period = next(p for p in range(1, len(key) + 1) if key == (key[:p] * len(key))[: len(key)])
    if period <= len(key) // 2:
        return f"it repeats the {period}-character pattern {key[:period]!r}"
    if len(set(key)) < 8:
        return f"it uses only {len(set(key))} different characters"
    steps = sum(abs(ord(a) - ord(b)) <= 1 for a, b in itertools.pairwise(key))
    if steps * 3 > len(key) * 2:
        return "it is mostly runs of neighbouring characters (such as 'abcd' or '1234')"
    return None


def _require_secret(settings: Settings) -> None:
    if settings.debug:
        return
    if settings.secret_key is None:
        raise SettingsError(
            "setting 'secret_key' is required when debug is off: set PORTAL_SECRET_KEY "
            f"(for example to the output of `{_MAKE_SECRET}`)"
        )
    reason = weak_secret(settings.secret_key)
    if reason is not None:
        raise SettingsError(
            f"setting 'secret_key' is too easy to guess ({reason}): anyone who guesses it "
            f"can forge sessions; set PORTAL_SECRET_KEY to the output of `{_MAKE_SECRET}`"
        )


def _validate(settings: Settings) -> Settings:
    if settings.secret_key is not None and len(settings.secret_key) < _MIN_SECRET_LENGTH:
        raise SettingsError(
            f"setting 'secret_key' must be at least {_MIN_SECRET_LENGTH} characters long"
        )
    if not 1 <= settings.port <= 65535:
        raise SettingsError(f"setting 'port' must be between 1 and 65535, not {settings.port}")
    if settings.log_level.upper() not in _LOG_LEVELS:
        raise SettingsError(
            f"setting 'log_level' must be one of {', '.join(_LOG_LEVELS)}, "
            f"not {settings.log_level!r}"
        )
    for name in ("session_lifetime", "staff_idle_timeout", "user_idle_timeout"):
        if getattr(settings, name) < 0:
            raise SettingsError(f"setting {name!r} must be a number of seconds, 0 or more")
    if settings.session_lifetime == 0:
        raise SettingsError("setting 'session_lifetime' must be at least 1 second")
    for name in ("api_body_limit", "form_body_limit"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"setting {name!r} must be a positive number of bytes")
    for name in (
        "hsts_seconds",
        "db_statement_timeout",
        "request_timeout",
        "shutdown_timeout",
    ):
        if getattr(settings, name) < 0:
            raise SettingsError(f"setting {name!r} must be a number of seconds, 0 or more")
    if settings.db_acquire_timeout <= 0:
        raise SettingsError("setting 'db_acquire_timeout' must be a positive number of seconds")
    for name in (
        "login_failure_window",
        "login_failures_per_account_and_address",
        "login_failures_per_address",
        "login_failures_per_account",
    ):
        if getattr(settings, name) < 1:
            raise SettingsError(f"setting {name!r} must be a positive whole number")
    _check_networks(settings.trusted_proxies)
    origins = tuple(parse_origin(entry) for entry in settings.cors_origins)
    if origins != settings.cors_origins:
        settings = dataclasses.replace(settings, cors_origins=origins)
    for name in _RATES:
        try:
            parse_rate(getattr(settings, name))
        except ValueError as exc:
            raise SettingsError(f"setting {name!r}: {exc}") from None
    if settings.db_pool_min < 0 or settings.db_pool_max < max(1, settings.db_pool_min):
        raise SettingsError("settings 'db_pool_min'/'db_pool_max' must satisfy 0 <= min <= max")
    prefixes = list(settings.apps.values())
    if len(set(prefixes)) != len(prefixes):
        raise SettingsError(f"setting 'apps' mounts two apps at one prefix: {prefixes}")
    return settings


#: Settings that are a rate (:func:`parse_rate`).
_RATES = ("api_rate_limit", "api_rate_limit_staff")
_PER = {"second": 1, "minute": 60, "hour": 3600}
_RATE = re.compile(r"([0-9]+)\s*/\s*([a-z]+)")


@dataclass(frozen=True, slots=True)
class Rate:
    """A rate limit: at most :attr:`requests` in each window of :attr:`seconds`."""

    requests: int
    seconds: int


def parse_rate(text: str) -> Rate | None:
    """The rate *text* says (``600/minute``), or None for ``off``; ValueError if neither."""
    lowered = text.strip().lower()
    if lowered == "off":
        return None
    match = _RATE.fullmatch(lowered)
    if match is None or match.group(2) not in _PER or int(match.group(1)) < 1:
        raise ValueError(
            f"{text!r} is not a rate such as '600/minute' (a positive number of requests "
            "per second, minute or hour) or 'off'"
        )
    return Rate(int(match.group(1)), _PER[match.group(2)])


#: A serialised origin as browsers send it: scheme, host, maybe a port, nothing more.
_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def parse_origin(entry: str) -> str:
    """*entry* of ``cors_origins`` as a browser's ``Origin`` header would say it.

    Browsers send ``scheme://host[:port]``, lower-case, with no default port
    and no path: an entry any other way would never match, so it is refused.
    ``*`` is refused too: the API's anonymous reads would then be readable by
    any page a visitor opens, an intranet site's included.
    """
    if entry.strip() == "*":
        raise SettingsError(
            "setting 'cors_origins': '*' is not accepted; list each origin allowed "
            "to call the API, such as 'https://app.example.com'"
        )
    origin = entry.strip().lower()
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        raise SettingsError(
            f"setting 'cors_origins': {entry!r} is not an origin such as "
            "'https://app.example.com' or 'http://localhost:3000' (scheme, host and "
            "maybe a port; no path, not even '/')"
        )
    scheme, _, port = match.groups()
    if port is not None and (port == _DEFAULT_PORTS[scheme] or not 1 <= int(port) <= 65535):
        raise SettingsError(
            f"setting 'cors_origins': {entry!r} has port {port}, which browsers never "
            f"send for {scheme}: drop the port, or give one between 1 and 65535"
        )
    return origin


def _check_networks(entries: tuple[str, ...]) -> None:
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"setting 'trusted_proxies': {entry!r} is not an IP address or network"
            ) from None


def _dev_secret(data_dir: Path) -> str:
    """A development secret kept in the data folder, so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return key
