"""Fixtures: a real `rig serve` child process per test, on 127.0.0.1.

RIG_BIN names the `rig` binary (CI builds it with `cargo build --bin rig`).
"""

import os
import queue
import subprocess
import threading

import pytest

STARTUP_TIMEOUT_S = 30


class Server:
    """A `rig serve` process; `restart()` serves again on the same port."""

    def __init__(self, binary, extra_args=()):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.addr = "127.0.0.1:0"
        self.process = None
        self.url = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--addr", self.addr, *self.extra_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines = queue.Queue()
        # readline blocks; a thread keeps the wait bounded.
        threading.Thread(
            target=lambda: lines.put(self.process.stdout.readline()), daemon=True
        ).start()
        prefix = "listening on "
        try:
            line = lines.get(timeout=STARTUP_TIMEOUT_S)
            assert line.startswith(prefix), f"rig serve said {line!r}"
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise
        self.url = line[len(prefix) :].strip()
        # Serve on this port again after a restart.
        self.addr = self.url.split("//", 1)[1].split("/", 1)[0]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=STARTUP_TIMEOUT_S)

    def restart(self):
        self.stop()
        self.start()


def rig_binary():
    binary = os.environ.get("RIG_BIN")
    if not binary:
        pytest.skip("RIG_BIN is not set (path to the `rig` binary)")
    return binary


@pytest.fixture
def server():
    srv = Server(rig_binary())
    yield srv
    srv.stop()


@pytest.fixture
def token_server():
    srv = Server(rig_binary(), ["--token", "secret"])
    yield srv
    srv.stop()
