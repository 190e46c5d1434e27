"""portal's commands: what ``python -m portal COMMAND`` runs.

A command is a :class:`Command`. The platform's own are the modules of this
package, one each, exposing ``command``; an app adds its own through its
spec's ``commands``, as a Django app ships ``management/commands/``.
``python -m portal`` collects both (:mod:`portal.cli`).
"""

from portal.platform.commands.base import (
    Command,
    CommandError,
    command_settings,
    database_url,
    installed_apps,
    merge,
    platform_commands,
    read_new_password,
)

__all__ = [
    "Command",
    "CommandError",
    "command_settings",
    "database_url",
    "installed_apps",
    "merge",
    "platform_commands",
    "read_new_password",
]
