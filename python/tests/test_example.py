"""The README's example script runs against `rig serve`."""

import pathlib
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).parent.parent / "examples" / "lobby.py"


def test_the_lobby_example_runs(server):
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "echo replied: {'n': 1}" in done.stdout
    assert "echo_error replied error: {'n': 2}" in done.stdout
    assert "broadcast shout: {'text': 'hello'}" in done.stdout
    assert "present: ann" in done.stdout
