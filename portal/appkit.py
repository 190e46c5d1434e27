"""The front door for app authors: everything an app may use, in one import.

``from portal import appkit`` is to a portal app what ``from aiohttp import
web`` is to an aiohttp one. An app under ``portal/apps/`` (or in a package of
its own) imports the platform only from here — its spec, its section's
policy, templates, URLs, sessions and flash messages, the database key and
connection type, live events, admin declarations, API endpoints and their
input types, and the installed apps — so
everything behind this module is internal and free to move. Its tests use
the fixtures of the pytest plugin :mod:`portal.testing`.

A test (``tests/platform/test_structure.py``) holds every app to it.
"""

from __future__ import annotations

from portal.platform.admin.options import Action, AdminTable, Inline
from portal.platform.api.endpoints import (
    Access,
    Call,
    Endpoint,
    HasId,
    api_endpoints_key,
    bearer_secret,
    install,
    json_response,
)
from portal.platform.api.inputs import Input, Timestamp, search_text, text
from portal.platform.api.openapi import error_response, openapi_document
from portal.platform.api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    OrderedPageQuery,
    Page,
    PageQuery,
    QueryBool,
)
from portal.platform.api.problems import (
    PROBLEM_KINDS,
    PROBLEM_TYPE,
    FieldError,
    ProblemKind,
    problem_kind_named,
    problem_response,
)
from portal.platform.appspec import AppSpec, DeployCheck, Seeder
from portal.platform.auth.current import current_user, user_key
from portal.platform.auth.tokens import authenticate_token
from portal.platform.auth.users import User
from portal.platform.commands.base import Command, CommandError, command_settings
from portal.platform.db.engine import Connection, db_key
from portal.platform.db.listing import contains_values, keyset_order, where_contains
from portal.platform.edge.formdata import read_form
from portal.platform.edge.headers import CONTENT_SECURITY_POLICY
from portal.platform.exceptions import Conflict, Invalid, NotFound, PortalError
from portal.platform.installed import installed_apps
from portal.platform.keys import config_of, settings_key
from portal.platform.lifecycle import log_lifecycle
from portal.platform.live.events import Event
from portal.platform.live.sockets import event_socket
from portal.platform.policy import HTML_SITE, JSON_API, Policy
from portal.platform.sessions.flash import flash
from portal.platform.sessions.storage import AppSession, app_session
from portal.platform.templating import render, setup_templates
from portal.platform.urls import redirect, static_url, url_for
from portal.settings import Settings

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "DEFAULT_LIMIT",
    "HTML_SITE",
    "JSON_API",
    "MAX_LIMIT",
    "PROBLEM_KINDS",
    "PROBLEM_TYPE",
    "Access",
    "Action",
    "AdminTable",
    "AppSession",
    "AppSpec",
    "Call",
    "Command",
    "CommandError",
    "Conflict",
    "Connection",
    "DeployCheck",
    "Endpoint",
    "Event",
    "FieldError",
    "HasId",
    "Inline",
    "Input",
    "Invalid",
    "NotFound",
    "OrderedPageQuery",
    "Page",
    "PageQuery",
    "Policy",
    "PortalError",
    "ProblemKind",
    "QueryBool",
    "Seeder",
    "Settings",
    "Timestamp",
    "User",
    "api_endpoints_key",
    "app_session",
    "authenticate_token",
    "bearer_secret",
    "command_settings",
    "config_of",
    "contains_values",
    "current_user",
    "db_key",
    "error_response",
    "event_socket",
    "flash",
    "install",
    "installed_apps",
    "json_response",
    "keyset_order",
    "log_lifecycle",
    "openapi_document",
    "problem_kind_named",
    "problem_response",
    "read_form",
    "redirect",
    "render",
    "search_text",
    "settings_key",
    "setup_templates",
    "static_url",
    "text",
    "url_for",
    "user_key",
    "where_contains",
]
