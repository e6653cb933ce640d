"""A private redis-server on a free loopback port, for fault tests: kill it, hang it (SIGSTOP), restart it.

It runs in its own process group and directory; ``stop`` (called by the fixture's finalizer, also after a failed
test) kills the group and removes the directory. If the test run itself is killed, the kernel kills the server
(``PR_SET_PDEATHSIG``, Linux) and the directory is one of pytest's temporary directories, which pytest rotates.
The shared Redis on 6379 is never touched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the process that started it dies (a killed test run)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(libc_name, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


class PrivateRedis:
    def __init__(self, executable: str, directory: str) -> None:
        self.executable = executable
        self.port = free_port()
        self.dir = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
            "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no", "--protected-mode", "no",
        ]
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer within 10 s")

    def save(self) -> None:
        """Write the RDB snapshot now (a restart then loads it)."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.save()
        finally:
            client.close()

    def _signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)
        self.process = None

    def hang(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def restart(self) -> None:
        """Kill it and start it again on the same port, from its RDB file."""
        self.kill()
        self.start()

    def stop(self) -> None:
        try:
            self.kill()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
