// The client against the real service. tests/it/clients/typescript.rs starts the service and a
// proxy that loses the first emit's response then answers 503 and 429, and sets SPEAKNODE_URL,
// SPEAKNODE_FLAKY_URL and SPEAKNODE_API_KEY; without them this is skipped. The journey: create a
// webhook pointed at a receiver here, emit both shipped types, emit once through the proxy, then
// check the deliveries verify, the Request History and /api/v1/stats.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { test } from "node:test";
import { ApiError, SpeakNode, unwrap, verify } from "../dist/index.js";

const { SPEAKNODE_URL: URL, SPEAKNODE_FLAKY_URL: FLAKY, SPEAKNODE_API_KEY: KEY } = process.env;
const SESSION_STARTED = { session_id: "sess_41aa", agent_id: "agent_support_en", started_at: "2026-11-26T16:58:01Z" };
const CONVERSATION_COMPLETE = {
  conversation_id: "conv_8f2c",
  session_id: "sess_41aa",
  agent_id: "agent_support_en",
  started_at: "2026-11-26T16:58:01Z",
  ended_at: "2026-11-26T17:03:44Z",
  transcript: [{ role: "user", text: "Ça marche — merci" }],
};

/** A receiver keeping every delivery's headers and raw body. */
async function receiver() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { received, server, url: `http://127.0.0.1:${server.address().port}/hooks` };
}

async function eventually(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const got = await check();
    if (got) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("create, emit, a retried emit, history and stats", { skip: !URL && "needs the service (SPEAKNODE_URL)" }, async () => {
  const sn = new SpeakNode(URL, KEY);
  const rx = await receiver();
  try {
    const webhook = unwrap(
      await sn.api.POST("/api/v1/webhooks", {
        body: { url: rx.url, event_types: ["ConversationComplete", "SessionStarted"] },
      }),
    );
    assert.match(webhook.secret ?? "", /^whsec_/);

    // A refusal arrives as the contract's body, typed.
    const refused = await sn.api
      .POST("/api/v1/webhooks", { body: { url: "ftp://x", event_types: ["SessionStarted"] } })
      .then(unwrap)
      .catch((e) => e);
    assert.ok(refused instanceof ApiError, String(refused));
    assert.deepEqual([refused.status, refused.code, refused.field], [422, "validation_failed", "url"]);

    const accepted = [
      await sn.emit("ConversationComplete", CONVERSATION_COMPLETE),
      await sn.emit("SessionStarted", SESSION_STARTED),
    ];
    // Through the proxy: the first answer is lost after the event was stored, then 503, then 429
    // with Retry-After. Same key each time, so still one event.
    const marker = `sess_ts_${randomUUID()}`;
    const flaky = new SpeakNode(FLAKY, KEY, { backoffMs: 50 });
    const retried = await flaky.emit("SessionStarted", { ...SESSION_STARTED, session_id: marker });
    accepted.push(retried);
    assert.ok(accepted.every((a) => a.deliveries === 1), JSON.stringify(accepted));
    const events = unwrap(await sn.api.GET("/api/v1/events", { params: { query: { type: "SessionStarted", limit: 100 } } }));
    assert.deepEqual(events.data.filter((e) => e.data.session_id === marker).map((e) => e.id), [retried.id]);

    // Every delivery verifies with the helpers, as a receiver would check it.
    await eventually("three deliveries", () => rx.received.length >= 3);
    for (const { headers, body } of rx.received) verify(webhook.secret, headers, body);
    const ids = (list) => [...new Set(list)].sort();
    assert.deepEqual(ids(rx.received.map((r) => r.headers["webhook-id"])), ids(accepted.map((a) => a.id)));

    const history = await eventually("three attempts in the Request History", async () => {
      const page = unwrap(await sn.api.GET("/api/v1/webhooks/{id}/attempts", { params: { path: { id: webhook.id } } }));
      return page.data.filter((a) => a.http_status === 200).length >= 3 && page.data;
    });
    assert.deepEqual(ids(history.map((a) => a.event_id)), ids(accepted.map((a) => a.id)));

    const stats = unwrap(await sn.api.GET("/api/v1/stats", { params: { query: { webhook_id: webhook.id } } }));
    assert.deepEqual([stats.totals.attempts, stats.totals.succeeded], [3, 3]);
  } finally {
    rx.server.close();
  }
});
