"""The polls app: the aiohttp polls tutorial, done properly.

Questions with choices; the public reads them and votes; a vote is one atomic
``UPDATE ... SET votes = votes + 1``.
"""

from __future__ import annotations

from pathlib import Path

from portal.appkit import HTML_SITE, AppSpec
from portal.apps.polls.admin import ADMIN
from portal.apps.polls.api import ENDPOINTS
from portal.apps.polls.app import create_app
from portal.apps.polls.seed import seed
from portal.apps.polls.tables import metadata

__all__ = ["create_app", "spec"]

spec = AppSpec(
    name="polls",
    title="Polls",
    description="Vote on the latest questions and watch the results.",
    factory=create_app,
    policy=HTML_SITE,
    migrations=Path(__file__).resolve().parent / "migrations",
    metadata=metadata,
    seed=seed,
    admin=ADMIN,
    api=ENDPOINTS,
)
