"""How the sender talks to receivers it does not trust: one deadline per attempt
and no connection to a link-local address, whatever name led there.

A read timeout bounds each read, not the answer: a receiver (a coordinator's
webhook, or any member's push endpoint) that sends its answer a byte at a time
kept a sender thread forever, and the sender waits for a whole batch before it
takes the next, so nobody was alerted again. :func:`deadline` shuts the
attempt's sockets down when it runs out; the blocked read then fails and the
attempt is recorded and retried like any other failure.

The URL check (model.check_webhook_url) refuses 169.254.x.x written as an
address, but a DNS name, a decimal or hex spelling (http://2852039166/) or
an IPv4-mapped IPv6 address reaches the same cloud metadata service; the
address actually connected to is checked here, for webhooks and push alike.

Resolving a name is part of the attempt: ``getaddrinfo`` cannot be cut by
shutting a socket down, and a receiver's name whose DNS server never answers
held a worker past the attempt's deadline (each of urllib3's resolutions in
turn). The name is resolved once, on a thread of its own, waited for only
until the deadline; the connection goes to the address found (checked), and
its connect timeout is cut to what is left of the deadline too.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_LINK_LOCAL = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    # AWS's metadata service over IPv6 (Nitro instances): not link-local, but
    # the same service the link-local rule is there to keep out of reach.
    ipaddress.ip_network("fd00:ec2::254/128"),
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it:
# NAT64's well-known prefix (RFC 6052) and IPv4-compatible addresses.
_EMBEDS_IPV4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))


class LinkLocalRefused(Exception):
    """The receiver's name led to a link-local address (cloud metadata)."""


class DeadlineExceeded(Exception):
    """The receiver did not answer within the attempt's deadline."""


class Watch:
    """The sockets of one attempt, as duplicates this watch owns: shutting one
    down ends the connection (TLS over it included), and closing a duplicate
    never touches a descriptor someone else has since reused."""

    def __init__(self, ends: float = float("inf")) -> None:
        self.lock = threading.Lock()
        self.expired = False
        self.ends = ends  # time.monotonic() when the attempt must be over
        self.duplicates: list[socket.socket] = []

    def add(self, sock: Any) -> None:
        try:
            duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except OSError:
            return  # closed already: nothing left to wait on
        with self.lock:
            self.duplicates.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for duplicate in self.duplicates:
                _shut(duplicate)

    def close(self) -> None:
        with self.lock:
            for duplicate in self.duplicates:
                duplicate.close()
            self.duplicates.clear()


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):  # already closed by its owner
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


def _watch_socket(sock: Any) -> None:
    watch: Watch | None = getattr(_current, "watch", None)
    if watch is not None and sock is not None:
        watch.add(sock)


def _is_link_local(host: str) -> bool:
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    elif isinstance(address, ipaddress.IPv6Address) and any(address in n for n in _EMBEDS_IPV4):
        if any(address in net for net in _LINK_LOCAL):
            return True
        address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return any(address in net for net in _LINK_LOCAL)


def _time_left() -> float:
    watch: Watch | None = getattr(_current, "watch", None)
    if watch is None:
        return float("inf")
    if watch.expired:
        return 0.0
    return watch.ends - time.monotonic()


def _lookup(host: str, port: int) -> list[Any]:
    """The name's addresses, waited for no longer than the attempt's deadline.
    A lookup that never returns keeps only its own (daemon) thread, until the
    system resolver gives up."""
    left = _time_left()
    if left <= 0:
        raise DeadlineExceeded("no time left to resolve the receiver's name")
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        pass  # a name: resolved on a thread of its own, below
    else:  # an address asks no DNS server: it cannot hang, no thread needed
        return socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    found: list[Any] = []
    failed: list[BaseException] = []
    done = threading.Event()

    def resolve() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as error:  # handed to the attempt's thread
            failed.append(error)
        finally:
            done.set()

    threading.Thread(target=resolve, name="alert-resolve", daemon=True).start()
    # In short waits: the attempt may be cut before its deadline (Watch.expire).
    while not done.wait(min(left, 0.05)):
        left = _time_left()
        if left <= 0:
            raise DeadlineExceeded("the receiver's name was not resolved within the deadline")
    if failed:
        raise failed[0]
    return found


def _check_name(host: str, port: int) -> str:
    """Before connecting: every address the name resolves to (a spelling the URL
    check did not read as an address is resolved here like any name); the
    address to connect to."""
    addresses = _lookup(host, port)
    for *_, address in addresses:
        if _is_link_local(str(address[0])):
            raise LinkLocalRefused("link-local address refused (cloud metadata)")
    if not addresses:
        raise OSError(f"no address for {host!r}")
    return str(addresses[0][4][0])


def _connect_checked(connection: Any, connect: Any) -> socket.socket:
    """urllib3's connect, to the address resolved within the deadline (so it
    resolves nothing itself) and with its timeout cut to the deadline. The
    name is put back at once: TLS checks the certificate against it."""
    name, timeout = connection._dns_host, connection.timeout
    connection._dns_host = _check_name(name, connection.port)
    left = _time_left()
    if left <= 0:
        connection._dns_host = name
        raise DeadlineExceeded("no time left to connect to the receiver")
    if left != float("inf"):
        connection.timeout = left if not isinstance(timeout, int | float) else min(timeout, left)
    try:
        sock: socket.socket = connect()
    finally:
        connection._dns_host, connection.timeout = name, timeout
    return sock


def _check_peer(sock: socket.socket) -> None:
    """After connecting: the name may resolve differently the second time."""
    if _is_link_local(str(sock.getpeername()[0])):
        sock.close()
        raise LinkLocalRefused("link-local address refused (cloud metadata)")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = _connect_checked(self, super()._new_conn)
        _check_peer(sock)
        _watch_socket(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_socket(self.sock)  # a kept-alive connection made by an earlier attempt
        super().request(*args, **kwargs)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = _connect_checked(self, super()._new_conn)
        _check_peer(sock)
        _watch_socket(sock)  # before the TLS handshake, which a receiver can drag out too
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_socket(self.sock)
        super().request(*args, **kwargs)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def session() -> requests.Session:
    """A session for receivers: guarded connections, no proxy from the
    environment, and no redirect followed (a redirect is not delivery, and
    could point anywhere; pywebpush would follow one)."""
    made = requests.Session()
    made.trust_env = False
    made.max_redirects = 0
    adapter = _GuardedAdapter()
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


def expired() -> bool:
    """Whether this thread's current attempt has run out of time."""
    watch: Watch | None = getattr(_current, "watch", None)
    return watch is not None and watch.expired


@contextmanager
def deadline(seconds: float) -> Iterator[Watch]:
    """Within this block, this thread's connections are cut after ``seconds``."""
    watch = Watch(time.monotonic() + seconds)
    _current.watch = watch
    timer = threading.Timer(seconds, watch.expire)
    timer.daemon = True
    timer.start()
    try:
        yield watch
    finally:
        timer.cancel()
        _current.watch = None
        watch.close()
