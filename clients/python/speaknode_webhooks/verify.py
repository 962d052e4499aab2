"""Checks the two signatures every SpeakNode delivery carries, in a receiver.

``X-SpeakNode-Signature`` is the lowercase hex HMAC-SHA256 of the raw body keyed with the whole
secret (``whsec_`` included). The Standard Webhooks headers sign ``{id}.{timestamp}.{body}`` with
the base64-decoded part after ``whsec_``; the timestamp must be near now, which stops replays.
Both answer the same way as the Rust ``speaknode-verify`` crate: the shared vectors in
``clients/test-vectors.json`` check it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping

DEFAULT_TOLERANCE_SECONDS = 300
_PREFIX = "whsec_"

Body = bytes | str


class VerificationError(Exception):
    """The delivery is not what SpeakNode signed with this secret: answer 401 and drop it."""


def _bytes(body: Body) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64decode(text: str) -> bytes | None:
    # The reference Standard Webhooks libraries accept base64 with or without its padding.
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_speaknode(secret: str, body: Body, signature: str) -> None:
    """Checks an ``X-SpeakNode-Signature`` value against the raw body; raises if it does not match."""
    if not secret:
        raise VerificationError("the secret is empty")
    expected = _mac(secret.encode("utf-8"), _bytes(body)).hex()
    # Upper-case hex is the same bytes; a proxy that changed the case changed nothing signed.
    given = signature.strip().lower()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise VerificationError("X-SpeakNode-Signature does not match the body and the secret")


def verify_standard(
    secret: str,
    msg_id: str,
    timestamp: str,
    signatures: str,
    body: Body,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> None:
    """Checks the Standard Webhooks header values; raises unless the timestamp is within
    ``tolerance`` seconds of ``now`` and one ``v1,`` signature matches."""
    key = _b64decode(secret.removeprefix(_PREFIX))
    if not key:
        raise VerificationError("the secret is not whsec_ followed by base64")
    # ASCII digits only (int() would also take "1_000" and other scripts' digits), as Rust parses.
    if not re.fullmatch(r"[+-]?[0-9]+", timestamp.strip()):
        raise VerificationError("webhook-timestamp is not a Unix time in seconds")
    ts = int(timestamp.strip())
    now = int(time.time()) if now is None else now
    if abs(now - ts) > tolerance:
        raise VerificationError(f"webhook-timestamp {ts} is too far from now ({now})")
    expected = _mac(key, msg_id.encode() + b"." + str(ts).encode() + b"." + _bytes(body))
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        given = _b64decode(encoded) if version == "v1" else None
        if given is not None and hmac.compare_digest(expected, given):
            return
    raise VerificationError("no webhook-signature matches the body and the secret")


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: Body,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> None:
    """Checks every signature the request carries (at least one must be there). ``headers`` is
    looked up case-insensitively, so a framework's header mapping or a plain dict both work."""
    lower = {k.lower(): v for k, v in headers.items()}
    hex_signature = lower.get("x-speaknode-signature")
    standard = [lower.get(n) for n in ("webhook-id", "webhook-timestamp", "webhook-signature")]
    if hex_signature is None and all(v is None for v in standard):
        raise VerificationError("no signature header (X-SpeakNode-Signature or webhook-signature)")
    if hex_signature is not None:
        verify_speaknode(secret, body, hex_signature)
    if any(v is not None for v in standard):
        # One of the trio present means all are required: stripping one cannot skip the check.
        msg_id, ts, signatures = standard
        if msg_id is None or ts is None or signatures is None:
            raise VerificationError("a Standard Webhooks header is missing")
        verify_standard(secret, msg_id, ts, signatures, body, tolerance=tolerance, now=now)
