#!/usr/bin/env python3
"""The overhead matrix: rig's consumer paths against baseline clients, one run.

    python3 benches/matrix.py [--reps 5] [--quick] [--rates 1000,10000]
                              [--burst-count 2000000] [--events-per-rate-run N]
                              [--only REGEX] [--json FILE] [--cpu-hog] [--no-build]
                              [--before DIR]

Starts one `rig serve --addr 127.0.0.1:0` (release build) and runs every
client as a child process against it, for each workload: each rate in
--rates (the server writes one frame per event, on time: `"pace":"frame"`,
as real Phoenix/Bandit does) and a burst (as fast as the socket takes
them). Reps are interleaved ABAB: rep 1 runs the clients in list order, rep
2 in reverse, and so on, so a drift of the machine hits every client alike.

Each client prints one JSON line (rig-bench's fields: events_per_s and
latency_us p50/p99 are read from it); the runner measures the child itself
with os.wait4: CPU % = (utime + stime) over the run's wall time (process
start to exit, startup included; 100 = one core), context switches
(voluntary + involuntary) per event, peak RSS (ru_maxrss).

Output: `uptime` before and after, one table per workload with each column
as median [min-max] over the reps, then the ratios of each rig path to each
baseline (medians; below 1 is better for p50, p99 and CPU per event, above
1 is better for burst throughput).

Python 3.11 standard library only. Builds with
`cargo build --release -p rig-phoenix -p rig-stress --bins` first (honours
CARGO_TARGET_DIR) unless --no-build; phoenix.js needs `npm ci` in tests/js.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The clients, in ABAB order. `argv` is a template: {bin} is the release
# directory, {root} the repository; the runner appends --url, --topic and
# the workload's flags, which every client takes alike. One line adds a
# client (e.g. a new rig consumer path).
CLIENTS = [
    {"name": "inline", "argv": ["{bin}/rig-baseline", "--mode", "inline"]},
    {"name": "naive", "argv": ["{bin}/rig-baseline", "--mode", "naive"]},
    {"name": "batch", "argv": ["{bin}/rig-baseline", "--mode", "batch"]},
    {"name": "phoenix.js", "argv": ["node", "{root}/tests/js/bench.mjs"]},
    {"name": "rig/subscription", "argv": ["{bin}/rig-bench", "--consumer", "subscription"], "rig": True},
    {"name": "rig/on", "argv": ["{bin}/rig-bench", "--consumer", "on"], "rig": True},
    {"name": "rig/filter", "argv": ["{bin}/rig-bench", "--consumer", "filter"], "rig": True},
    {"name": "rig/sub+backoff", "argv": ["{bin}/rig-bench", "--consumer", "subscription", "--idle", "backoff"], "rig": True},
    {"name": "rig/sub+spin", "argv": ["{bin}/rig-bench", "--consumer", "subscription", "--idle", "spin"], "rig": True},
    {"name": "rig/on+backoff", "argv": ["{bin}/rig-bench", "--consumer", "on", "--idle", "backoff"], "rig": True},
    {"name": "rig/invoker", "argv": ["{bin}/rig-bench", "--consumer", "inline"], "rig": True},
    {"name": "rig/invoker+spin", "argv": ["{bin}/rig-bench", "--consumer", "inline", "--idle", "spin"], "rig": True},
]

# What rig paths are compared with, in the ratios section.
BASELINES = ["phoenix.js", "naive", "batch", "inline"]

# A child that has not exited after this long is killed (its own deadline
# for `done` is longer than any sane run; this is the runner's backstop).
CHILD_TIMEOUT_S = 600

# Children alive right now (the server, the hog, the client): killed on exit.
LIVE: set[subprocess.Popen] = set()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=5, help="repetitions, ABAB-interleaved (default 5)")
    p.add_argument("--quick", action="store_true",
                   help="short runs: ~2 s per rate run, a 300,000-event burst")
    p.add_argument("--rates", default="1000,10000", help="paced rates, events/s (default 1000,10000)")
    p.add_argument("--burst-count", type=int, default=None, help="events in the burst (default 2000000)")
    p.add_argument("--events-per-rate-run", type=int, default=None,
                   help="events per rate run (default: rate x 6 s, or 2 s with --quick)")
    p.add_argument("--only", default=None, help="run only clients whose name matches this regex")
    p.add_argument("--json", default=None, metavar="FILE", help="also write every run's raw results here")
    p.add_argument("--cpu-hog", action="store_true", help="keep one core busy during the whole run")
    p.add_argument("--no-build", action="store_true", help="do not run cargo build first")
    p.add_argument("--before", default=None, metavar="DIR",
                   help="also run each selected rig path with DIR/rig-bench (an earlier build), "
                        "named before/..., interleaved in the same run")
    args = p.parse_args()
    if args.reps < 1:
        p.error("--reps must be at least 1")
    try:
        args.rates = [int(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        p.error(f"--rates {args.rates}: want comma-separated integers")
    if any(r < 1 for r in args.rates):
        p.error("--rates must be at least 1")
    if args.burst_count is None:
        args.burst_count = 300_000 if args.quick else 2_000_000
    return args


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")).resolve() / "release"


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen(argv, **kwargs)
    LIVE.add(proc)
    return proc


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        proc.wait()
    LIVE.discard(proc)


def kill_all() -> None:
    for proc in list(LIVE):
        kill(proc)


def start_server(bin_dir: Path) -> tuple[subprocess.Popen, str]:
    proc = spawn([str(bin_dir / "rig"), "serve", "--addr", "127.0.0.1:0", "-q"],
                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    m = re.match(r"listening on (ws://\S+)", line)
    if not m:
        kill(proc)
        sys.exit(f"matrix: rig serve did not start (said {line!r})")
    return proc, m.group(1)


def start_hog() -> subprocess.Popen:
    if shutil.which("stress-ng"):
        argv = ["stress-ng", "--cpu", "1", "--quiet"]
    else:
        argv = [sys.executable, "-c", "while 1: pass"]
    print(f"cpu hog: {' '.join(argv)}")
    return spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def workloads(args: argparse.Namespace) -> list[dict]:
    out = []
    secs = 2 if args.quick else 6
    for rate in args.rates:
        count = args.events_per_rate_run or rate * secs
        name = f"{rate / 1000:g}k ev/s" if rate >= 1000 else f"{rate} ev/s"
        out.append({"name": name, "rate": rate,
                    "flags": ["--rate", str(rate), "--count", str(count), "--pace", "frame"]})
    out.append({"name": "burst", "rate": None, "flags": ["--burst", "--count", str(args.burst_count)]})
    return out


def run_client(client: dict, url: str, topic: str, workload: dict, bin_dir: Path) -> dict:
    argv = [a.format(bin=bin_dir, root=ROOT) for a in client["argv"]]
    argv += ["--url", url, "--topic", topic] + workload["flags"]
    started = time.monotonic()
    proc = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timer = threading.Timer(CHILD_TIMEOUT_S, lambda: proc.kill())
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    stdout = proc.stdout.read().decode(errors="replace")
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stdout.close()
    proc.stderr.close()
    LIVE.discard(proc)
    result = {"client": client["name"], "workload": workload["name"], "exit": code, "wall_s": wall,
              "utime_s": usage.ru_utime, "stime_s": usage.ru_stime,
              "nvcsw": usage.ru_nvcsw, "nivcsw": usage.ru_nivcsw, "maxrss_kb": usage.ru_maxrss}
    report = None
    for line in stdout.splitlines():
        try:
            report = json.loads(line)
        except json.JSONDecodeError:
            continue
    if report is None or code not in (0, 1):
        tail = (stderr.strip().splitlines() or ["(no output)"])[-1]
        result["error"] = f"exit {code}: {tail}"
        return result
    events = max(int(report.get("events", 0)), 1)
    cpu_s = usage.ru_utime + usage.ru_stime
    result.update({
        "report": report,
        "events_per_s": float(report["events_per_s"]),
        "p50_us": float(report["latency_us"]["p50"]),
        "p99_us": float(report["latency_us"]["p99"]),
        "cpu_pct": cpu_s / wall * 100 if wall > 0 else 0.0,
        "cpu_us_per_event": cpu_s * 1e6 / events,
        "ctx_per_event": (usage.ru_nvcsw + usage.ru_nivcsw) / events,
        # The client's own VmHWM: ru_maxrss of a child also counts the
        # forked Python image it had before exec (~16 MB for every client).
        "rss_mb": (report.get("vmhwm_kb") or usage.ru_maxrss) / 1024,
        "gaps": int(report.get("gaps", 0)),
    })
    return result


def fmt_num(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e4:
        return f"{x / 1e3:.0f}k"
    if x >= 1e3:
        return f"{x / 1e3:.2f}k"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_int(x: float) -> str:
    return fmt_num(x) if x >= 1e4 else f"{x:.0f}"


def fmt_1(x: float) -> str:
    return f"{x:.1f}"


def fmt_ctx(x: float) -> str:
    return f"{x:.3f}" if x < 0.1 else f"{x:.2f}"


def spread(values: list[float], fmt=fmt_num) -> str:
    if not values:
        return "-"
    return f"{fmt(statistics.median(values))} [{fmt(min(values))}-{fmt(max(values))}]"


# (header, result key, formatter)
COLUMNS = [("events/s", "events_per_s", fmt_num), ("p50 µs", "p50_us", fmt_int),
           ("p99 µs", "p99_us", fmt_int), ("CPU %", "cpu_pct", fmt_1),
           ("ctx/event", "ctx_per_event", fmt_ctx), ("RSS MB", "rss_mb", fmt_1)]


def print_table(workload: str, clients: list[dict], results: list[dict]) -> None:
    print(f"\n== {workload} ==")
    rows = [["client"] + [header for header, _, _ in COLUMNS]]
    notes = []
    for client in clients:
        runs = [r for r in results if r["workload"] == workload and r["client"] == client["name"]]
        ok = [r for r in runs if "error" not in r]
        row = [client["name"]] + [spread([r[key] for r in ok], fmt) for _, key, fmt in COLUMNS]
        failed = len(runs) - len(ok)
        if failed:
            row[0] += f" ({failed} failed)"
            notes += [f"  {client['name']}: {r['error']}" for r in runs if "error" in r]
        gaps = sum(r.get("gaps", 0) for r in ok)
        if gaps:
            notes.append(f"  {client['name']}: {gaps} events missing (gaps)")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    for note in notes:
        print(note)


def median_of(results: list[dict], workload: str, client: str, key: str) -> float | None:
    values = [r[key] for r in results if r["workload"] == workload and r["client"] == client and "error" not in r]
    return statistics.median(values) if values else None


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def print_ratios(clients: list[dict], results: list[dict], loads: list[dict]) -> None:
    names = {c["name"] for c in clients}
    rigs = [c["name"] for c in clients if c.get("rig")]
    bases = [b for b in BASELINES if b in names]
    if not rigs or not bases:
        return
    print("\n== ratios: rig path / baseline (medians; < 1 better for p50, p99, CPU/event; > 1 better for burst ev/s) ==")
    for rig in rigs:
        for base in bases:
            parts = []
            for w in loads:
                if w["rate"] is None:
                    continue
                n = w["name"]
                parts.append(f"{n}: p50 {ratio(median_of(results, n, rig, 'p50_us'), median_of(results, n, base, 'p50_us'))}"
                             f" p99 {ratio(median_of(results, n, rig, 'p99_us'), median_of(results, n, base, 'p99_us'))}"
                             f" CPU/ev {ratio(median_of(results, n, rig, 'cpu_us_per_event'), median_of(results, n, base, 'cpu_us_per_event'))}")
            parts.append(f"burst ev/s {ratio(median_of(results, 'burst', rig, 'events_per_s'), median_of(results, 'burst', base, 'events_per_s'))}"
                         f" CPU/ev {ratio(median_of(results, 'burst', rig, 'cpu_us_per_event'), median_of(results, 'burst', base, 'cpu_us_per_event'))}")
            print(f"{rig} vs {base}: " + " | ".join(parts))


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "(uptime unavailable)"


def main() -> int:
    args = parse_args()
    clients = CLIENTS
    if args.only:
        clients = [c for c in clients if re.search(args.only, c["name"])]
        if not clients:
            sys.exit(f"matrix: --only {args.only!r} matches no client")
    if args.before:
        earlier = str(Path(args.before).resolve() / "rig-bench")
        clients = clients + [
            {**c, "name": "before/" + c["name"].split("/", 1)[1], "argv": [earlier, *c["argv"][1:]]}
            for c in clients if c.get("rig")
        ]
    if any(c["name"] == "phoenix.js" for c in clients) and not (ROOT / "tests/js/node_modules/phoenix").is_dir():
        print("matrix: tests/js/node_modules is missing (run `npm ci` in tests/js): skipping phoenix.js")
        clients = [c for c in clients if c["name"] != "phoenix.js"]
    if not args.no_build:
        build = ["cargo", "build", "--release", "-p", "rig-phoenix", "-p", "rig-stress", "--bins"]
        print("$ " + " ".join(build), flush=True)
        if subprocess.run(build, cwd=ROOT, check=False).returncode != 0:
            return 1
    bin_dir = target_dir()
    loads = workloads(args)
    results: list[dict] = []
    try:
        server, url = start_server(bin_dir)
        hog = start_hog() if args.cpu_hog else None
        print(f"server: {url}  (pid {server.pid}); clients: {', '.join(c['name'] for c in clients)}")
        print(f"workloads: {', '.join(w['name'] + ' ' + ' '.join(w['flags']) for w in loads)}; reps {args.reps}, ABAB")
        print(f"before: {uptime()}", flush=True)
        run_no = 0
        for rep in range(args.reps):
            order = clients if rep % 2 == 0 else list(reversed(clients))
            for w in loads:
                for client in order:
                    run_no += 1
                    r = run_client(client, url, f"stream:bench-{run_no}", w, bin_dir)
                    r["rep"] = rep + 1
                    results.append(r)
                    status = r.get("error") or (f"{fmt_num(r['events_per_s'])} ev/s p50 {r['p50_us']:.0f} p99 {r['p99_us']:.0f} µs"
                                                f" CPU {r['cpu_pct']:.1f}% ctx/ev {r['ctx_per_event']:.2f}")
                    print(f"rep {rep + 1}/{args.reps} {w['name']:>9} {client['name']:<17} {status}", flush=True)
        print(f"after: {uptime()}")
        if hog is not None:
            kill(hog)
        kill(server)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print(f"\nmatrix: interrupted after {len(results)} runs; killing children", file=sys.stderr)
        kill_all()
        return 130
    finally:
        kill_all()
    for w in loads:
        print_table(w["name"], clients, results)
    print_ratios(clients, results, loads)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"args": {k: v for k, v in vars(args).items()}, "runs": results}, f, indent=1)
        print(f"\nraw results: {args.json}")
    return 0 if all("error" not in r for r in results) else 1


def on_sigterm(_signum, _frame) -> None:
    """SIGTERM ends the run as Ctrl-C does; a second one is ignored while
    the children are being killed."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_sigterm)
    sys.exit(main())
