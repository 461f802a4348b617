// Runs the official phoenix.js client (npm `phoenix`, pinned in package.json)
// against a Phoenix-compatible server through the 18 scenarios recorded
// against real Phoenix 1.7 in
// ../shared/fixtures/phoenix-1.7/js_client_scenarios.json, and compares each
// result with the recorded one.
//
//   node conformance.mjs <socket-url> [recorded.json]
//   e.g. node conformance.mjs ws://127.0.0.1:4000/socket
//
// Prints one JSON report on stdout and exits 0 only when every scenario
// matches. Values are compared exactly where real Phoenix makes them
// deterministic (statuses, payloads, channel states, counts, bytes, presence
// lists). The tolerances, each applied only to the named field:
//   connect_refused.errors_in_1200ms  reconnect attempts in a time window:
//                                     3..8 (the client's backoff allows at most
//                                     7 in 1200 ms; the recording saw 6)
//   push_timeout.ms                   wall time to the timeout: >= 990 ms (a
//                                     timer never fires early; no upper bound,
//                                     the reply order already proves it fired
//                                     before the 3 s reply)
//   crash_phx_error_rejoin.*JoinRef   join refs are counters: digit strings,
//                                     the new one different from the first
//   heartbeat.sample.ref              a digit string; `count` is made exact by
//                                     waiting for 3 replies instead of a window
//   presence.syncs                    consecutive identical syncs collapse into
//                                     one (phoenix.js fires an extra, identical
//                                     sync when presence_state beats the
//                                     joiner's own presence_diff, a race the
//                                     fixtures' README describes)
//   presence.stateEvents              phx_ref values are mapped consistently
//                                     (one recorded value = one actual value);
//                                     the first two events (own diff, state)
//                                     may come in either order
// Scenarios also make extra checks the recording implies (listed in `checks`
// of each report entry, e.g. no reply to a broadcast, the late reply to the
// timed-out push reaches the socket but no callback).

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Socket, Presence } from "phoenix";
import WebSocket from "ws";
import {
  bytes,
  connected,
  differences,
  disconnect as closeSocket,
  isDigits,
  joined,
  outcome,
  presenceRefRules,
  refMapper,
  sleep,
  until,
  withTimeout,
} from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const url = process.argv[2];
const recordedPath =
  process.argv[3] ??
  join(here, "..", "..", "..", "shared", "fixtures", "phoenix-1.7", "js_client_scenarios.json");

if (!url) {
  console.error("usage: node conformance.mjs <socket-url> [recorded.json]");
  process.exit(2);
}

const recorded = new Map(JSON.parse(readFileSync(recordedPath, "utf8")).map((s) => [s.name, s]));

const SCENARIO_TIMEOUT_MS = 15_000;
const WHOLE_RUN_TIMEOUT_MS = 150_000;

// ---------------------------------------------------------------- sockets

/** Sockets not yet disconnected, closed at the end whatever happened. */
const sockets = new Set();

/** A socket to the server under test, with the fixture server's token. */
function newSocket(opts = {}) {
  const socket = new Socket(url, {
    transport: WebSocket,
    params: { token: "secret" },
    ...opts,
  });
  sockets.add(socket);
  return socket;
}

function disconnect(socket) {
  sockets.delete(socket);
  return closeSocket(socket);
}

// --------------------------------------------------------------- scenarios

const scenarios = [];
const scenario = (name, run, rules = () => ({})) => scenarios.push({ name, run, rules });

scenario("connect_ok", async (checks) => {
  const socket = newSocket();
  await connected(socket);
  checks.connectionState = socket.connectionState();
  checks.endPointURL_has_vsn = socket.endPointURL().includes("vsn=2.0.0");
  await disconnect(socket);
  return { vsn: socket.vsn };
});

scenario(
  "connect_refused",
  async (checks) => {
    const socket = newSocket({ params: { token: "wrong" } });
    let errors = 0;
    let opens = 0;
    socket.onError(() => errors++);
    socket.onOpen(() => opens++);
    socket.connect();
    await sleep(1200);
    await disconnect(socket);
    checks.isConnected = socket.isConnected();
    return { errors_in_1200ms: errors, opens };
  },
  () => ({
    errors_in_1200ms: (n) => (Number.isInteger(n) && n >= 3 && n <= 8 ? null : `${n} not in 3..8`),
  }),
);

