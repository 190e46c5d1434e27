"""``python -m portal``: the command line (see ``portal.cli``)."""

import sys

if not __package__:
    # Run as a script (``python portal`` or ``python portal/__main__.py``):
    # ``portal/`` is then first on sys.path and ``portal/platform`` would
    # shadow the standard library's ``platform`` module.
    sys.stderr.write(
        "portal is a package, not a script: run `python -m portal ...` from the repository root.\n"
    )
    sys.exit(2)

from portal.cli import main

sys.exit(main())
