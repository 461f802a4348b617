"""A script that exits with sockets still open, callbacks still firing,
ends cleanly: the engines stop at exit before the interpreter goes away."""

import subprocess
import sys

SCRIPT = """
import sys, threading, rig
sockets = []
busy = threading.Event()
for i in range(3):
    socket = rig.Socket(sys.argv[1])
    socket.connect()
    stream = socket.channel(f"stream:exit-{i}", {"rate": 5000, "count": 10_000_000, "pace": "frame"})
    stream.on("event", lambda message: busy.set())
    stream.join(timeout=10)
    sockets.append(socket)
assert busy.wait(10)
print("exiting")
"""


def test_exit_with_open_sockets_and_busy_callbacks_is_clean(server):
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, server.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == "exiting\n"
        assert "panicked" not in done.stderr, done.stderr
