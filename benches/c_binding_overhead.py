#!/usr/bin/env python3
"""rig from C against rig from Rust, same path, same run: a paced
`stream:*` topic (one frame per event) read from a pollable subscription
on the main thread, through the C ABI (ffi/bench/c_bench.c) and through
rig-bench --consumer subscription. ABAB over --reps; medians [min-max] of
p50, p99 and CPU %, and the C/Rust ratios.

    python3 benches/c_binding_overhead.py [--reps 5] [--rate 10000] [--seconds 10]

Builds the release binaries and librig_ffi.a (cargo, honouring
CARGO_TARGET_DIR) and compiles the C program with `cc -O2` first.
"""

import argparse
import json
import os
import statistics
import subprocess


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--rate", type=int, default=10_000)
    p.add_argument("--seconds", type=int, default=10)
    args = p.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    rel = os.path.join(target, "release")
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "rig-ffi", "-p", "rig-phoenix",
                    "--bin", "rig", "--bin", "rig-bench"], check=True)
    c_bench = os.path.join(rel, "c_bench")
    subprocess.run(["cc", "-O2", "-I", "ffi/include", "ffi/bench/c_bench.c",
                    os.path.join(rel, "librig_ffi.a"), "-lpthread", "-ldl", "-lm", "-o", c_bench],
                   check=True)
    server = subprocess.Popen([os.path.join(rel, "rig"), "serve", "--addr", "127.0.0.1:0", "-q"],
                              stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().split()[-1]
    count = args.rate * args.seconds
    argv = {
        "c": lambda n: [c_bench, url, f"stream:c{n}", str(args.rate), str(count)],
        "rust": lambda n: [os.path.join(rel, "rig-bench"), "--url", url, "--topic", f"stream:r{n}",
                           "--rate", str(args.rate), "--count", str(count), "--pace", "frame",
                           "--consumer", "subscription"],
    }
    up = lambda: subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print("uptime:", up())
    runs = {"c": [], "rust": []}
    try:
        for rep in range(args.reps):
            for name in (["c", "rust"] if rep % 2 == 0 else ["rust", "c"]):
                out = subprocess.run(argv[name](rep), capture_output=True, text=True, check=True)
                line = json.loads(out.stdout.strip().splitlines()[-1])
                r = {"p50": line["latency_us"]["p50"], "p99": line["latency_us"]["p99"],
                     "cpu": line["cpu_pct"], "events": line["events"]}
                runs[name].append(r)
                print(f"rep {rep + 1} {name:4}: {r}", flush=True)
    finally:
        server.terminate()
        server.wait()
    print("uptime:", up())
    med = lambda name, key: statistics.median(r[key] for r in runs[name])
    for name in ("c", "rust"):
        cells = []
        for key in ("p50", "p99", "cpu"):
            vals = [r[key] for r in runs[name]]
            cells.append(f"{key} {statistics.median(vals):.1f} [{min(vals):.1f}-{max(vals):.1f}]")
        print(f"{name:4}: " + "  ".join(cells))
    for key in ("p50", "p99", "cpu"):
        print(f"C / Rust {key}: {med('c', key) / med('rust', key):.2f}x")


if __name__ == "__main__":
    main()
