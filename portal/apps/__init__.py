"""The sub-applications of this site, one package each, and the list that installs them.

``INSTALLED_APPS`` is what the ``installed_apps`` setting defaults to: the
apps mounted, in the order the home page lists them. Add an app here (or list
the apps in your settings file's ``installed_apps:``, or in
``PORTAL_INSTALLED_APPS``); nothing else in the platform names an app.
"""

__all__ = ["INSTALLED_APPS"]

INSTALLED_APPS = [
    "portal.apps.polls",
    "portal.apps.todos",
    "portal.apps.api",
    "portal.platform.admin",
]
