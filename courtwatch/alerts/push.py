"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291).

The VAPID keypair is made once, into the data folder, readable by this user
only (like the unsealing key), so every process that sends uses the same key
and a browser's subscription, bound to that key, stays valid across restarts.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

VAPID_FILE = "vapid_private.pem"
# RFC 8292: a contact for the push service's operator; no member's address.
VAPID_SUBJECT = "mailto:alerts@courtwatch.invalid"
# A push that cannot reach a phone within this long is stale news.
PUSH_TTL_SECONDS = 15 * 60


class PushKeyUnusable(Exception):
    """The VAPID key file exists but others may read it, or it is not a P-256 key."""


def key_path(data_dir: Path) -> Path:
    return data_dir / "alerts" / VAPID_FILE


def load_or_create_key(data_dir: Path) -> Vapid02:
    path = key_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            # Created 0600 in one step: there is no moment others could read it.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
    if path.stat().st_mode & 0o077:
        raise PushKeyUnusable(f"{path} can be read by other users: chmod 600 it")
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey) or loaded.curve.name != "secp256r1":
        raise PushKeyUnusable(f"{path} is not a P-256 private key")
    return Vapid02(loaded)


def application_server_key(vapid: Vapid02) -> str:
    """The public key as browsers take it (pushManager.subscribe applicationServerKey)."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def notification(payload: dict[str, Any], public_url: str) -> str:
    """What the phone receives: no personal or sealed detail, only what the map shows."""
    return json.dumps(
        {
            "kind": payload.get("kind"),
            "courthouse": payload.get("courthouse"),
            "time": payload.get("time"),
            "status": payload.get("status"),
            "link": public_url.rstrip("/") + str(payload.get("link", "/")),
            "thread": payload.get("thread"),
            "thread_reports": payload.get("thread_reports"),
            "delivery_id": payload.get("delivery_id"),
        },
        separators=(",", ":"),
    )


def send(
    vapid: Vapid02,
    endpoint: str,
    p256dh: str,
    auth: str,
    data: str,
    topic: str,
    timeout: float,
    session: Any = None,
) -> int:
    """POST one encrypted message to a push service; its HTTP status (raises on transport errors)."""
    from pywebpush import WebPushException, webpush

    try:
        response = webpush(
            subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=data,
            vapid_private_key=vapid,
            vapid_claims={"sub": VAPID_SUBJECT},
            ttl=PUSH_TTL_SECONDS,
            timeout=timeout,
            # RFC 8030 5.4: a newer message of the same incident replaces one
            # the phone has not fetched yet (one alert per incident).
            headers={"Topic": topic, "Urgency": "high"},
            requests_session=session,  # the sender's guarded one (alerts/transport.py)
        )
    except WebPushException as error:
        if error.response is not None:
            return int(error.response.status_code)
        raise
    return int(response.status_code)  # type: ignore[union-attr]
