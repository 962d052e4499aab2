// A SpeakNode webhook receiver in Node.js (20 or later) with no framework: node:http for the
// server, node:crypto for both signatures.
//
//   SPEAKNODE_WEBHOOK_SECRET=whsec_... PORT=8000 node receiver.mjs
//
// Then point a webhook at http://127.0.0.1:8000/webhooks. Either check alone is enough for a
// real receiver; this one does both to show each. PORT=0 picks a free port; the first line
// printed says which.

import { createServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";

const SECRET = process.env.SPEAKNODE_WEBHOOK_SECRET;
if (!SECRET) throw new Error("set SPEAKNODE_WEBHOOK_SECRET to the webhook's secret (whsec_...)");
// Standard Webhooks' timestamp tolerance: refuses replays of requests captured earlier.
const TOLERANCE_SECONDS = 5 * 60;

// Constant-time comparison; timingSafeEqual itself throws on different lengths.
function sameBytes(a, b) {
  return a.length === b.length && timingSafeEqual(a, b);
}

// X-SpeakNode-Signature: hex HMAC-SHA256 of the raw body, keyed with the whole secret string.
export function verifySpeakNode(secret, body, signature = "") {
  const expected = createHmac("sha256", secret).update(body).digest("hex");
  return sameBytes(Buffer.from(expected), Buffer.from(signature));
}

// Standard Webhooks: base64 HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed with the base64
// part of the secret after "whsec_". Returns null when valid, else why not.
export function verifyStandard(secret, headers, body, nowSeconds = Date.now() / 1000) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return "missing a Standard Webhooks header";
  if (!/^\d+$/.test(timestamp)) return "webhook-timestamp is not Unix seconds";
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) {
    return "webhook-timestamp is outside the tolerance";
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
  // During a secret rotation there is one "v1,<base64>" per valid secret: one match is enough.
  for (const entry of signatures.split(" ")) {
    const [version, value] = entry.split(",");
    if (version === "v1" && value && sameBytes(expected, Buffer.from(value, "base64"))) {
      return null;
    }
  }
  return "no webhook-signature matches";
}

// Delivery is at least once: remember what was handled and skip repeats. A real receiver keeps
// this in its database, next to the effects of handling the event.
const seen = new Set();

function reply(res, status, text) {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(text + "\n");
}

const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/webhooks") return reply(res, 404, "not found");
  // Collect the raw bytes: signatures cover the body exactly as sent, not re-serialised JSON.
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    if (!verifySpeakNode(SECRET, body, req.headers["x-speaknode-signature"])) {
      return reply(res, 401, "X-SpeakNode-Signature does not match");
    }
    const refused = verifyStandard(SECRET, req.headers, body);
    if (refused) return reply(res, 401, refused);

    let event;
    try {
      event = JSON.parse(body.toString("utf8"));
    } catch {
      return reply(res, 400, "the body is not JSON");
    }
    const key = `${req.headers["webhook-id"]} ${req.headers["x-speaknode-delivery"]}`;
    if (!seen.has(key)) {
      seen.add(key);
      console.log(`received ${event.type} ${event.id}`);
    }
    reply(res, 200, "ok");
  });
});

server.listen(Number(process.env.PORT ?? 8000), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}/webhooks`);
});
