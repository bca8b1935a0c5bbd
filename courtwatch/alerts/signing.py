"""Webhook signatures: ``Courtwatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

After the hook's secret is rotated, and for the grace that follows, the header
carries a second ``v1=`` made with the previous secret (new one first): a
receiver still holding the old secret accepts the delivery, one holding the
new secret too. A receiver accepts if any ``v1`` matches.

The MAC covers ``t + "." + body`` with the hook's secret, so a captured
delivery cannot be re-sent later with a new time (the receiver refuses a ``t``
outside its window, 5 minutes by default) nor changed by a byte. A receiver
needs only the standard library: see :func:`verify` and docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SIGNATURE_HEADER = "Courtwatch-Signature"
DELIVERY_HEADER = "Courtwatch-Delivery"
REPLAY_WINDOW_SECONDS = 300


class SignatureRefused(ValueError):
    """The delivery is not from courtwatch, was changed, or is too old (replayed)."""


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent: compact, keys sorted, UTF-8 (what the MAC covers)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()


def sign(
    secret: str, body: bytes, timestamp: int | None = None, previous: str | None = None
) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    header = f"t={t},v1={mac(secret, t, body)}"
    if previous is not None and previous != secret:
        header += f",v1={mac(previous, t, body)}"
    return header


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
    window: int = REPLAY_WINDOW_SECONDS,
) -> int:
    """The signed timestamp if ``header`` signs ``body`` within ``window``; else SignatureRefused."""
    if not header or len(header) > 1000:
        raise SignatureRefused("no signature")
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if (
        len(stamps) != 1
        or not stamps[0].isascii()
        or not stamps[0].isdigit()
        or len(stamps[0]) > 12
    ):
        raise SignatureRefused("no timestamp")
    t = int(stamps[0])
    current = time.time() if now is None else now
    if abs(current - t) > window:
        raise SignatureRefused("timestamp outside the replay window")
    expected = mac(secret, t, body)
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise SignatureRefused("signature does not match")
    return t
