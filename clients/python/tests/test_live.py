"""The client against the real service. tests/it/clients/python.rs starts the service and a proxy
that loses the first emit's response then answers 503 and 429, and sets SPEAKNODE_URL,
SPEAKNODE_FLAKY_URL and SPEAKNODE_API_KEY; without them this is skipped (the vectors and retry
tests still run). The journey: create a webhook pointed at a receiver here, emit both shipped
types, emit once through the proxy, then check the deliveries verify, the Request History and
/api/v1/stats."""

import http.server
import os
import threading
import time
import unittest
import uuid

from speaknode_webhooks import ApiError, SpeakNode, verify
from speaknode_webhooks_api.api.events import list_events
from speaknode_webhooks_api.api.request_history import get_stats, list_attempts
from speaknode_webhooks_api.api.webhooks import create_webhook
from speaknode_webhooks_api.models.new_webhook import NewWebhook

URL = os.environ.get("SPEAKNODE_URL")
SESSION_STARTED = {
    "session_id": "sess_41aa",
    "agent_id": "agent_support_en",
    "started_at": "2026-11-26T16:58:01Z",
}
CONVERSATION_COMPLETE = {
    "conversation_id": "conv_8f2c",
    "session_id": "sess_41aa",
    "agent_id": "agent_support_en",
    "started_at": "2026-11-26T16:58:01Z",
    "ended_at": "2026-11-26T17:03:44Z",
    "transcript": [{"role": "user", "text": "Ça marche — merci"}],
}


class Receiver(http.server.ThreadingHTTPServer):
    """Keeps every delivery's headers and raw body."""

    def __init__(self):
        self.received = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hooks"


def eventually(what, check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@unittest.skipUnless(URL, "needs the service: tests/it/clients/python.rs sets SPEAKNODE_URL")
class AgainstTheService(unittest.TestCase):
    def test_create_emit_retry_history_and_stats(self):
        key = os.environ["SPEAKNODE_API_KEY"]
        sn = SpeakNode(URL, key)
        receiver = Receiver()
        self.addCleanup(receiver.shutdown)

        webhook = sn.call(
            create_webhook.sync_detailed,
            body=NewWebhook(url=receiver.url, event_types=["ConversationComplete", "SessionStarted"]),
        )
        self.assertTrue(webhook.secret.startswith("whsec_"))

        # A refusal arrives as the contract's body, typed.
        with self.assertRaises(ApiError) as refused:
            sn.call(
                create_webhook.sync_detailed, body=NewWebhook(url="ftp://x", event_types=["SessionStarted"])
            )
        self.assertEqual((refused.exception.status, refused.exception.code), (422, "validation_failed"))
        self.assertEqual(refused.exception.field, "url")

        accepted = [
            sn.emit("ConversationComplete", CONVERSATION_COMPLETE),
            sn.emit("SessionStarted", SESSION_STARTED),
        ]
        # Through the proxy: the first answer is lost after the event was stored, then 503, then
        # 429 with Retry-After. Same key each time, so still one event.
        marker = f"sess_py_{uuid.uuid4().hex}"
        flaky = SpeakNode(os.environ["SPEAKNODE_FLAKY_URL"], key, backoff=0.05)
        retried = flaky.emit("SessionStarted", {**SESSION_STARTED, "session_id": marker})
        accepted.append(retried)
        self.assertTrue(all(a.deliveries == 1 for a in accepted), accepted)
        events = sn.call(list_events.sync_detailed, type_="SessionStarted", limit=100).data
        ours = [e.id for e in events if e.data["session_id"] == marker]
        self.assertEqual(ours, [retried.id])

        # Every delivery verifies with the helpers, as a receiver would check it.
        eventually("three deliveries", lambda: len(receiver.received) >= 3)
        for headers, body in receiver.received:
            verify(webhook.secret, headers, body)
        delivered = {h["webhook-id"] for h, _ in receiver.received}
        self.assertEqual(delivered, {a.id for a in accepted})

        def three_succeeded():
            attempts = sn.call(list_attempts.sync_detailed, webhook.id).data
            return attempts if sum(a.http_status == 200 for a in attempts) >= 3 else None

        history = eventually("three attempts in the Request History", three_succeeded)
        self.assertEqual({a.event_id for a in history}, {a.id for a in accepted})

        stats = sn.call(get_stats.sync_detailed, webhook_id=webhook.id)
        self.assertEqual((stats.totals.attempts, stats.totals.succeeded), (3, 3))


if __name__ == "__main__":
    unittest.main()
