// Checks the two signatures every SpeakNode delivery carries, in a receiver (Node.js).
//
// `X-SpeakNode-Signature` is the lowercase hex HMAC-SHA256 of the raw body keyed with the whole
// secret (`whsec_` included). The Standard Webhooks headers sign `{id}.{timestamp}.{body}` with
// the base64-decoded part after `whsec_`; the timestamp must be near now, which stops replays.
// These answer exactly as the Rust `speaknode-verify` crate: clients/test-vectors.json checks it.

import { createHmac, timingSafeEqual } from "node:crypto";

export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The raw request body: bytes as received, or their UTF-8 text. Never re-serialised JSON. */
export type Body = Uint8Array | string;

/** The delivery is not what SpeakNode signed with this secret: answer 401 and drop it. */
export class VerificationError extends Error {
  override name = "VerificationError";
}

export interface StandardOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300). */
  tolerance?: number;
  /** The clock, in Unix seconds (default: the system clock); for tests and re-checks. */
  now?: number;
}

const mac = (key: Uint8Array | string, ...parts: Body[]): Buffer => {
  const h = createHmac("sha256", key);
  for (const part of parts) h.update(part);
  return h.digest();
};

const equal = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

// Node's decoder skips characters it does not know; a signature with any is not ours, so check
// the alphabet first. Padding may be absent, as the reference libraries allow.
function decodeBase64(text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text, "base64") : undefined;
}

/** Checks an `X-SpeakNode-Signature` value against the raw body; throws if it does not match. */
export function verifySpeakNode(secret: string, body: Body, signature: string): void {
  if (!secret) throw new VerificationError("the secret is empty");
  const expected = Buffer.from(mac(Buffer.from(secret, "utf8"), body).toString("hex"));
  // Upper-case hex is the same bytes; a proxy that changed the case changed nothing signed.
  const given = Buffer.from(signature.trim().toLowerCase());
  if (!equal(expected, given)) {
    throw new VerificationError("X-SpeakNode-Signature does not match the body and the secret");
  }
}

/** Checks the Standard Webhooks header values; throws unless the timestamp is within the
 * tolerance of now and one `v1,` signature matches. */
export function verifyStandard(
  secret: string,
  msgId: string,
  timestamp: string,
  signatures: string,
  body: Body,
  options: StandardOptions = {},
): void {
  const key = decodeBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  if (!key || key.length === 0) throw new VerificationError("the secret is not whsec_ followed by base64");
  const trimmed = timestamp.trim();
  if (!/^[+-]?[0-9]+$/.test(trimmed)) throw new VerificationError("webhook-timestamp is not a Unix time in seconds");
  const ts = Number(trimmed);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (options.tolerance ?? DEFAULT_TOLERANCE_SECONDS)) {
    throw new VerificationError(`webhook-timestamp ${ts} is too far from now (${now})`);
  }
  const expected = mac(key, `${msgId}.${ts}.`, body);
  for (const entry of signatures.split(/\s+/)) {
    if (!entry.startsWith("v1,")) continue;
    const given = decodeBase64(entry.slice(3));
    if (given && equal(expected, given)) return;
  }
  throw new VerificationError("no webhook-signature matches the body and the secret");
}

/** Headers as a `Headers` object or a plain object, names in any case. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function lookup(headers: HeaderSource): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === "function") {
    return (name) => (headers as Headers).get(name) ?? undefined;
  }
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) lower.set(k.toLowerCase(), Array.isArray(v) ? v.join(" ") : v);
  }
  return (name) => lower.get(name);
}

/** Checks every signature the request carries (at least one must be there). */
export function verify(secret: string, headers: HeaderSource, body: Body, options: StandardOptions = {}): void {
  const get = lookup(headers);
  const hex = get("x-speaknode-signature");
  const [id, ts, sigs] = ["webhook-id", "webhook-timestamp", "webhook-signature"].map(get);
  const standard = id !== undefined || ts !== undefined || sigs !== undefined;
  if (hex === undefined && !standard) {
    throw new VerificationError("no signature header (X-SpeakNode-Signature or webhook-signature)");
  }
  if (hex !== undefined) verifySpeakNode(secret, body, hex);
  if (standard) {
    // One of the trio present means all are required: stripping one cannot skip the check.
    if (id === undefined || ts === undefined || sigs === undefined) {
      throw new VerificationError("a Standard Webhooks header is missing");
    }
    verifyStandard(secret, id, ts, sigs, body, options);
  }
}
