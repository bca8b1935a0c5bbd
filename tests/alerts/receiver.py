"""A real webhook receiver on 127.0.0.1, as an organisation would run one (docs/alerts.md).

It checks every request with courtwatch.alerts.signing.verify, answers 401 to
a bad or replayed signature, and keeps what it accepted. ``down`` makes it
answer 503 (a gateway that is up but failing); ``stop()`` closes the port.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from courtwatch.alerts import signing
from tests.conftest import free_port


@dataclass
class Received:
    delivery_id: str
    body: dict[str, Any]
    raw: bytes
    signature: str


@dataclass
class Receiver:
    secret: str = ""
    port: int = field(default_factory=free_port)
    accepted: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    requests: int = 0
    down: bool = False
    delay: float = 0.0  # seconds before answering: a slow gateway, so a kill lands mid-delivery
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests += 1
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                header = self.headers.get(signing.SIGNATURE_HEADER)
                try:
                    signing.verify(receiver.secret, header, raw)
                except signing.SignatureRefused as refused:
                    with receiver.lock:
                        receiver.refused.append(str(refused))
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.loads(raw)
                with receiver.lock:
                    receiver.accepted.append(
                        Received(self.headers[signing.DELIVERY_HEADER], body, raw, header or "")
                    )
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r.delivery_id for r in self.accepted)
