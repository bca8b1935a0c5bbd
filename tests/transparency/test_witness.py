"""The witness's rules (C2SP tlog-witness add-checkpoint), without HTTP.

Every refusal a court relies on: a fork (same size, other root), an inconsistent
growth, a stale old size, a log it does not know, a bad signature; and that state
survives a restart and concurrent submissions never roll the log back.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest

from courtwatch.transparency.checkpoint import (
    generate_signing_key,
    parse_vkey,
    sign_checkpoint,
    split_note,
)
from courtwatch.transparency.cosignature import generate_cosigning_key, verify_cosignatures
from courtwatch.transparency.merkle import EMPTY_ROOT, MemoryTree
from courtwatch.transparency.witness import (
    MAX_BODY_BYTES,
    Witness,
    WitnessRefusal,
    WitnessState,
    parse_add_checkpoint,
)

ORIGIN = "court.example/log"
LOG_KEY = generate_signing_key(ORIGIN)
WITNESS_KEY = generate_cosigning_key("partner.example/witness")


def tree(n: int, salt: bytes = b"") -> MemoryTree:
    t = MemoryTree()
    for i in range(n):
        t.append(salt + str(i).encode())
    return t


def note(t: MemoryTree, size: int, key=LOG_KEY, origin: str = ORIGIN) -> str:  # type: ignore[no-untyped-def]
    return sign_checkpoint(origin, size, t.root(size), key)


def body(old: int, proof: list[bytes], note_text: str) -> bytes:
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note_text).encode()


def witness(folder: Path) -> Witness:
    return Witness(WITNESS_KEY, {ORIGIN: parse_vkey(LOG_KEY.vkey)}, WitnessState(folder))


def refusal(w: Witness, data: bytes) -> WitnessRefusal:
    with pytest.raises(WitnessRefusal) as caught:
        w.add_checkpoint(data)
    return caught.value


def test_cosigns_a_first_checkpoint_then_consistent_growth(tmp_path: Path) -> None:
    w, t = witness(tmp_path), tree(20)
    first = note(t, 7)
    line = w.add_checkpoint(body(0, [], first))
    found, problems = verify_cosignatures(first + line, [WITNESS_KEY.verifier()])
    assert len(found) == 1 and problems == []
    second = note(t, 20)
    line = w.add_checkpoint(body(7, t.consistency_proof(7, 20), second))
    assert len(verify_cosignatures(second + line, [WITNESS_KEY.verifier()])[0]) == 1
    # The same checkpoint again is fine (a retry after a lost answer).
    w.add_checkpoint(body(20, [], second))
    # A restarted witness remembers: the state is on disk.
    assert witness(tmp_path).state.latest(ORIGIN).size == 20  # type: ignore[union-attr]


def test_a_fork_is_refused_and_not_recorded(tmp_path: Path) -> None:
    w, honest, forked = witness(tmp_path), tree(8), tree(8, b"other")
    w.add_checkpoint(body(0, [], note(honest, 8)))
    # Same size, another root: 422 whether presented as "old 8"...
    r = refusal(w, body(8, [], note(forked, 8)))
    assert r.status == 422 and "different roots" in r.reason
    assert r.note is not None and r.root == forked.root(8)  # kept for the refusal log
    # ... or as a fresh first submission: 409 with the size the witness holds.
    r = refusal(w, body(0, [], note(forked, 8)))
    assert (r.status, r.latest_size) == (409, 8)
    # A longer fork with a proof from the honest size does not verify.
    longer = tree(12, b"other")
    r = refusal(w, body(8, longer.consistency_proof(8, 12), note(longer, 12)))
    assert r.status == 422
    assert w.state.latest(ORIGIN).root == honest.root(8)  # type: ignore[union-attr]


def test_protocol_status_codes(tmp_path: Path) -> None:
    w, t = witness(tmp_path), tree(10)
    w.add_checkpoint(body(0, [], note(t, 4)))
    assert refusal(w, body(3, [], note(t, 10))).status == 409
    assert refusal(w, body(4, [], note(t, 10))).status == 422  # proof missing
    assert refusal(w, body(11, [], note(t, 10))).status == 400  # old > size
    other_key = generate_signing_key(ORIGIN)
    assert refusal(w, body(4, t.consistency_proof(4, 10), note(t, 10, other_key))).status == 403
    stranger = generate_signing_key("other.example/log")
    assert refusal(w, body(0, [], note(t, 3, stranger, "other.example/log"))).status == 404
    # An altered checkpoint under the right key: 403, nothing recorded.
    altered = note(t, 10).replace("\n10\n", "\n11\n", 1)
    assert refusal(w, body(4, t.consistency_proof(4, 10), altered)).status == 403
    assert w.state.latest(ORIGIN).size == 4  # type: ignore[union-attr]


def test_empty_tree_rules(tmp_path: Path) -> None:
    w = witness(tmp_path)
    empty = sign_checkpoint(ORIGIN, 0, EMPTY_ROOT, LOG_KEY)
    w.add_checkpoint(body(0, [], empty))
    wrong = sign_checkpoint(ORIGIN, 0, b"\x07" * 32, LOG_KEY)
    assert refusal(w, body(0, [], wrong)).status == 422
    t = tree(3)
    assert refusal(w, body(0, [b"\x01" * 32], note(t, 3))).status == 422


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"old 1",
        b"old -1\n\n",
        b"old 01\n\n",
        b"old 99999999999999999999\n\n",
        b"old 9223372036854775808\n\n",
        b"old \xd9\xa1\n\n",  # Arabic-Indic digit one
        b"old 0\nnot base64\n\n",
        b"old 0\n" + b"AAAA\n" + b"\n",
        b"old 0\n" + b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64 + b"\n",
        b"old 0\n\n\x00\x01",
        b"\xff\xfe\n\n",
        b"old 0\n\n" + b"x" * MAX_BODY_BYTES,
        b"old 0\n\nnot a checkpoint\n\n\xe2\x80\x94 a AAAA\n",
        b"old 0\n\ncourt.example/log\n5\nAAAA\n\n\xe2\x80\x94 a AAAAAAA=\n",
        b"old 0\n\ncourt.example/log\n5\n" + b"\xed\xa0\x80" + b"\n\n",  # lone surrogate
    ],
)
def test_hostile_bodies_are_400(tmp_path: Path, raw: bytes) -> None:
    r = refusal(witness(tmp_path), raw)
    assert r.status == 400, r.reason
    assert not (tmp_path / "witness-state.json").exists()


def test_parse_keeps_the_proof_in_order() -> None:
    h1, h2 = b"\x01" * 32, b"\x02" * 32
    parsed = parse_add_checkpoint(body(5, [h1, h2], "x\n"))
    assert (parsed.old_size, parsed.proof, parsed.note) == (5, (h1, h2), "x\n")


def test_concurrent_submissions_never_roll_the_log_back(tmp_path: Path) -> None:
    # Two witnesses on one folder stand for two processes; the file lock serialises them.
    t = tree(64)
    witnesses = [witness(tmp_path), witness(tmp_path)]
    witnesses[0].add_checkpoint(body(0, [], note(t, 8)))
    sizes = list(range(9, 65))
    outcomes: list[tuple[int, int]] = []

    def submit(size: int) -> None:
        w = witnesses[size % 2]
        try:
            w.add_checkpoint(body(8, t.consistency_proof(8, size), note(t, size)))
            outcomes.append((size, 200))
        except WitnessRefusal as e:
            outcomes.append((size, e.status))

    threads = [threading.Thread(target=submit, args=(s,)) for s in sizes]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # Exactly one "old 8" submission wins; every other one is told the new size.
    winners = [s for s, status in outcomes if status == 200]
    assert len(winners) == 1
    assert {status for _, status in outcomes} == {200, 409}
    assert witnesses[1].state.latest(ORIGIN).size == winners[0]  # type: ignore[union-attr]
    split_note(witnesses[1].state.latest(ORIGIN).published())  # type: ignore[union-attr]


@pytest.mark.parametrize("size", ["9" * 5000, "18446744073709551616", "1" + "0" * 20])
def test_a_huge_tree_size_is_a_checkpoint_error_not_a_crash(tmp_path: Path, size: str) -> None:
    # Regression: a 5,000-digit size made int() raise ValueError, which escaped
    # parse_checkpoint_text (the witness answered 500; `verify` crashed).
    from courtwatch.transparency.checkpoint import CheckpointError, parse_checkpoint_text

    text = f"{ORIGIN}\n{size}\n{base64.b64encode(bytes(32)).decode()}\n"
    with pytest.raises(CheckpointError, match="tree size"):
        parse_checkpoint_text(text)
    signed = sign_checkpoint(ORIGIN, 5, tree(5).root(), LOG_KEY).replace("\n5\n", f"\n{size}\n")
    assert refusal(witness(tmp_path), body(0, [], signed)).status == 400
