"""The staff admin: every table the mounted apps register, browsed and edited.

Apps declare their tables as data (:mod:`portal.platform.admin.options`) in
their own ``admin.py`` and hand them to their ``AppSpec(admin=...)``; the
admin builds its lists, forms, confirmations and history from those
declarations and the SQLAlchemy columns. Only active staff get in.
"""

from __future__ import annotations

from portal.platform.admin.app import create_app
from portal.platform.appspec import AppSpec
from portal.platform.policy import HTML_SITE

__all__ = ["create_app", "spec"]

spec = AppSpec(
    name="admin",
    title="Admin",
    description="For staff: browse, add, change and delete the records of every app.",
    factory=create_app,
    policy=HTML_SITE,
)
