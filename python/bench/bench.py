"""Overhead of the Python binding: events/s and latency through `rig`
against a raw `websockets` reader and a pure-Python Phoenix client.

Each run joins a fresh `stream:*` topic on `rig serve` with join params
rate, count and pace "frame"; the server sends `event` {"seq": n, "t":
<server wall clock in us>} then `done`. Latency is the consumer's wall
clock minus `t`, when the payload reaches Python code. Clients run
interleaved (A B C A B C ...) so drift in the machine's load hits each
alike; the summary gives medians over the rounds.

    rig serve --addr 127.0.0.1:4000 &            # a release build
    pip install websockets phxsocket              # the baselines
    python python/bench/bench.py --url ws://127.0.0.1:4000/socket \\
        --rate 10000 --count 100000 --rounds 5

Clients: rig-subscribe (iterating a Subscription on the main thread),
rig-on (a callback on the engine's dispatcher thread), websockets (raw V2
frames, json.loads per frame: the floor for pure Python), phxsocket (a
Phoenix client from PyPI, V1 JSON). A client whose package is missing
is skipped with a note.
"""

import argparse
import itertools
import json
import statistics
import sys
import threading
import time

IDLE_TIMEOUT_S = 10


def now_us():
    return time.time_ns() // 1000


class Run:
    """What one client saw on one topic."""

    def __init__(self, client, count):
        self.client = client
        self.count = count
        self.latencies = []
        self.seqs = set()
        self.started = None
        self.finished = None

    def record(self, payload):
        t = now_us()
        if self.started is None:
            self.started = time.perf_counter()
        self.latencies.append(t - payload["t"])
        self.seqs.add(payload["seq"])
        self.finished = time.perf_counter()

    def result(self):
        lat = sorted(self.latencies)
        n = len(lat)
        elapsed = (self.finished - self.started) if n > 1 else 0.0

        def pct(p):
            return lat[min(n - 1, int(p * n))] if n else None

        return {
            "client": self.client,
            "events": n,
            "gaps": self.count - len(self.seqs),
            "elapsed_s": round(elapsed, 3),
            "events_per_s": round((n - 1) / elapsed, 1) if elapsed else None,
            "latency_us": {"p50": pct(0.50), "p99": pct(0.99), "max": lat[-1] if n else None},
        }


def params(args):
    return {"rate": args.rate, "count": args.count, "pace": "frame"}


def run_rig_subscribe(args, topic):
    import rig

    run = Run("rig-subscribe", args.count)
    with rig.Socket(args.url) as socket:
        channel = socket.channel(topic, params(args))
        events = channel.subscribe("event", timeout=IDLE_TIMEOUT_S)
        channel.join(timeout=IDLE_TIMEOUT_S)
        try:
            for message in events:
                run.record(message.payload)
                if message.payload["seq"] >= args.count:
                    break
        except rig.Timeout:
            pass
    return run


def run_rig_on(args, topic):
    import rig

    run = Run("rig-on", args.count)
    done = threading.Event()
    with rig.Socket(args.url) as socket:
        channel = socket.channel(topic, params(args))
        channel.on("event", lambda message: run.record(message.payload))
        channel.on("done", lambda message: done.set())
        channel.join(timeout=IDLE_TIMEOUT_S)
        # Bounded: the stream lasts count / rate seconds.
        done.wait(args.count / args.rate + IDLE_TIMEOUT_S)
    return run


def run_websockets(args, topic):
    from websockets.sync.client import connect

    run = Run("websockets", args.count)
    url = args.url.rstrip("/") + "/websocket?vsn=2.0.0"
    with connect(url, max_size=None) as ws:
        ws.send(json.dumps(["1", "1", topic, "phx_join", params(args)]))
        while True:
            try:
                frame = ws.recv(timeout=IDLE_TIMEOUT_S)
            except TimeoutError:
                break
            _join_ref, _ref, _topic, event, payload = json.loads(frame)
            if event == "event":
                run.record(payload)
            elif event == "done":
                break
    return run


def run_phxsocket(args, topic):
    import phxsocket

    run = Run("phxsocket", args.count)
    done = threading.Event()
    client = phxsocket.Client(args.url.rstrip("/") + "/websocket")
    client.connect()
    try:
        channel = client.channel(topic, params(args))
        channel.on("event", run.record)
        channel.on("done", lambda payload: done.set())
        channel.join()
        done.wait(args.count / args.rate + IDLE_TIMEOUT_S)
    finally:
        client.close()
    return run


CLIENTS = {
    "rig-subscribe": (run_rig_subscribe, "rig"),
    "rig-on": (run_rig_on, "rig"),
    "websockets": (run_websockets, "websockets"),
    "phxsocket": (run_phxsocket, "phxsocket"),
}


def available(names):
    import importlib.util

    chosen = []
    for name in names:
        module = CLIENTS[name][1]
        if importlib.util.find_spec(module) is None:
            print(f"# {name}: skipped ({module} is not installed)", file=sys.stderr)
        else:
            chosen.append(name)
    return chosen


def summary(results):
    by_client = {}
    for r in results:
        by_client.setdefault(r["client"], []).append(r)
    base = by_client.get("websockets")
    base_p50 = statistics.median(r["latency_us"]["p50"] for r in base) if base else None
    rows = []
    for client, runs in by_client.items():
        rates = [r["events_per_s"] for r in runs if r["events_per_s"]]
        p50 = statistics.median(r["latency_us"]["p50"] for r in runs if r["events"])
        p99 = statistics.median(r["latency_us"]["p99"] for r in runs if r["events"])
        rows.append(
            {
                "client": client,
                "rounds": len(runs),
                "events_per_s": statistics.median(rates) if rates else None,
                "p50_us": p50,
                "p99_us": p99,
                "gaps": sum(r["gaps"] for r in runs),
                "p50_vs_websockets": round(p50 / base_p50, 2) if base_p50 else None,
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="rig serve's ws://HOST:PORT/socket")
    parser.add_argument("--rate", type=int, default=10000, help="events per second")
    parser.add_argument("--count", type=int, default=100000, help="events per run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help=f"comma-separated, from {', '.join(CLIENTS)}",
    )
    args = parser.parse_args()
    names = [n for n in args.clients.split(",") if n]
    unknown = [n for n in names if n not in CLIENTS]
    if unknown or args.rate <= 0 or args.count <= 0 or args.rounds <= 0:
        parser.error(f"unknown clients {unknown}" if unknown else "rate, count, rounds must be > 0")
    names = available(names)
    results = []
    topics = (f"stream:pybench-{time.time_ns()}-{i}" for i in itertools.count())
    for round_no in range(args.rounds):
        for name in names:
            run = CLIENTS[name][0](args, next(topics))
            result = run.result()
            result["round"] = round_no
            print(json.dumps(result), flush=True)
            results.append(result)
    for row in summary(results):
        print(json.dumps({"summary": row}), flush=True)
    return 1 if any(r["gaps"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
