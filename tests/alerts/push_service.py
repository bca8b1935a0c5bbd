"""A Web Push service on 127.0.0.1, as a browser vendor runs one, for the tests.

It speaks the part of RFC 8030 a sender uses (POST to the subscription's
endpoint, TTL, Topic, 201 Created), checks the VAPID authorisation (RFC 8292:
``vapid t=<JWT>,k=<public key>``, ES256 over the JWT, ``aud`` = this origin,
``exp`` in the future and under 24 h), and decrypts the aes128gcm payload
(RFC 8291) with the subscription's private key, as the browser would.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.conftest import free_port


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One subscription's keys, as a browser keeps them."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )


class Refused(Exception):
    pass


def check_vapid(header: str | None, origin: str) -> tuple[dict[str, Any], str]:
    """The JWT's claims and the sender's public key, if the header is valid (RFC 8292)."""
    if not header or not header.startswith("vapid "):
        raise Refused("no vapid authorization")
    params = dict(part.strip().split("=", 1) for part in header[len("vapid ") :].split(","))
    token, public = params["t"], unb64url(params["k"])
    head, claims_part, signature = token.split(".")
    if json.loads(unb64url(head)) != {"typ": "JWT", "alg": "ES256"}:
        raise Refused("not an ES256 JWT")
    raw = unb64url(signature)
    if len(raw) != 64:
        raise Refused("ES256 signatures are 64 bytes (r || s)")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, f"{head}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("bad JWT signature") from None
    claims = json.loads(unb64url(claims_part))
    if claims.get("aud") != origin:
        raise Refused(f"aud {claims.get('aud')!r} is not {origin!r}")
    if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
        raise Refused("exp not within 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise Refused("no sub contact")
    return claims, params["k"]


@dataclass
class Received:
    path: str
    claims: dict[str, Any]
    sender_key: str
    headers: dict[str, str]
    message: dict[str, Any]


@dataclass
class PushService:
    browsers: dict[str, Browser] = field(default_factory=dict)  # path -> keys
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)  # paths answering 410

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def subscribe(self, name: str) -> dict[str, Any]:
        """A PushSubscription.toJSON() for a new browser."""
        browser = self.browsers[f"/push/{name}"] = Browser()
        return {
            "endpoint": f"{self.origin}/push/{name}",
            "keys": {"p256dh": browser.p256dh, "auth": b64url(browser.auth)},
        }

    def start(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                browser = service.browsers.get(self.path)
                if browser is None or self.path in service.gone:
                    self.send_response(410 if browser else 404)
                    self.end_headers()
                    return
                try:
                    claims, sender = check_vapid(self.headers.get("Authorization"), service.origin)
                    if self.headers.get("Content-Encoding") != "aes128gcm":
                        raise Refused("not aes128gcm")
                    if not (self.headers.get("TTL") or "").isdigit():
                        raise Refused("no TTL (RFC 8030 5.2)")
                    plain = http_ece.decrypt(
                        body,
                        private_key=browser.private_key,
                        auth_secret=browser.auth,
                        version="aes128gcm",
                    )
                except (Refused, ValueError, KeyError) as refused:
                    service.refused.append(str(refused))
                    self.send_response(403 if isinstance(refused, Refused) else 400)
                    self.end_headers()
                    return
                service.received.append(
                    Received(
                        self.path,
                        claims,
                        sender,
                        {k.lower(): v for k, v in self.headers.items()},
                        json.loads(plain),
                    )
                )
                self.send_response(201)
                self.send_header("Location", f"{service.origin}/message/{len(service.received)}")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
