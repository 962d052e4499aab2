"""SpeakNode Webhooks for Python: emit events that are never doubled by a retry, manage webhooks
through the generated ``speaknode_webhooks_api`` package, and verify deliveries in a receiver."""

from .client import RETRYABLE_STATUSES, SpeakNode, unwrap
from .errors import ApiError, ConnectionFailed, SpeakNodeError
from .verify import (
    DEFAULT_TOLERANCE_SECONDS,
    VerificationError,
    verify,
    verify_speaknode,
    verify_standard,
)

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "RETRYABLE_STATUSES",
    "ApiError",
    "ConnectionFailed",
    "SpeakNode",
    "SpeakNodeError",
    "VerificationError",
    "unwrap",
    "verify",
    "verify_speaknode",
    "verify_standard",
]
