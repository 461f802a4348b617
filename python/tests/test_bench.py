"""The benchmark script runs (a tiny run of the binding's two paths)."""

import json
import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).parent.parent / "bench" / "bench.py"


def test_the_bench_script_runs(server):
    done = subprocess.run(
        [sys.executable, str(BENCH), "--url", server.url, "--rate", "10000", "--count", "200",
         "--rounds", "1", "--clients", "rig-subscribe,rig-on"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    runs = [line for line in lines if "client" in line]
    assert [(r["client"], r["events"], r["gaps"]) for r in runs] == [
        ("rig-subscribe", 200, 0),
        ("rig-on", 200, 0),
    ]
    assert {line["summary"]["client"] for line in lines if "summary" in line} == {
        "rig-subscribe",
        "rig-on",
    }
