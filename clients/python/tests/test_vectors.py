"""The shared signature vectors (clients/test-vectors.json, made by the server's signer): the
Python helpers must answer every case as the file says, like the Rust and TypeScript ones."""

import json
import pathlib
import unittest

from speaknode_webhooks import VerificationError, verify, verify_speaknode, verify_standard

VECTORS = json.loads((pathlib.Path(__file__).parents[2] / "test-vectors.json").read_text("utf-8"))


def outcome(check, *args, **kwargs) -> bool:
    try:
        check(*args, **kwargs)
        return True
    except VerificationError:
        return False


class SharedVectors(unittest.TestCase):
    def test_every_case_is_answered_as_the_file_says(self):
        tolerance = VECTORS["tolerance_seconds"]
        self.assertGreaterEqual(len(VECTORS["cases"]), 10)
        for case in VECTORS["cases"]:
            with self.subTest(case["name"]):
                secret, body, now, h = case["secret"], case["body"], case["now"], case["headers"]
                if case["speaknode_valid"] is not None:
                    got = outcome(verify_speaknode, secret, body, h["x-speaknode-signature"])
                    self.assertEqual(got, case["speaknode_valid"], "X-SpeakNode-Signature")
                if case["standard_valid"] is not None:
                    got = outcome(
                        verify_standard,
                        secret,
                        h["webhook-id"],
                        h["webhook-timestamp"],
                        h["webhook-signature"],
                        body,
                        tolerance=tolerance,
                        now=now,
                    )
                    self.assertEqual(got, case["standard_valid"], "webhook-signature")
                whole = all(case[k] is not False for k in ("speaknode_valid", "standard_valid"))
                # Header names arrive in any case; the lookup must not care.
                shouted = {k.upper(): v for k, v in h.items()}
                got = outcome(verify, secret, shouted, body.encode(), tolerance=tolerance, now=now)
                self.assertEqual(got, whole, "verify")

    def test_a_request_without_any_signature_is_refused(self):
        with self.assertRaises(VerificationError):
            verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {}, b"{}")


if __name__ == "__main__":
    unittest.main()
