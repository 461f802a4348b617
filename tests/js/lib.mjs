// Generic helpers of conformance.mjs: bounded waits, phoenix.js socket and
// push helpers, and the comparison of a scenario's result with the recorded one.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once `predicate()` holds; rejects after `ms`. */
export async function until(predicate, ms, what) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

export const bytes = (buffer) => Array.from(new Uint8Array(buffer));
export const isDigits = (v) => typeof v === "string" && /^[0-9]+$/.test(v);

/** Differences between `actual` and `expected`; `rules` maps a path to a
 *  checker returning null (ok) or a message, replacing exact comparison. */
export function differences(actual, expected, rules = {}, path = "") {
  if (path in rules) {
    const problem = rules[path](actual, expected);
    return problem ? [`${path}: ${problem}`] : [];
  }
  const isObject = (v) => v !== null && typeof v === "object";
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) {
      return [`${path || "."}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    }
    const out = [];
    if (actual.length !== expected.length) {
      out.push(`${path || "."}: length ${actual.length}, expected ${expected.length}`);
    }
    for (let i = 0; i < Math.min(actual.length, expected.length); i++) {
      out.push(...differences(actual[i], expected[i], rules, `${path}[${i}]`));
    }
    return out;
  }
  if (isObject(expected) && isObject(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    const out = [];
    for (const key of [...keys].sort()) {
      const sub = path ? `${path}.${key}` : key;
      if (!(key in actual)) out.push(`${sub}: missing`);
      else if (!(key in expected)) out.push(`${sub}: unexpected ${JSON.stringify(actual[key])}`);
      else out.push(...differences(actual[key], expected[key], rules, sub));
    }
    return out;
  }
  return Object.is(actual, expected)
    ? []
    : [`${path || "."}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** A consistent recorded→actual mapping of presence phx_ref values. */
export function refMapper() {
  const toActual = new Map();
  const toRecorded = new Map();
  return (actual, expected) => {
    if (typeof actual !== "string" || actual.length === 0) return `not a ref: ${JSON.stringify(actual)}`;
    const known = toActual.get(expected);
    const owner = toRecorded.get(actual);
    if (known === undefined && owner === undefined) {
      toActual.set(expected, actual);
      toRecorded.set(actual, expected);
      return null;
    }
    return known === actual && owner === expected
      ? null
      : `ref ${actual} does not map consistently to recorded ${expected}`;
  };
}

/** Rules mapping every phx_ref / phx_ref_prev under `events` consistently. */
export function presenceRefRules(events, prefix, check) {
  const rules = {};
  events.forEach((event, i) => {
    const visit = (value, path) => {
      if (value === null || typeof value !== "object") return;
      for (const [key, sub] of Object.entries(value)) {
        const subPath = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
        if (key === "phx_ref" || key === "phx_ref_prev") rules[subPath] = check;
        else visit(sub, subPath);
      }
    };
    visit(event, `${prefix}[${i}]`);
  });
  return rules;
}

/** Connects `socket`; resolves on open, rejects on error or after 5 s. */
export function connected(socket) {
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.onOpen(() => resolve());
      socket.onError((e) => reject(new Error(`socket error: ${e?.message ?? e}`)));
      socket.connect();
    }),
    5_000,
    "socket open",
  );
}

/** Disconnects `socket`, waiting at most 1 s for the close. */
export function disconnect(socket) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    socket.disconnect(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The first of ok / error / timeout of a push, as [status, response]. */
export function outcome(push) {
  return new Promise((resolve) => {
    push
      .receive("ok", (r) => resolve(["ok", r]))
      .receive("error", (r) => resolve(["error", r]))
      .receive("timeout", () => resolve(["timeout"]));
  });
}

/** A channel on `topic`, joined (anything but an ok reply throws). */
export async function joined(socket, topic, params = {}) {
  const channel = socket.channel(topic, params);
  const result = await outcome(channel.join());
  if (result[0] !== "ok") throw new Error(`join ${topic}: ${JSON.stringify(result)}`);
  return channel;
}
