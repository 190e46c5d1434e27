"""The OpenAPI document is the truth: schemathesis, fuzzing the real server from it, finds nothing.

The server runs as ``python -m portal run`` in its own process (debug off, as in
production) over the clean test database; schemathesis runs every default
check and phase against it with a staff token, so every write is reachable.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from schemathesis.core.warnings import SchemathesisWarning

from portal.platform.auth.users import User
from tests.apps.api.conftest import new_token

SERVER_SECRET = "fuzz-secret-key-that-is-long-enough-0123456789ab"
#: Fixed, so that a failure is reproducible with the same command.
SEED = 20260101
MAX_EXAMPLES = 40
START_TIMEOUT = 30.0
FUZZ_TIMEOUT = 180.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError):
        return False


@pytest.fixture
def server(clean_db: str, tmp_path: Path) -> Iterator[str]:
    """The real server on a free port; its base URL. Its log is printed if it fails to start."""
    port = _free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env = {
        **base,
        "PORTAL_DATABASE_URL": clean_db,
        "PORTAL_SECRET_KEY": SERVER_SECRET,
        "PORTAL_DEBUG": "0",
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        # The fuzzer sends thousands of requests from one address.
        "PORTAL_API_RATE_LIMIT": "off",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal", "run", "--port", str(port)],
            env=env,
            cwd=Path(__file__).resolve().parents[3],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(f"{url}/healthz"):
            # Waiting on the process (not sleeping) notices at once if it dies.
            try:
                process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
            else:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log_path.read_text()}")
        # Ours, not another test's server that had the port a moment ago: ours
        # would have exited, unable to bind it.
        time.sleep(0.5)
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_schemathesis_finds_no_failure(
    server: str, conn: Any, staff_user: User, tmp_path: Path
) -> None:
    token = await new_token(conn, staff_user)
    # An If-Match tag is valid input whatever it says, and the right answer to
    # one that is not current is 412: accepted data, refused precondition. So a
    # conditional write mostly answers 412 to generated tags, which schemathesis
    # reports as a validation mismatch or a low valid-input rate: those two
    # warnings are off; every check, and every other warning, still fails the run.
    quiet = {SchemathesisWarning.VALIDATION_MISMATCH, SchemathesisWarning.LOW_VALID_RATE}
    warnings = [str(warning) for warning in SchemathesisWarning if warning not in quiet]
    (tmp_path / "schemathesis.toml").write_text(
        f"warnings = {json.dumps(warnings)}\n"
        "[checks.positive_data_acceptance]\n"
        'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]\n'
    )
    schemathesis = Path(sys.executable).parent / "schemathesis"

    process = await asyncio.create_subprocess_exec(
        schemathesis,
        "run",
        f"{server}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        # No examples remembered from earlier runs: the seed alone decides.
        "--generation-database",
        "none",
        "--no-color",
        # A server still busy starting answers the schema a moment later.
        "--wait-for-schema",
        "15",
        # Its reports and caches go to the test's folder, not the repository.
        cwd=tmp_path,
        # What the document cannot say: only a page's own cursor is a valid `after`.
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("fuzz_hooks.py"))},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(FUZZ_TIMEOUT):
            raw, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = raw.decode()

    assert process.returncode == 0, output
    assert "No issues found" in output, output
    # The stateful phase ran and followed links, and the document declared some
    # of its own (create, then get, change or delete what was made) besides
    # those schemathesis infers.
    links = re.search(
        r"API Links:\s+(\d+) covered / \d+ selected / (\d+) total \((\d+) inferred\)", output
    )
    assert links is not None, output
    covered, total, inferred = map(int, links.groups())
    assert covered > 0, output
    assert total > inferred, output
