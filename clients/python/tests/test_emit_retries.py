"""emit's retry rules, against a scripted transport (no network): which answers it retries, that
every try carries the same Idempotency-Key and body, that Retry-After is honoured, and that it
stops. tests/it/clients/ runs the same client against the real service."""

import json
import unittest

import httpx

from speaknode_webhooks import ApiError, ConnectionFailed, SpeakNode

ACCEPTED = {"id": "evt_1", "type": "SessionStarted", "created_at": "2026-11-26T16:58:01Z", "deliveries": 1}
DATA = {"session_id": "sess_1", "agent_id": "agent_1", "started_at": "2026-11-26T16:58:01Z"}


def error(status, code, headers=None):
    body = {"error": {"code": code, "message": f"{code} here"}}
    return httpx.Response(status, json=body, headers=headers or {})


class Scripted:
    """Answers each request with the next item: a response, or an exception to raise."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def client(transport, sleeps, **kw):
    return SpeakNode(
        "http://speaknode.test",
        "sk_test_0123456789abcdef",
        httpx_args={"transport": httpx.MockTransport(transport)},
        sleep=sleeps.append,
        **kw,
    )


class EmitRetries(unittest.TestCase):
    def test_retries_what_may_pass_later_with_one_key_and_one_body(self):
        script = Scripted(
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            error(503, "unavailable", {"Retry-After": "2"}),
            error(429, "rate_limited", {"Retry-After": "1"}),
            httpx.Response(202, json=ACCEPTED),
        )
        sleeps = []
        accepted = client(script, sleeps).emit("SessionStarted", DATA)
        self.assertEqual(accepted.id, "evt_1")
        keys = {r.headers["Idempotency-Key"] for r in script.requests}
        bodies = {r.content for r in script.requests}
        self.assertEqual(len(script.requests), 5)
        self.assertEqual(len(keys), 1, keys)
        self.assertEqual(len(bodies), 1, bodies)
        self.assertEqual(json.loads(bodies.pop()), {"type": "SessionStarted", "data": DATA})
        # Backoff for the two transport errors (0.25-0.5 s, then 0.5-1 s), Retry-After after that.
        self.assertTrue(0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0, sleeps)
        self.assertEqual(sleeps[2:], [2.0, 1.0])

    def test_a_refusal_is_raised_at_once_with_the_contracts_body(self):
        script = Scripted(
            httpx.Response(
                422,
                json={
                    "error": {"code": "validation_failed", "message": "required", "field": "data.agent_id"}
                },
            )
        )
        with self.assertRaises(ApiError) as raised:
            client(script, []).emit("SessionStarted", {"session_id": "s"}, idempotency_key="mine")
        e = raised.exception
        self.assertEqual((e.status, e.code, e.field), (422, "validation_failed", "data.agent_id"))
        self.assertEqual(e.idempotency_key, "mine")
        self.assertEqual(script.requests[0].headers["Idempotency-Key"], "mine")
        self.assertEqual(len(script.requests), 1)

    def test_gives_up_after_max_attempts_and_hands_back_the_key(self):
        script = Scripted(*[httpx.ConnectError("down")] * 3)
        with self.assertRaises(ConnectionFailed) as raised:
            client(script, [], max_attempts=3).emit("SessionStarted", DATA)
        self.assertEqual(len(script.requests), 3)
        self.assertEqual(raised.exception.idempotency_key, script.requests[0].headers["Idempotency-Key"])

    def test_does_not_wait_longer_than_allowed(self):
        script = Scripted(error(429, "rate_limited", {"Retry-After": "3600"}))
        with self.assertRaises(ApiError) as raised:
            client(script, []).emit("SessionStarted", DATA)
        self.assertEqual((raised.exception.status, raised.exception.retry_after), (429, 3600.0))
        self.assertEqual(len(script.requests), 1)

    def test_each_emit_mints_its_own_key(self):
        script = Scripted(httpx.Response(202, json=ACCEPTED), httpx.Response(202, json=ACCEPTED))
        sn = client(script, [])
        sn.emit("SessionStarted", DATA)
        sn.emit("SessionStarted", DATA)
        a, b = (r.headers["Idempotency-Key"] for r in script.requests)
        self.assertNotEqual(a, b)


if __name__ == "__main__":
    unittest.main()
