// emit's retry rules, against a scripted fetch (no network): which answers it retries, that every
// try carries the same Idempotency-Key and body, that Retry-After is honoured, and that it stops.
// tests/it/clients/ runs the same client against the real service.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, ConnectionFailed, SpeakNode } from "../dist/index.js";

const ACCEPTED = { id: "evt_1", type: "SessionStarted", created_at: "2026-11-26T16:58:01Z", deliveries: 1 };
const DATA = { session_id: "sess_1", agent_id: "agent_1", started_at: "2026-11-26T16:58:01Z" };

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const error = (status, code, headers) => json(status, { error: { code, message: `${code} here` } }, headers);

/** A fetch answering each request with the next item: a Response, or an error to reject with. */
function scripted(...script) {
  const seen = [];
  const fetch = async (request) => {
    seen.push({ key: request.headers.get("idempotency-key"), body: await request.text() });
    const item = script.shift();
    if (item instanceof Error) throw item;
    return item;
  };
  return { fetch, seen };
}

function client(fetch, sleeps, options = {}) {
  const sleep = async (ms) => void sleeps.push(ms);
  return new SpeakNode("http://speaknode.test", "sk_test_0123456789abcdef", { fetch, sleep, ...options });
}

test("retries what may pass later with one key and one body", async () => {
  const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
  const { fetch, seen } = scripted(
    new TypeError("fetch failed"),
    timeout,
    error(503, "unavailable", { "Retry-After": "2" }),
    error(429, "rate_limited", { "Retry-After": "1" }),
    json(202, ACCEPTED),
  );
  const sleeps = [];
  const accepted = await client(fetch, sleeps).emit("SessionStarted", DATA);
  assert.equal(accepted.id, "evt_1");
  assert.equal(seen.length, 5);
  assert.equal(new Set(seen.map((s) => s.key)).size, 1);
  assert.equal(new Set(seen.map((s) => s.body)).size, 1);
  assert.deepEqual(JSON.parse(seen[0].body), { type: "SessionStarted", data: DATA });
  // Backoff for the two failures (250-500 ms, then 500-1000 ms), Retry-After after that.
  assert.ok(sleeps[0] >= 250 && sleeps[0] <= 500 && sleeps[1] >= 500 && sleeps[1] <= 1000, `${sleeps}`);
  assert.deepEqual(sleeps.slice(2), [2000, 1000]);
});

test("a refusal is thrown at once with the contract's body", async () => {
  const body = { error: { code: "validation_failed", message: "required", field: "data.agent_id" } };
  const { fetch, seen } = scripted(json(422, body));
  const e = await client(fetch, []).emit("SessionStarted", { session_id: "s" }, { idempotencyKey: "mine" }).catch((e) => e);
  assert.ok(e instanceof ApiError);
  assert.deepEqual([e.status, e.code, e.field, e.idempotencyKey], [422, "validation_failed", "data.agent_id", "mine"]);
  assert.deepEqual(e.body, body);
  assert.deepEqual(seen.map((s) => s.key), ["mine"]);
});

test("gives up after maxAttempts and hands back the key", async () => {
  const { fetch, seen } = scripted(new TypeError("fetch failed"), new TypeError("fetch failed"), new TypeError("fetch failed"));
  const e = await client(fetch, [], { maxAttempts: 3 }).emit("SessionStarted", DATA).catch((e) => e);
  assert.ok(e instanceof ConnectionFailed);
  assert.equal(seen.length, 3);
  assert.equal(e.idempotencyKey, seen[0].key);
});

test("does not wait longer than allowed", async () => {
  const { fetch, seen } = scripted(error(429, "rate_limited", { "Retry-After": "3600" }));
  const e = await client(fetch, []).emit("SessionStarted", DATA).catch((e) => e);
  assert.deepEqual([e.status, e.retryAfter, seen.length], [429, 3600, 1]);
});

test("each emit mints its own key", async () => {
  const { fetch, seen } = scripted(json(202, ACCEPTED), json(202, ACCEPTED));
  const sn = client(fetch, []);
  await sn.emit("SessionStarted", DATA);
  await sn.emit("SessionStarted", DATA);
  assert.notEqual(seen[0].key, seen[1].key);
});
