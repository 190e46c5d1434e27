"""Settings: defaults, the YAML file, ``PORTAL_*`` variables and strict validation."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest

from portal.settings import (
    Settings,
    SettingsError,
    load_settings,
    weak_secret,
)

SECRET = "a-production-secret-that-is-long-enough-42"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portal.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_serve_development_without_a_database_url() -> None:
    settings = load_settings(environ={}, require_secret=False)

    assert settings.debug is False
    assert settings.database_url is None
    assert settings.embedded_database is True
    assert settings.data_dir == Path(".data")
    assert settings.secret_key is None
    assert settings.installed_apps is None  # the project's list
    assert dict(settings.apps) == {}  # every app at its own default prefix
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.session_cookie_secure is False


def test_environment_variables_override_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "PORTAL_DEBUG": "0",
            "PORTAL_DATABASE_URL": "postgresql://db.example/portal",
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_SECRET_KEY": SECRET,
            "PORTAL_HOST": "192.0.2.10",
            "PORTAL_PORT": "8080",
            "PORTAL_SESSION_COOKIE_SECURE": "yes",
            "PORTAL_LOG_LEVEL": "WARNING",
        }
    )

    assert settings.database_url == "postgresql://db.example/portal"
    assert settings.embedded_database is False
    assert settings.data_dir == tmp_path
    assert settings.secret_key == SECRET
    assert (settings.host, settings.port) == ("192.0.2.10", 8080)
    assert settings.session_cookie_secure is True
    assert settings.log_level == "WARNING"


def test_portal_debug_overrides_the_factory_default() -> None:
    settings = load_settings(
        debug_default=True, environ={"PORTAL_DEBUG": "off", "PORTAL_SECRET_KEY": SECRET}
    )

    assert settings.debug is False


def test_config_file_argument_is_read(tmp_path: Path) -> None:
    path = write_config(tmp_path, f"port: 9000\nsecret_key: {SECRET}\ndata_dir: {tmp_path}\n")

    settings = load_settings(config_file=path, environ={})

    assert settings.port == 9000
    assert settings.secret_key == SECRET
    assert settings.data_dir == tmp_path


def test_portal_config_variable_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "port: 9001\n")

    settings = load_settings(environ={"PORTAL_CONFIG": str(path)}, require_secret=False)

    assert settings.port == 9001


def test_environment_beats_the_config_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "port: 9000\nhost: file.example\n")

    settings = load_settings(
        config_file=path, environ={"PORTAL_PORT": "9100"}, require_secret=False
    )

    assert settings.port == 9100
    assert settings.host == "file.example"


def test_empty_config_file_keeps_the_defaults(tmp_path: Path) -> None:
    path = write_config(tmp_path, "")

    assert load_settings(config_file=path, environ={}, require_secret=False).port == 8000


def test_unknown_key_in_config_file_is_refused_by_name(tmp_path: Path) -> None:
    path = write_config(tmp_path, "port: 9000\ndatabase_uri: postgresql://x/y\n")

    with pytest.raises(SettingsError, match="unknown setting 'database_uri'"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_wrong_type_in_config_file_names_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, "port: eighty\n")

    with pytest.raises(SettingsError, match="setting 'port' must be int"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_boolean_is_not_accepted_for_an_int_setting(tmp_path: Path) -> None:
    path = write_config(tmp_path, "port: true\n")

    with pytest.raises(SettingsError, match="setting 'port'"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_string_is_not_accepted_for_a_bool_setting(tmp_path: Path) -> None:
    path = write_config(tmp_path, "debug: 'yes'\n")

    with pytest.raises(SettingsError, match="setting 'debug' must be bool"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_config_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, "- port\n- 9000\n")

    with pytest.raises(SettingsError, match="must be a mapping"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, "port: [9000\n")

    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read config file"):
        load_settings(config_file=tmp_path / "absent.yaml", environ={}, require_secret=False)


def test_bad_boolean_variable_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="PORTAL_DEBUG must be a boolean"):
        load_settings(environ={"PORTAL_DEBUG": "maybe"}, require_secret=False)


def test_bad_integer_variable_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="PORTAL_PORT must be an integer"):
        load_settings(environ={"PORTAL_PORT": "eighty"}, require_secret=False)


def test_port_out_of_range_is_refused() -> None:
    with pytest.raises(SettingsError, match="setting 'port'"):
        load_settings(environ={"PORTAL_PORT": "70000"}, require_secret=False)


def test_unknown_log_level_is_refused() -> None:
    with pytest.raises(SettingsError, match="setting 'log_level'"):
        load_settings(environ={"PORTAL_LOG_LEVEL": "LOUD"}, require_secret=False)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("/surveys/", "/surveys/"), ("/surveys", "/surveys/"), ("//surveys//", "/surveys/")],
)
def test_app_prefix_is_normalised(tmp_path: Path, written: str, expected: str) -> None:
    path = write_config(tmp_path, f"apps:\n  polls: '{written}'\n")

    settings = load_settings(config_file=path, environ={}, require_secret=False)

    assert settings.apps["polls"] == expected


@pytest.mark.parametrize("prefix", ["surveys/", "/", "''", "42"])
def test_bad_app_prefix_is_refused_by_name(tmp_path: Path, prefix: str) -> None:
    path = write_config(tmp_path, f"apps:\n  polls: {prefix}\n")

    with pytest.raises(SettingsError, match=r"setting 'apps\.polls' must be a URL prefix"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_apps_setting_must_be_a_mapping(tmp_path: Path) -> None:
    path = write_config(tmp_path, "apps: [polls]\n")

    with pytest.raises(SettingsError, match="setting 'apps' must map"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_secret_key_is_required_with_debug_off() -> None:
    with pytest.raises(SettingsError, match="'secret_key' is required when debug is off"):
        load_settings(environ={})


def test_short_secret_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="'secret_key' must be at least 32 characters"):
        load_settings(environ={"PORTAL_SECRET_KEY": "too-short"})


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("0" * 32, "repeats the 1-character pattern '0'"),
        ("changeme" * 4, "placeholder 'changeme'"),
        ("ab12" * 10, "repeats the 4-character pattern 'ab12'"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "runs of neighbouring characters"),
        ("aaaabbbbccccddddaaaabbbbccccddddeeee", "only 5 different characters"),
        ("bench-secret-key-not-for-production-0123456789", "example key printed"),
    ],
)
def test_a_guessable_secret_key_stops_start_up_with_debug_off(key: str, reason: str) -> None:
    with pytest.raises(SettingsError, match="too easy to guess") as raised:
        load_settings(environ={"PORTAL_SECRET_KEY": key})

    assert reason in str(raised.value)
    assert "secrets.token_urlsafe(48)" in str(raised.value)


def test_a_guessable_secret_key_is_allowed_for_development(tmp_path: Path) -> None:
    environ = {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_SECRET_KEY": "0" * 32}

    settings = load_settings(debug_default=True, environ=environ)

    assert settings.secret_key == "0" * 32


def test_a_generated_secret_key_is_accepted() -> None:
    keys = [secrets.token_urlsafe(48) for _ in range(200)] + [
        secrets.token_hex(16) for _ in range(200)
    ]

    assert [key for key in keys if weak_secret(key) is not None] == []


def test_debug_generates_a_dev_secret_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings(debug_default=True, environ={"PORTAL_DATA_DIR": str(tmp_path)})

    key_file = tmp_path / "secret_key"
    assert settings.secret_key is not None
    assert len(settings.secret_key) >= 32
    assert key_file.read_text(encoding="utf-8").strip() == settings.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_dev_secret_is_reused_by_the_next_load(tmp_path: Path) -> None:
    environ = {"PORTAL_DATA_DIR": str(tmp_path)}
    first = load_settings(debug_default=True, environ=environ)

    second = load_settings(debug_default=True, environ=environ)

    assert second.secret_key == first.secret_key


def test_configured_secret_is_used_instead_of_a_dev_secret(tmp_path: Path) -> None:
    settings = load_settings(
        debug_default=True,
        environ={"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_SECRET_KEY": SECRET},
    )

    assert settings.secret_key == SECRET
    assert not (tmp_path / "secret_key").exists()


def test_with_overrides_validates_the_change() -> None:
    settings = Settings(secret_key=SECRET)

    with pytest.raises(SettingsError, match="setting 'port'"):
        settings.with_overrides(port=0)


def test_with_overrides_applies_the_change() -> None:
    settings = Settings(secret_key=SECRET).with_overrides(host="192.0.2.10", port=8443)

    assert (settings.host, settings.port) == ("192.0.2.10", 8443)


@pytest.mark.parametrize("debug", [True, False])
def test_the_access_log_follows_debug_unless_set(debug: bool, tmp_path: Path) -> None:
    settings = load_settings(
        debug_default=debug, environ={"PORTAL_DATA_DIR": str(tmp_path)}, require_secret=False
    )

    assert settings.access_log is debug


def test_portal_access_log_turns_the_request_log_on_in_production() -> None:
    settings = load_settings(environ={"PORTAL_ACCESS_LOG": "1"}, require_secret=False)

    assert settings.access_log is True


@pytest.mark.parametrize(
    "name",
    [
        "session_lifetime",
        "staff_idle_timeout",
        "user_idle_timeout",
        "hsts_seconds",
        "db_statement_timeout",
        "request_timeout",
        "shutdown_timeout",
    ],
)
def test_a_negative_time_is_refused_by_name(tmp_path: Path, name: str) -> None:
    path = write_config(tmp_path, f"{name}: -1\n")

    with pytest.raises(SettingsError, match=name):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_allowed_hosts_come_from_a_comma_separated_variable() -> None:
    settings = load_settings(
        environ={"PORTAL_ALLOWED_HOSTS": "example.com, .example.org"}, require_secret=False
    )

    assert settings.allowed_hosts == ("example.com", ".example.org")


def test_allowed_hosts_in_yaml_must_be_a_list_of_names(tmp_path: Path) -> None:
    path = write_config(tmp_path, "allowed_hosts: example.com\n")

    with pytest.raises(SettingsError, match="allowed_hosts"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_time_limits_accept_fractions_of_a_second(tmp_path: Path) -> None:
    path = write_config(tmp_path, "request_timeout: 2.5\ndb_acquire_timeout: 1\n")

    settings = load_settings(
        config_file=path, environ={"PORTAL_SHUTDOWN_TIMEOUT": "0.5"}, require_secret=False
    )

    assert (settings.request_timeout, settings.db_acquire_timeout) == (2.5, 1.0)
    assert settings.shutdown_timeout == 0.5


def test_a_time_limit_variable_that_is_not_a_number_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="PORTAL_REQUEST_TIMEOUT"):
        load_settings(environ={"PORTAL_REQUEST_TIMEOUT": "soon"}, require_secret=False)


def test_boolean_is_not_accepted_for_a_time_limit(tmp_path: Path) -> None:
    path = write_config(tmp_path, "request_timeout: true\n")

    with pytest.raises(SettingsError, match="request_timeout"):
        load_settings(config_file=path, environ={}, require_secret=False)


def test_a_zero_acquire_timeout_is_refused() -> None:
    with pytest.raises(SettingsError, match="db_acquire_timeout"):
        load_settings(environ={"PORTAL_DB_ACQUIRE_TIMEOUT": "0"}, require_secret=False)


def test_trusted_proxies_are_addresses_or_networks() -> None:
    settings = load_settings(
        environ={"PORTAL_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1, ::1"}, require_secret=False
    )

    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1", "::1")


def test_a_trusted_proxy_that_is_not_an_address_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match=r"trusted_proxies.*proxy\.example"):
        load_settings(environ={"PORTAL_TRUSTED_PROXIES": "proxy.example"}, require_secret=False)


@pytest.mark.parametrize("name", ["api_body_limit", "form_body_limit"])
def test_a_body_limit_below_one_byte_is_refused_by_name(tmp_path: Path, name: str) -> None:
    path = write_config(tmp_path, f"{name}: 0\n")

    with pytest.raises(SettingsError, match=name):
        load_settings(config_file=path, environ={}, require_secret=False)
