"""A SpeakNode webhook receiver in Python: the standard library's http.server, the reference
snippet of docs/receiving-webhooks.md for X-SpeakNode-Signature, and the `standardwebhooks`
package for the Standard Webhooks headers (which also refuses stale timestamps, so a captured
request cannot be replayed later).

    pip install standardwebhooks
    SPEAKNODE_WEBHOOK_SECRET=whsec_... PORT=8000 python3 receiver.py

Then point a webhook at http://127.0.0.1:8000/webhooks. Either check alone is enough for a real
receiver; this one does both to show each. PORT=0 picks a free port; the first line printed says
which.
"""

import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = os.environ["SPEAKNODE_WEBHOOK_SECRET"]
STANDARD = Webhook(SECRET)

# Delivery is at least once: remember what was handled and skip repeats. A real receiver keeps
# this in its database, next to the effects of handling the event.
seen = set()


def verify_speaknode(secret: str, payload: bytes, signature: str) -> bool:
    # The reference snippet (docs/receiving-webhooks.md): hex HMAC-SHA256 of the raw body,
    # keyed with the whole secret.
    expected = hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/webhooks":
            return self.reply(404, "not found")
        # Verify the raw bytes as received: parsed and re-serialised JSON would not match.
        payload = self.rfile.read(int(self.headers.get("Content-Length", 0)))

        if not verify_speaknode(SECRET, payload, self.headers.get("X-SpeakNode-Signature", "")):
            return self.reply(401, "X-SpeakNode-Signature does not match")
        try:
            event = STANDARD.verify(payload, dict(self.headers))
        except (WebhookVerificationError, ValueError) as e:
            # ValueError: a malformed signature entry or base64, which the package does not wrap.
            return self.reply(401, f"webhook-signature refused: {e}")

        key = (self.headers["webhook-id"], self.headers.get("X-SpeakNode-Delivery"))
        if key not in seen:
            seen.add(key)
            print(f"received {event['type']} {event['id']}", flush=True)
        self.reply(200, "ok")

    def reply(self, status: int, text: str):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # keep stdout for the lines above


def main():
    server = ThreadingHTTPServer(
        (os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8000"))), Handler
    )
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}/webhooks", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
