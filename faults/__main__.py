"""``python -m faults`` (``make faults``): the fault suite, start to verdict.

1. Start the suite's own embedded PostgreSQL in a temporary folder; migrate,
   seed, create a staff user and its API token with portal's CLI.
2. Start the site as the README says: gunicorn, ``aiohttp.GunicornWebWorker``,
   two workers.
3. Run each scenario (:mod:`faults.scenarios`), printing its figures as it
   goes, and check the site is whole again before the next.
4. Print the verdicts; exit 1 if any requirement failed.

``python -m faults --help`` lists the knobs (rounds, durations, scenarios).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from faults.config import parse_args
from faults.suite import report, run

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite with the command line's configuration; 0 when every requirement held."""
    config = parse_args(argv)
    started = time.monotonic()
    results = run(config)
    return 0 if report(results, time.monotonic() - started) else 1


if __name__ == "__main__":
    sys.exit(main())
