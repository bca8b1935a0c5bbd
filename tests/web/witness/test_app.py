"""The witness over HTTP, attacked: hostile bodies never get a 5xx or a cosignature.

One witness server for the module (no database: a witness has none).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from courtwatch.transparency.checkpoint import generate_signing_key, parse_vkey, sign_checkpoint
from courtwatch.transparency.cosignature import generate_cosigning_key, verify_cosignatures
from courtwatch.transparency.merkle import MemoryTree
from courtwatch.transparency.witness import MAX_BODY_BYTES, Witness, WitnessState
from tests.conftest import ServerThread
from web.witness.app import create_witness_app

ORIGIN = "court.example/log"
LOG_KEY = generate_signing_key(ORIGIN)
TREE = MemoryTree()
for _i in range(300):
    TREE.append(str(_i).encode())
FORK = MemoryTree()
for _i in range(300):
    FORK.append(b"fork" + str(_i).encode())


def note(size: int, tree: MemoryTree = TREE) -> str:
    return sign_checkpoint(ORIGIN, size, tree.root(size), LOG_KEY)


def body(old: int, new: int, tree: MemoryTree = TREE) -> bytes:
    proof = tree.consistency_proof(old, new) if 0 < old < new else []
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note(new, tree)).encode()


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Witness:
    folder: Path = tmp_path_factory.mktemp("witness")
    return Witness(
        generate_cosigning_key("w.example/w"),
        {ORIGIN: parse_vkey(LOG_KEY.vkey)},
        WitnessState(folder),
    )


@pytest.fixture(scope="module")
def server(witness: Witness) -> Iterator[ServerThread]:
    with ServerThread(create_witness_app(witness)) as running:
        yield running


def post(server: ServerThread, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}/add-checkpoint", content=content, headers=headers)


def test_cosign_then_monitor(server: ServerThread, witness: Witness) -> None:
    answer = post(server, body(0, 10))
    assert answer.status_code == 200
    found, _ = verify_cosignatures(note(10) + answer.text, [witness.key.verifier()])
    assert len(found) == 1
    digest = hashlib.sha256(ORIGIN.encode()).hexdigest()
    published = httpx.get(f"{server.url}/{digest}/checkpoint")
    assert published.status_code == 200
    assert len(verify_cosignatures(published.text, [witness.key.verifier()])[0]) == 1
    assert httpx.get(f"{server.url}/{'0' * 64}/checkpoint").status_code == 404
    assert httpx.get(server.url + "/").text.strip() == witness.key.vkey


HOSTILE = [
    b"",
    b"\x00" * 100,
    b"old 0\n\n" + note(5).replace("\n5\n", "\n5\x00\n").encode(),
    b"old -1\n\n" + note(5).encode(),
    b"old " + b"9" * 5000 + b"\n\n" + note(5).encode(),
    b"old 0\n\n" + note(5).replace("\n5\n", "\n" + "9" * 5000 + "\n").encode(),
    b"old 0\n\n" + note(5).replace(ORIGIN, "other.example/log", 1).encode(),
    b"old 0\n\n" + note(5).encode()[:-20] + b"\n",
    b"old 0\n\n\xed\xa0\x80\n5\nAAAA\n\n",
    b"old 0\n\n" + note(5).replace("\n\n", "\n\n\n").encode(),
    b"old 0\n\n" + (note(5) + "\u2014 x " + "A" * 100000 + "\n").encode(),
    b"old 99999999999999999999\n\n" + note(5).encode(),
]


@pytest.mark.parametrize("content", HOSTILE)
def test_hostile_bodies_get_a_4xx_and_change_nothing(
    server: ServerThread, witness: Witness, content: bytes
) -> None:
    before = witness.state.latest(ORIGIN)
    answer = post(server, content)
    assert 400 <= answer.status_code < 500, answer.text
    assert "\u2014" not in answer.text
    assert witness.state.latest(ORIGIN) == before


def test_huge_bodies_are_refused_unread(server: ServerThread) -> None:
    assert post(server, b"x" * (MAX_BODY_BYTES * 16)).status_code == 413

    def chunks() -> Iterator[bytes]:  # no content-length: the stream is bounded too
        for _ in range(64):
            yield b"y" * 65536

    answer = httpx.post(f"{server.url}/add-checkpoint", content=chunks())
    assert answer.status_code == 413
    assert httpx.get(f"{server.url}/add-checkpoint").status_code == 405


async def test_concurrent_honest_and_forked_submissions(
    server: ServerThread, witness: Witness
) -> None:
    start = witness.state.latest(ORIGIN)
    assert start is not None
    old = start.size
    sizes = range(old + 1, old + 41)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        honest = [client.post("/add-checkpoint", content=body(old, s)) for s in sizes]
        forked = [client.post("/add-checkpoint", content=body(old, s, FORK)) for s in sizes]
        answers = await asyncio.gather(*honest, *forked)
    statuses = [a.status_code for a in answers]
    assert all(s in (200, 409, 422) for s in statuses), statuses
    # Every fork is refused; at most one "old N" submission can win.
    assert all(a.status_code != 200 for a in answers[len(sizes) :])
    assert statuses[: len(sizes)].count(200) <= 1
    latest = witness.state.latest(ORIGIN)
    assert latest is not None and latest.root == TREE.root(latest.size)
    assert latest.size >= old
