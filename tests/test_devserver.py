"""``adev runserver portal``: a code change reloads the app, not the database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.servers import ROOT, free_port


def _wait_for(base: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{base}/polls/", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the dev server did not answer:\n{log.read_text()}")


def test_a_reload_keeps_the_embedded_postgresql_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_DATA_DIR"] = str(data_dir)
    python = sys.executable
    subprocess.run([python, "-m", "portal", "migrate"], cwd=ROOT, env=env, check=True)
    pid_file = data_dir / "postgres" / "postmaster.pid"
    port = free_port()
    log = tmp_path / "adev.log"
    adev = str(Path(python).parent / "adev")
    with log.open("w") as out:
        server = subprocess.Popen(
            [adev, "runserver", "portal", "--port", str(port), "--aux-port", str(free_port())],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(base, server, log, 30)
            postgres_before = pid_file.read_text().splitlines()[0]

            # A change to the code: adev restarts the app process.
            (ROOT / "portal" / "apps" / "polls" / "views.py").touch()
            deadline = time.monotonic() + 20
            while "Restarting dev server" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            _wait_for(base, server, log, 30)

            assert pid_file.read_text().splitlines()[0] == postgres_before
        finally:
            server.terminate()
            server.wait(timeout=15)
            subprocess.run([python, "-m", "portal", "db", "stop"], cwd=ROOT, env=env, check=False)
