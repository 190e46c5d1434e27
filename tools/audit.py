"""``make audit``: the pinned versions in ``constraints.txt`` against published advisories.

Asks PyPI's JSON API (which carries the OSV advisories of each release) about
every pin, falling back to OSV's own API. Exit status: 0 no known advisory,
1 some pin has one (each is listed with the versions that fix it), 2 no
advisory database could be reached — then nothing was checked, and it says so
rather than pass in silence.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Advisory", "Unreachable", "main", "read_pins"]

ROOT = Path(__file__).resolve().parents[1]
#: Overridable so the tests can stand in a local server for the real services.
PYPI_URL = os.environ.get("AUDIT_PYPI_URL", "https://pypi.org/pypi")
OSV_URL = os.environ.get("AUDIT_OSV_URL", "https://api.osv.dev/v1/query")
TIMEOUT = 15.0

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


class Unreachable(Exception):
    """An advisory service did not answer with advisories."""


@dataclass(frozen=True, slots=True)
class Advisory:
    package: str
    version: str
    id: str
    fixed_in: tuple[str, ...]


def read_pins(path: Path) -> list[tuple[str, str]]:
    """The ``name==version`` lines of a constraints file, in order."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins.append((match.group(1), match.group(2)))
    return pins


def _fetch(request: urllib.request.Request) -> Any:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise Unreachable(f"HTTP {exc.code} from {request.full_url}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"{request.full_url}: {reason}") from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Unreachable(f"{request.full_url} answered something that is not JSON") from exc


def from_pypi(name: str, version: str) -> list[Advisory]:
    """The advisories PyPI lists for one release (``None`` body: unknown release)."""
    data = _fetch(urllib.request.Request(f"{PYPI_URL}/{name}/{version}/json"))
    if data is None:
        raise Unreachable(f"404 for {name} {version}, a published release (a proxy in the way?)")
    return [
        Advisory(name, version, str(item["id"]), tuple(item.get("fixed_in") or ()))
        for item in data.get("vulnerabilities") or ()
    ]


def from_osv(name: str, version: str) -> list[Advisory]:
    """The advisories OSV lists for one release."""
    query = {"package": {"name": name, "ecosystem": "PyPI"}, "version": version}
    request = urllib.request.Request(
        OSV_URL,
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    data = _fetch(request) or {}
    advisories = []
    for vuln in data.get("vulns") or ():
        fixed = sorted(
            {
                event["fixed"]
                for affected in vuln.get("affected") or ()
                for range_ in affected.get("ranges") or ()
                for event in range_.get("events") or ()
                if "fixed" in event
            }
        )
        advisories.append(Advisory(name, version, str(vuln["id"]), tuple(fixed)))
    return advisories


Source = Callable[[str, str], list[Advisory]]
SOURCES: tuple[tuple[str, Source], ...] = (("PyPI", from_pypi), ("OSV", from_osv))


def audit(pins: Sequence[tuple[str, str]]) -> tuple[str, list[Advisory]]:
    """Every advisory for *pins*, from the first source that answers about all of them."""
    failures = []
    for label, source in SOURCES:
        try:
            found = [advisory for name, version in pins for advisory in source(name, version)]
        except Unreachable as exc:
            failures.append(f"{label}: {exc}")
            continue
        return label, found
    raise Unreachable("; ".join(failures))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audit", description=__doc__)
    parser.add_argument("lock", nargs="?", type=Path, default=ROOT / "constraints.txt")
    args = parser.parse_args(argv)
    pins = read_pins(args.lock)
    try:
        source, advisories = audit(pins)
    except Unreachable as exc:
        print(
            f"NOT CHECKED: no advisory database could be reached ({exc}). "
            f"The {len(pins)} pins in {args.lock.name} were not audited; run make audit "
            "where pypi.org or api.osv.dev answers.",
            file=sys.stderr,
        )
        return 2
    for advisory in advisories:
        fix = ", ".join(advisory.fixed_in) or "no fixed release yet"
        print(f"{advisory.package} {advisory.version}: {advisory.id} (fixed in {fix})")
    if advisories:
        print(f"{len(advisories)} known advisories in {args.lock.name} ({source}).")
        return 1
    print(f"No known advisories for the {len(pins)} pins in {args.lock.name} ({source}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
