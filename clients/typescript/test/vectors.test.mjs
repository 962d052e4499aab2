// The shared signature vectors (clients/test-vectors.json, made by the server's signer): the
// TypeScript helpers must answer every case as the file says, like the Rust and Python ones.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { VerificationError, verify, verifySpeakNode, verifyStandard } from "../dist/index.js";

const vectors = JSON.parse(readFileSync(new URL("../../test-vectors.json", import.meta.url), "utf8"));

const outcome = (check) => {
  try {
    check();
    return true;
  } catch (e) {
    if (!(e instanceof VerificationError)) throw e;
    return false;
  }
};

test("every shared vector is answered as the file says", () => {
  const tolerance = vectors.tolerance_seconds;
  assert.ok(vectors.cases.length >= 10);
  for (const c of vectors.cases) {
    const h = c.headers;
    const options = { tolerance, now: c.now };
    if (c.speaknode_valid !== null) {
      const got = outcome(() => verifySpeakNode(c.secret, c.body, h["x-speaknode-signature"]));
      assert.equal(got, c.speaknode_valid, `${c.name}: X-SpeakNode-Signature`);
    }
    if (c.standard_valid !== null) {
      const got = outcome(() =>
        verifyStandard(c.secret, h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], c.body, options),
      );
      assert.equal(got, c.standard_valid, `${c.name}: webhook-signature`);
    }
    const whole = c.speaknode_valid !== false && c.standard_valid !== false;
    // As a server hands them over: a Headers object (any case) and the raw bytes.
    const headers = new Headers(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    const got = outcome(() => verify(c.secret, headers, Buffer.from(c.body, "utf8"), options));
    assert.equal(got, whole, `${c.name}: verify`);
  }
});

test("a request without any signature is refused", () => {
  assert.throws(() => verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {}, "{}"), VerificationError);
});
