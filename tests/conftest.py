"""The project's tests run on portal's own test kit (:mod:`portal.testing`).

One embedded PostgreSQL per test session (per worker under ``make test``'s
``pytest -n``), a clean database per test, and clients over the full app tree
built fresh by the real factory. Set ``PORTAL_TEST_DATABASE_URL`` to run
against another PostgreSQL instead (its tables are emptied between tests:
never point it at real data).
"""

from __future__ import annotations

from portal.platform.installed import load_apps
from portal.settings import Settings

# pytester: tests of the test kit run pytest on files of their own.
pytest_plugins = ("portal.testing", "pytester")

#: The apps the default settings install (the project's list), for the tests that
#: mount them alongside apps of their own or migrate their tables.
INSTALLED_APPS = load_apps(Settings())
