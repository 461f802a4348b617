// One measured run of a `stream:*` topic through the official phoenix.js
// client (npm `phoenix`, transport: the `ws` package), reported as one JSON
// line with the fields rig-bench prints, so benches/matrix.py reads every
// client alike.
//
//   node tests/js/bench.mjs --url ws://HOST:PORT/socket [--topic stream:bench]
//        (--rate R --count N | --burst --count N) [--pace frame] [--param K=V]...
//
// Latency: the wall clock at the `event` callback, in µs
// (performance.timeOrigin + performance.now()), minus the payload's `t` (the
// server's wall clock in µs; same machine). cpu_pct: process.cpuUsage() over
// the run (join sent to `done`; 100 = one core). vmhwm_kb: VmHWM of this
// process. Exit codes: 0 ok, 1 gaps > 0, 2 usage error, 3 connect/join failure.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Socket } from "phoenix";
import WebSocket from "ws";

function usage(message) {
  process.stderr.write(`bench.mjs: ${message}\n`);
  process.stderr.write(
    "usage: node tests/js/bench.mjs --url ws://HOST:PORT/socket [--topic T] (--rate R --count N | --burst --count N) [--pace frame] [--param K=V]...\n",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const args = { topic: "stream:bench", params: {}, burst: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case "--url": args.url = value(); break;
      case "--topic": args.topic = value(); break;
      case "--rate": args.rate = Number(value()); break;
      case "--count": args.count = Number(value()); break;
      case "--burst": args.burst = true; break;
      case "--pace": args.pace = value(); break;
      case "--param": {
        const kv = value();
        const eq = kv.indexOf("=");
        if (eq < 1) usage(`--param ${kv}: want K=V`);
        args.params[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      default: usage(`unknown argument ${flag}`);
    }
  }
  if (!args.url) usage("--url is required");
  if (!(args.count >= 1)) usage("--count must be at least 1");
  if (args.burst === (args.rate !== undefined)) usage("one of --rate R or --burst is required");
  if (args.rate !== undefined && !(args.rate >= 1)) usage("--rate must be at least 1");
  if (args.pace !== undefined && args.pace !== "frame") usage(`--pace ${args.pace}: want frame`);
  return args;
}

/** Latencies in µs: 1 µs buckets up to a second (only touched pages become
 *  resident), exact values above; quantiles as HDR's value_at_quantile. */
class Latencies {
  constructor() {
    this.buckets = new Uint32Array(1_000_000);
    this.over = [];
    this.n = 0;
    this.max = 0;
  }
  record(us) {
    const v = us < 0 ? 0 : Math.round(us);
    if (v < this.buckets.length) this.buckets[v]++;
    else this.over.push(v);
    this.n++;
    if (v > this.max) this.max = v;
  }
  quantile(q) {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let v = 0; v < this.buckets.length; v++) {
      seen += this.buckets[v];
      if (seen >= rank) return v;
    }
    this.over.sort((a, b) => a - b);
    return this.over[rank - seen - 1] ?? this.max;
  }
}

const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;
const round3 = (x) => Math.round(x * 1000) / 1000;

function vmhwmKb() {
  try {
    const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("VmHWM:"));
    return line ? Number(line.replace(/[^0-9]/g, "")) : 0;
  } catch {
    return 0;
  }
}

const args = parseArgs(process.argv.slice(2));
const joinParams = args.burst ? { mode: "burst", count: args.count } : { rate: args.rate, count: args.count };
if (args.pace) joinParams.pace = args.pace;
const doneWaitMs = ((args.burst ? 0 : Math.ceil(args.count / args.rate) + 1) + 120) * 1000;

const socket = new Socket(args.url, { transport: WebSocket, params: args.params });
const latency = new Latencies();
let events = 0;
let gaps = 0;
let nextSeq = 1;
let started = 0;
let cpuBefore = null;

const fail = (code, message) => {
  process.stderr.write(`bench.mjs: ${message}\n`);
  process.exit(code);
};
const timer = setTimeout(() => fail(3, `no done on ${args.topic} within ${doneWaitMs} ms`), doneWaitMs);

socket.onError(() => {
  if (started === 0) fail(3, `cannot connect to ${args.url}`);
});
socket.onOpen(() => {
  if (started !== 0) return;
  const channel = socket.channel(args.topic, joinParams);
  channel.on("event", (payload) => {
    latency.record(nowUs() - payload.t);
    events++;
    if (payload.seq > nextSeq) gaps += payload.seq - nextSeq;
    if (payload.seq + 1 > nextSeq) nextSeq = payload.seq + 1;
  });
  channel.on("done", () => {
    const elapsed = (nowUs() - started) / 1e6;
    const cpu = process.cpuUsage(cpuBefore);
    gaps += Math.max(0, args.count + 1 - nextSeq);
    const line = {
      mode: "phoenix.js",
      events,
      elapsed_s: round3(elapsed),
      events_per_s: elapsed > 0 ? Math.round(events / elapsed) : 0,
      latency_us: {
        p50: latency.quantile(0.5),
        p90: latency.quantile(0.9),
        p99: latency.quantile(0.99),
        p999: latency.quantile(0.999),
        max: latency.max,
      },
      cpu_pct: elapsed > 0 ? round3(((cpu.user + cpu.system) / 1e6 / elapsed) * 100) : 0,
      vmhwm_kb: vmhwmKb(),
      gaps,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    clearTimeout(timer);
    channel.leave();
    socket.disconnect(() => process.exit(gaps > 0 ? 1 : 0));
    setTimeout(() => process.exit(gaps > 0 ? 1 : 0), 1000).unref();
  });
  cpuBefore = process.cpuUsage();
  started = nowUs();
  channel
    .join()
    .receive("error", (reply) => fail(3, `join ${args.topic}: ${JSON.stringify(reply)}`))
    .receive("timeout", () => fail(3, `join ${args.topic}: timeout`));
});
socket.connect();
