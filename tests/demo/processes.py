"""Running the demo's commands as subprocesses, the way a user does, from the virtualenv's scripts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "demo_app"
BIN = Path(sys.executable).parent
TIMEOUT = 60


def command(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: pip install -e '.[demo]'")
    return str(path)


def clean_environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "DEMO_"))}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(args: list[str], cwd: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=TIMEOUT,
                          env=clean_environment(**env), check=False)


def get_when_up(url: str, server: subprocess.Popen[str]) -> str:
    """The body of a GET of ``url`` once ``server`` listens (it must answer 200)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        if server.poll() is not None:
            pytest.fail(f"pserve exited with {server.returncode}: {server.stderr.read() if server.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