for (const [name, topic] of [
  ["join_ok", "room:lobby"],
  ["join_error", "room:forbidden"],
  ["join_unmatched_topic", "nope:1"],
]) {
  scenario(name, async () => {
    const socket = newSocket();
    await connected(socket);
    const channel = socket.channel(topic, {});
    const result = await outcome(channel.join());
    await disconnect(socket);
    return result;
  });
}

scenario("echo", async () => {
  const socket = newSocket();
  await connected(socket);
  const channel = await joined(socket, "room:echo");
  const result = await outcome(channel.push("echo", { n: 1, s: "héllo" }));
  await disconnect(socket);
  return result;
});

scenario("reply_error_status", async () => {
  const socket = newSocket();
  await connected(socket);
  const channel = await joined(socket, "room:echo");
  const result = await outcome(channel.push("echo_error", { why: "x" }));
  await disconnect(socket);
  return result;
});

scenario(
  "push_timeout",
  async (checks) => {
    const socket = newSocket();
    await connected(socket);
    const channel = await joined(socket, "room:slow");
    const lateReplies = [];
    socket.onMessage((m) => {
      if (m.topic === "room:slow" && m.event === "phx_reply") lateReplies.push(m);
    });
    const callbacks = [];
    const started = Date.now();
    const push = channel.push("slow", { x: 1 }, 1000);
    const result = await new Promise((resolve) => {
      for (const status of ["ok", "error", "timeout"]) {
        push.receive(status, (r) => {
          callbacks.push(status);
          resolve([status, r]);
        });
      }
    });
    const ms = Date.now() - started;
    // The server still answers after 3 s; the client must ignore it.
    await until(() => lateReplies.length > 0, 6_000, "the late reply to `slow`");
    await sleep(50);
    checks.late_reply_status = lateReplies[0].payload.status;
    checks.callbacks = callbacks;
    await disconnect(socket);
    if (callbacks.length !== 1) throw new Error(`callbacks fired: ${callbacks}`);
    if (checks.late_reply_status !== "ok") throw new Error(`late reply ${JSON.stringify(lateReplies[0])}`);
    return { r: result[0] === "timeout" ? ["timeout"] : result, ms };
  },
  () => ({ ms: (ms) => (Number.isInteger(ms) && ms >= 990 ? null : `${ms} ms is before the 1000 ms timeout`) }),
);

scenario("broadcast_shout", async (checks) => {
  const sender = newSocket();
  const listener = newSocket();
  await connected(sender);
  await connected(listener);
  const senderChannel = await joined(sender, "room:shout");
  const listenerChannel = await joined(listener, "room:shout");
  const heard = [];
  const echoed = [];
  listenerChannel.on("shout", (p) => heard.push(p));
  senderChannel.on("shout", (p) => echoed.push(p));
  const reply = outcome(senderChannel.push("shout", { msg: "hi all" }, 500));
  await until(() => heard.length > 0 && echoed.length > 0, 5_000, "the shout broadcast");
  checks.sender_push_outcome = await reply; // a broadcast gets no reply
  checks.sender_heard_own = echoed.length;
  checks.listener_heard = heard.length;
  await disconnect(sender);
  await disconnect(listener);
  if (checks.sender_push_outcome[0] !== "timeout") throw new Error("shout must not be replied to");
  return heard[0];
});

scenario(
  "crash_phx_error_rejoin",
  async () => {
    const socket = newSocket();
    await connected(socket);
    const channel = socket.channel("room:crash", {});
    let errored = 0;
    let rejoined = 0;
    const joinRefs = [];
    channel.onError(() => errored++);
    channel.join().receive("ok", () => {
      rejoined++;
      joinRefs.push(channel.joinRef());
    });
    await until(() => rejoined === 1, 5_000, "the first join");
    channel.push("boom", {});
    await until(() => rejoined === 2, 8_000, "the automatic rejoin");
    if (joinRefs[0] === joinRefs[1]) throw new Error(`the rejoin reused join ref ${joinRefs[0]}`);
    const detail = {
      errored,
      rejoined,
      state: channel.state,
      firstJoinRef: joinRefs[0],
      newJoinRef: joinRefs[1],
    };
    await disconnect(socket);
    return detail;
  },
  () => ({
    firstJoinRef: (v) => (isDigits(v) ? null : `not a ref: ${v}`),
    newJoinRef: (v) => (isDigits(v) ? null : `not a ref: ${v}`),
  }),
);

