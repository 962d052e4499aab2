"""Verifies a captured SpeakNode delivery the way receivers that nobody here wrote would.

Usage: verify_delivery.py CAPTURE.json, where the capture holds {"secret", "headers", "body_base64"}.
Exits 0 when both the reference snippet (docs/receiving-webhooks.md) and the `standardwebhooks` package accept it.
"""

import base64
import hashlib
import hmac
import json
import sys

from standardwebhooks.webhooks import Webhook


def verify_speaknode(secret: str, payload: bytes, signature: str) -> bool:
    # The reference snippet of docs/receiving-webhooks.md, verbatim in substance.
    expected = hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        capture = json.load(f)
    secret = capture["secret"]
    headers = capture["headers"]
    body = base64.b64decode(capture["body_base64"])

    if not verify_speaknode(secret, body, headers["x-speaknode-signature"]):
        print("X-SpeakNode-Signature rejected by the reference snippet", file=sys.stderr)
        return 1
    try:
        parsed = Webhook(secret).verify(body, headers)
    except Exception as e:  # the package raises WebhookVerificationError
        print(f"webhook-signature rejected by standardwebhooks: {e}", file=sys.stderr)
        return 1
    print(f"verified {parsed['type']} {parsed['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
