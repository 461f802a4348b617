#!/usr/bin/env python3
"""What `--metrics` costs: rig-bench at 10k ev/s with and without its
counters served as OpenMetrics and scraped every second, ABAB-interleaved.

    python3 benches/metrics_overhead.py [--reps 5] [--rate 10000] [--seconds 10]

Starts `rig serve` (release build in CARGO_TARGET_DIR or target/), then per
rep runs `rig-bench --consumer on --pace frame` twice, in alternating order:
plain, and with `--metrics 127.0.0.1:PORT` while a thread here GETs
/metrics every second (the listener's rendering counts in rig-bench's CPU,
as it runs in that process). Prints each run's CPU % (rig-bench's own
getrusage over the stream) and p50/p99, then medians [min-max] and the
relative CPU rise. Build first: cargo build --release -p rig-phoenix --bins.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scraper(port, stop, scrapes):
    while not stop.wait(1.0):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                r.read()
                scrapes.append(1)
        except OSError:
            pass


def bench(bin_dir, url, rate, count, metrics):
    argv = [f"{bin_dir}/rig-bench", "--url", url, "--rate", str(rate), "--count", str(count),
            "--pace", "frame", "--consumer", "on"]
    stop, scrapes, thread = threading.Event(), [], None
    if metrics:
        port = free_port()
        argv += ["--metrics", f"127.0.0.1:{port}"]
        thread = threading.Thread(target=scraper, args=(port, stop, scrapes), daemon=True)
        thread.start()
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    stop.set()
    if thread:
        thread.join()
    line = json.loads(out.strip().splitlines()[-1])
    return {"cpu": line["cpu_pct"], "p50": line["latency_us"]["p50"],
            "p99": line["latency_us"]["p99"], "scrapes": len(scrapes)}


def summary(values):
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--rate", type=int, default=10_000)
    p.add_argument("--seconds", type=int, default=10)
    args = p.parse_args()
    bin_dir = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release")
    server = subprocess.Popen([f"{bin_dir}/rig", "serve", "--addr", "127.0.0.1:0", "-q"],
                              stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().split()[-1]
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    runs = {False: [], True: []}
    try:
        for rep in range(args.reps):
            order = [False, True] if rep % 2 == 0 else [True, False]
            for metrics in order:
                r = bench(bin_dir, url, args.rate, args.rate * args.seconds, metrics)
                runs[metrics].append(r)
                print(f"rep {rep + 1} {'metrics' if metrics else 'plain  '}: {r}", flush=True)
    finally:
        server.terminate()
        server.wait()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for metrics in (False, True):
        rs = runs[metrics]
        print(f"{'metrics+scrape' if metrics else 'plain'}: cpu % {summary([r['cpu'] for r in rs])}"
              f"  p50 µs {summary([r['p50'] for r in rs])}  p99 µs {summary([r['p99'] for r in rs])}")
    base = statistics.median(r["cpu"] for r in runs[False])
    with_m = statistics.median(r["cpu"] for r in runs[True])
    print(f"CPU rise with metrics scraped every second: {100 * (with_m / base - 1):+.1f} % relative")


if __name__ == "__main__":
    main()
