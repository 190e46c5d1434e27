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
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from schemathesis.core.warnings import SchemathesisWarning

from portal.platform.auth.users import User
from tests.apps.api.conftest import new_token
from tests.servers import free_port, portal_command, running, server_env

#: Fixed, so that a failure is reproducible with the same command.
SEED = 20260101
MAX_EXAMPLES = 40
FUZZ_TIMEOUT = 180.0


@pytest.fixture
def server(clean_db: str, tmp_path: Path) -> Iterator[str]:
    """The real server (``python -m portal run``, debug off) on a free port; its base URL."""
    port = free_port()
    env = server_env(clean_db, tmp_path / "data")
    with running(portal_command(port), port, env, tmp_path / "server.log") as server:
        yield server.url


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