scenario("server_close_phx_close", async () => {
  const socket = newSocket();
  await connected(socket);
  const channel = await joined(socket, "room:close");
  let closed = 0;
  channel.onClose(() => closed++);
  channel.push("close", {});
  await until(() => closed > 0, 5_000, "phx_close");
  await sleep(100);
  const detail = { closed, state: channel.state };
  await disconnect(socket);
  return detail;
});

scenario("duplicate_join", async () => {
  const socket = newSocket();
  await connected(socket);
  const d1 = socket.channel("room:dup", {});
  let d1closed = 0;
  let d1err = 0;
  d1.onClose(() => d1closed++);
  d1.onError(() => d1err++);
  const r1 = await outcome(d1.join());
  const d2 = socket.channel("room:dup", {});
  const r2 = await outcome(d2.join());
  await until(() => d1closed > 0, 5_000, "the first channel's close");
  const echo_d1 = await outcome(d1.push("echo", { via: "d1" }, 500));
  const echo_d2 = await outcome(d2.push("echo", { via: "d2" }));
  const detail = { r1, r2, d1closed, d1err, d1state: d1.state, d2state: d2.state, echo_d1, echo_d2 };
  await disconnect(socket);
  return detail;
});

scenario(
  "heartbeat",
  async () => {
    const socket = newSocket({ heartbeatIntervalMs: 100 });
    const replies = [];
    socket.onMessage((m) => {
      if (m.topic === "phoenix") replies.push(m);
    });
    await connected(socket);
    await until(() => replies.length >= 3, 5_000, "three heartbeat replies");
    await disconnect(socket);
    return { count: Math.min(replies.length, 3), sample: replies[0] };
  },
  () => ({ "sample.ref": (v) => (isDigits(v) ? null : `not a ref: ${JSON.stringify(v)}`) }),
);

scenario("binary_echo", async (checks) => {
  const socket = newSocket();
  await connected(socket);
  const channel = await joined(socket, "room:bin");
  const [status, response] = await outcome(channel.push("binary", new Uint8Array([0, 1, 2, 250, 255]).buffer));
  checks.response_is_arraybuffer = response instanceof ArrayBuffer;
  await disconnect(socket);
  if (!checks.response_is_arraybuffer) {
    throw new Error(`the reply is not an ArrayBuffer: ${JSON.stringify([status, response])}`);
  }
  return { status, bytes: bytes(response) };
});

scenario("binary_server_push", async (checks) => {
  const socket = newSocket();
  await connected(socket);
  const channel = await joined(socket, "room:bin");
  const order = [];
  let pushed;
  channel.on("bin_push", (payload) => {
    order.push("push");
    pushed = payload;
  });
  const reply = await outcome(channel.push("binary_push", new Uint8Array([9, 8, 7]).buffer));
  order.push("reply");
  checks.reply = reply;
  await until(() => pushed !== undefined, 2_000, "bin_push");
  checks.order = order;
  checks.push_is_arraybuffer = pushed instanceof ArrayBuffer;
  await disconnect(socket);
  if (order[0] !== "push") throw new Error(`the push must come before the reply: ${order}`);
  if (!checks.push_is_arraybuffer) throw new Error("bin_push is not an ArrayBuffer");
  return { reply, bytes: bytes(pushed) };
});

scenario("binary_broadcast", async (checks) => {
  const socket = newSocket();
  await connected(socket);
  const channel = await joined(socket, "room:binshout");
  let heard;
  channel.on("bin_shout", (payload) => (heard = payload));
  channel.push("binary_shout", new Uint8Array([42, 43]).buffer);
  await until(() => heard !== undefined, 5_000, "bin_shout");
  checks.is_arraybuffer = heard instanceof ArrayBuffer;
  await disconnect(socket);
  if (!checks.is_arraybuffer) throw new Error("bin_shout is not an ArrayBuffer");
  return { bytes: bytes(heard) };
});

