"""Report heads: the signed answer to "which version of each report was current?"

A Merkle inclusion proof shows that an event *is* in the log; it cannot show that
nothing *else* of the same report is. Someone holding a bundle could delete a
report's last events (say its Disputed and Amended ones) and every remaining proof
would still verify. So every checkpoint also commits to each record's newest
version at that tree size, and a bundle proves its report's entry in that list.

The heads list at tree size N: one entry per record id (originator id) that has a
leaf below N, holding the highest version among those leaves. Entry bytes are the
ASCII text ``<lowercase hyphenated uuid> <version in decimal>``; entries are sorted
by that uuid text, and form an RFC 9162 Merkle tree (leaf hash
SHA-256(0x00 || entry bytes)). The checkpoint carries one extension line (C2SP
tlog-checkpoint allows extension lines, and they are signed with the rest)::

    courtwatch-report-heads <number of entries> <base64 root hash>

A bundle then proves "report R was at version V" with the inclusion proof of the
entry ``R V`` against that root. Versions run 1, 2, 3... with no gap, so the bundle
must hold exactly versions 1..V of R. Since the signer writes exactly one entry per
record, there is no entry ``R V-1`` to prove after removing the last event.
``courtwatch audit`` recomputes every checkpoint's heads root from the stored
events, so a signer that lied in this list would be caught there.

Standard library + ``cryptography`` + ``rfc8785`` only: the offline verifier imports this.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from uuid import UUID

from courtwatch.transparency.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    leaf_hash,
    node_hash,
    verify_inclusion,
)

EXTENSION_KEYWORD = "courtwatch-report-heads"
_EXTENSION = re.compile(rf"{EXTENSION_KEYWORD} (0|[1-9][0-9]{{0,17}}) ([A-Za-z0-9+/]{{43}}=)")


class HeadsError(ValueError):
    """A heads extension or proof is malformed or does not verify."""


@dataclass(frozen=True)
class Heads:
    """The heads list of one tree size, with the tree to prove entries from."""

    entries: tuple[tuple[str, int], ...]
    levels: list[list[bytes]]
    """Level 0 is the leaf hashes; an unpaired last node moves up unchanged, which
    gives exactly the RFC 9162 tree (its left subtree is the largest power of two)."""
    index: dict[str, int]

    @property
    def count(self) -> int:
        return len(self.entries)

    def root(self) -> bytes:
        return self.levels[-1][0] if self.entries else EMPTY_ROOT

    def extension(self) -> str:
        return heads_extension(self.count, self.root())

    def proof(self, record_id: str) -> tuple[int, int, list[bytes]]:
        """(entry index, current version, inclusion proof) of one record."""
        position = self.index[record_id]
        proof, at = [], position
        for level in self.levels[:-1]:
            if at ^ 1 < len(level):
                proof.append(level[at ^ 1])
            at >>= 1
        return position, self.entries[position][1], proof


def entry_bytes(record_id: str | UUID, version: int) -> bytes:
    text = str(record_id if isinstance(record_id, UUID) else UUID(record_id))
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise HeadsError(f"a version must be a positive integer, got {version!r}")
    return f"{text} {version}".encode("ascii")


def build_heads(latest: Iterable[tuple[str | UUID, int]]) -> Heads:
    """The heads list from (record id, highest version) pairs, one per record."""
    # O(n) hashing: a MemoryTree append per entry costs seconds at 100,000 reports.
    entries = sorted(
        (str(rid) if isinstance(rid, UUID) else str(UUID(rid)), int(v)) for rid, v in latest
    )
    index: dict[str, int] = {}
    for position, (rid, _) in enumerate(entries):
        if rid in index:
            raise HeadsError(f"record {rid} is listed twice")
        index[rid] = position
    if any(isinstance(v, bool) or v < 1 for _, v in entries):
        raise HeadsError("every version in the heads list must be a positive integer")
    # entry_bytes, without re-parsing ids that were just normalised
    levels = [[sha256(b"\x00" + f"{rid} {v}".encode("ascii")).digest() for rid, v in entries]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return Heads(tuple(entries), levels, index)


def heads_extension(count: int, root: bytes) -> str:
    return f"{EXTENSION_KEYWORD} {count} {base64.b64encode(root).decode('ascii')}"


def parse_heads_extension(extensions: Sequence[str]) -> tuple[int, bytes] | None:
    """(entry count, root) from a checkpoint's extension lines; None if it has none."""
    found = [line for line in extensions if line.split(" ", 1)[0] == EXTENSION_KEYWORD]
    if not found:
        return None
    if len(found) > 1:
        raise HeadsError(f"the checkpoint has {len(found)} {EXTENSION_KEYWORD} lines")
    match = _EXTENSION.fullmatch(found[0])
    if match is None:
        raise HeadsError(f"malformed {EXTENSION_KEYWORD} line: {found[0]!r}")
    try:
        root = base64.b64decode(match.group(2), validate=True)
    except binascii.Error:
        raise HeadsError(f"malformed {EXTENSION_KEYWORD} root: {found[0]!r}") from None
    if len(root) != HASH_SIZE or base64.b64encode(root).decode("ascii") != match.group(2):
        raise HeadsError(f"malformed {EXTENSION_KEYWORD} root: {found[0]!r}")
    return int(match.group(1)), root


def verify_head(
    record_id: str, version: int, position: int, proof: Sequence[bytes], count: int, root: bytes
) -> None:
    """Raise ``ProofError``/``HeadsError`` unless ``record_id version`` is in the signed heads."""
    verify_inclusion(leaf_hash(entry_bytes(record_id, version)), position, count, proof, root)