scenario(
  "presence",
  async () => {
    const alice = newSocket();
    const bob = newSocket();
    await connected(alice);
    await connected(bob);
    const channel = alice.channel("presence:js", { user_id: "alice", status: "online" });
    const presence = new Presence(channel);
    const syncs = [];
    const stateEvents = [];
    presence.onSync(() =>
      syncs.push(presence.list((id, { metas }) => ({ id, n: metas.length, status: metas[0].status }))),
    );
    channel.on("presence_state", (payload) => stateEvents.push({ event: "presence_state", payload }));
    channel.on("presence_diff", (payload) => stateEvents.push({ event: "presence_diff", payload }));
    await outcome(channel.join());
    await until(() => stateEvents.length >= 2 && syncs.length >= 1, 5_000, "alice's presence");
    const bobChannel = bob.channel("presence:js", { user_id: "bob", status: "away" });
    await outcome(bobChannel.join());
    await until(() => syncs.some((s) => s.length === 2), 5_000, "bob's join on alice's side");
    await disconnect(bob);
    await until(() => syncs.length >= 2 && syncs[syncs.length - 1].length === 1, 5_000, "bob's leave");
    await sleep(100);
    await disconnect(alice);
    return { syncs, stateEvents };
  },
  (actual, expected) => {
    // Either order of the joiner's own diff and state: line the actual pair
    // up with the recorded one before comparing.
    const [a0, a1] = actual.stateEvents;
    const [e0] = expected.stateEvents;
    if (a0 && a1 && e0 && a0.event !== e0.event && a1.event === e0.event) {
      actual.stateEvents[0] = a1;
      actual.stateEvents[1] = a0;
    }
    actual.syncs = actual.syncs.filter(
      (s, i) => i === 0 || JSON.stringify(s) !== JSON.stringify(actual.syncs[i - 1]),
    );
    return presenceRefRules(expected.stateEvents, "stateEvents", refMapper());
  },
);

scenario("leave", async (checks) => {
  const socket = newSocket();
  await connected(socket);
  const channel = await joined(socket, "room:leave");
  let closed = 0;
  channel.onClose(() => closed++);
  const result = await outcome(channel.leave());
  await sleep(50);
  checks.closed = closed;
  checks.state = channel.state;
  await disconnect(socket);
  if (closed !== 1 || channel.state !== "closed") throw new Error(`after leave: ${closed} ${channel.state}`);
  return result;
});

// ---------------------------------------------------------------- runner

const report = { url, recorded: recordedPath, passed: 0, failed: 0, scenarios: [] };

function finish(code) {
  report.passed = report.scenarios.filter((s) => s.ok).length;
  report.failed = report.scenarios.length - report.passed;
  process.stdout.write(JSON.stringify(report, null, 1) + "\n", () => process.exit(code));
}

setTimeout(() => {
  report.error = `the whole run exceeded ${WHOLE_RUN_TIMEOUT_MS} ms`;
  finish(2);
}, WHOLE_RUN_TIMEOUT_MS).unref();

const missing = [...recorded.keys()].filter((name) => !scenarios.some((s) => s.name === name));
const extra = scenarios.filter((s) => !recorded.has(s.name)).map((s) => s.name);

for (const { name, run, rules } of scenarios) {
  const entry = { name, ok: false, detail: null, expected: recorded.get(name)?.detail, diffs: [], checks: {} };
  report.scenarios.push(entry);
  try {
    entry.detail = await withTimeout(run(entry.checks), SCENARIO_TIMEOUT_MS, name);
    const actual = structuredClone(entry.detail);
    const expected = structuredClone(entry.expected);
    entry.diffs = differences(actual, expected, rules(actual, expected));
  } catch (e) {
    entry.diffs.push(`error: ${e?.stack ?? e}`);
  }
  entry.ok = entry.diffs.length === 0;
  if (!entry.ok) entry.recorded_ok = recorded.get(name)?.ok;
}

for (const socket of sockets) socket.disconnect();
if (missing.length || extra.length) {
  report.error = `scenario sets differ: missing ${missing}, not recorded ${extra}`;
}
report.total = scenarios.length;
finish(report.error || report.scenarios.some((s) => !s.ok) ? 1 : 0);
