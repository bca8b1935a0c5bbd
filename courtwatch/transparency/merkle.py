"""RFC 9162 (Certificate Transparency v2) Merkle tree, stored as complete subtrees.

Hashing (RFC 9162 §2.1.1, identical to RFC 6962):

    leaf_hash(d)    = SHA-256(0x00 || d)
    node_hash(l, r) = SHA-256(0x01 || l || r)
    root of the empty tree = SHA-256("")

Storage model. Only *complete* subtrees are stored: node ``(level, index)`` is the
hash of leaves ``[index * 2**level, (index + 1) * 2**level)``; a leaf is level 0.
Once written such a node never changes, so storage is append-only like the event
log itself, and appending costs two node writes on average. Every hash a proof
needs is either one of those nodes or an incomplete right edge, which is rebuilt
from at most ``log2(n)`` complete pieces.

Batching. Each operation comes in three forms so that a database adapter makes
one round trip per proof:

- ``*_plan(...)`` lists the ``(level, index)`` nodes the operation will read;
- ``*_from_nodes(..., nodes)`` computes the result from a mapping holding them;
- ``*(..., get_node)`` does both with a per-node callback (tests, small trees).

Plans for several proofs can be unioned and fetched in one query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""``(level, index)`` of a complete subtree."""

StoredNode = tuple[int, int, bytes]
"""``(level, index, hash)`` as written to storage."""

GetNode = Callable[[int, int], bytes]

# A range [start, end) of leaves whose RFC 9162 hash (MTH) appears in a proof.
_Range = tuple[int, int]


class ProofError(ValueError):
    """A Merkle proof does not prove what it claims."""


class RootMismatchError(ProofError):
    """A well-formed proof that leads to a different root: the data or the root changed."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """RFC 9162's k: the largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _pieces(start: int, end: int) -> list[NodeId]:
    """Complete subtrees covering ``[start, end)``, largest (leftmost) first.

    Only valid for ranges that occur in RFC 9162's recursion, whose start is a
    multiple of the smallest power of two >= their length; then each set bit of
    the length is one aligned complete subtree.
    """
    length = end - start
    pieces: list[NodeId] = []
    for level in reversed(range(length.bit_length())):
        if (length >> level) & 1:
            pieces.append((level, start >> level))
            start += 1 << level
    return pieces


def _fold(pieces: Sequence[NodeId], nodes: Mapping[NodeId, bytes]) -> bytes:
    # RFC 9162 splits at the largest power of two, so an incomplete range hashes as
    # H(p0, H(p1, H(p2, ...))): fold the pieces from the right.
    acc = _node(nodes, pieces[-1])
    for piece in reversed(pieces[:-1]):
        acc = node_hash(_node(nodes, piece), acc)
    return acc


def _node(nodes: Mapping[NodeId, bytes], node_id: NodeId) -> bytes:
    try:
        value = nodes[node_id]
    except KeyError:
        raise LookupError(
            f"Merkle node (level={node_id[0]}, index={node_id[1]}) is not stored: "
            "the tree is smaller than requested or its storage is incomplete"
        ) from None
    if len(value) != HASH_SIZE:
        raise ValueError(
            f"Merkle node (level={node_id[0]}, index={node_id[1]}) is {len(value)} bytes, "
            f"expected {HASH_SIZE}: storage is corrupt"
        )
    return value


def _plan(ranges: Iterable[_Range]) -> list[NodeId]:
    # dict keeps first-seen order, so plans are deterministic and duplicate-free.
    return list(dict.fromkeys(p for start, end in ranges for p in _pieces(start, end)))


def _fetch(plan: Sequence[NodeId], get_node: GetNode) -> dict[NodeId, bytes]:
    return {node_id: get_node(*node_id) for node_id in plan}


# --- appending -----------------------------------------------------------------------


def append_plan(leaf_index: int) -> list[NodeId]:
    """Stored nodes that appending leaf ``leaf_index`` reads (its left siblings)."""
    _check_index(leaf_index)
    plan: list[NodeId] = []
    level, index = 0, leaf_index
    while index & 1:
        plan.append((level, index - 1))
        level, index = level + 1, index >> 1
    return plan


def nodes_to_store_after_append(
    leaf_index: int, leaf_hash: bytes, get_node: GetNode
) -> list[StoredNode]:
    """Every complete subtree that becomes complete when leaf ``leaf_index`` is added.

    Includes the leaf itself at level 0. Leaves must be appended in index order.
    """
    _check_index(leaf_index)
    _check_hash(leaf_hash, "leaf hash")
    new: list[StoredNode] = [(0, leaf_index, leaf_hash)]
    level, index, acc = 0, leaf_index, leaf_hash
    # An odd index is a right child: its parent is now complete.
    while index & 1:
        acc = node_hash(get_node(level, index - 1), acc)
        level, index = level + 1, index >> 1
        new.append((level, index, acc))
    return new


def append_many_plan(size: int) -> list[NodeId]:
    """Stored nodes that ``append_many`` reads when the tree currently has ``size`` leaves."""
    return root_plan(size)


def append_many(
    size: int, leaf_hashes: Sequence[bytes], nodes: Mapping[NodeId, bytes]
) -> list[StoredNode]:
    """New nodes for appending ``leaf_hashes`` at indices ``size, size + 1, ...``.

    ``nodes`` must hold ``append_many_plan(size)``: any left sibling that is not part
    of the batch is one of the complete subtrees making up the current tree.
    """
    known = dict(nodes)
    new: list[StoredNode] = []
    for offset, value in enumerate(leaf_hashes):
        created = nodes_to_store_after_append(
            size + offset, value, lambda level, index: _node(known, (level, index))
        )
        for level, index, h in created:
            known[(level, index)] = h
        new.extend(created)
    return new


# --- root ----------------------------------------------------------------------------


def root_plan(size: int) -> list[NodeId]:
    _check_size(size)
    return _pieces(0, size)


def root_from_nodes(size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    plan = root_plan(size)
    return _fold(plan, nodes) if plan else EMPTY_ROOT


def root_hash(size: int, get_node: GetNode) -> bytes:
    return root_from_nodes(size, _fetch(root_plan(size), get_node))


# --- inclusion proofs ----------------------------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    _check_size(size)
    _check_index(index)
    if index >= size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    # RFC 9162 §2.1.3.1 PATH(m, D[n]), walked top-down; the proof lists it bottom-up.
    ranges: list[_Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def inclusion_proof_plan(index: int, size: int) -> list[NodeId]:
    return _plan(_inclusion_ranges(index, size))


def inclusion_proof_from_nodes(index: int, size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    return [_fold(_pieces(*r), nodes) for r in _inclusion_ranges(index, size)]


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    return inclusion_proof_from_nodes(
        index, size, _fetch(inclusion_proof_plan(index, size), get_node)
    )


# --- consistency proofs --------------------------------------------------------------


def _consistency_ranges(size1: int, size2: int) -> list[_Range]:
    _check_size(size1)
    _check_size(size2)
    if size1 > size2:
        raise ValueError(f"cannot prove a tree of {size1} leaves extends one of {size2}")
    if size1 == 0:
        # RFC 9162 defines consistency only for 0 < size1: everything extends the empty tree.
        raise ValueError("a consistency proof from the empty tree proves nothing")
    # RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), walked top-down. `known` is b: the
    # verifier already holds this node's hash (it is the old root) so it is omitted.
    ranges: list[_Range] = []
    lo, hi, known = 0, size2, True
    while hi != size1:
        mid = lo + _split(hi - lo)
        if size1 <= mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo, known = mid, False
    if not known:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def consistency_proof_plan(size1: int, size2: int) -> list[NodeId]:
    return _plan(_consistency_ranges(size1, size2))


def consistency_proof_from_nodes(
    size1: int, size2: int, nodes: Mapping[NodeId, bytes]
) -> list[bytes]:
    return [_fold(_pieces(*r), nodes) for r in _consistency_ranges(size1, size2)]


def consistency_proof(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    plan = consistency_proof_plan(size1, size2)
    return consistency_proof_from_nodes(size1, size2, _fetch(plan, get_node))


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------------


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows leaf ``index`` is in the tree ``root``."""
    if index < 0 or size < 0:
        raise ProofError(f"leaf index {index} and tree size {size} must not be negative")
    if index >= size:
        raise ProofError(f"leaf index {index} is not inside a tree of {size} leaves")
    _check_proof_hash(leaf_hash, "leaf hash")
    _check_proof_hash(root, "root hash")
    _check_proof_elements(proof)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} hashes, too many for this tree")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # The rightmost node of a level has no right sibling: climb past those levels.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, too few for this tree")
    if r != root:
        raise RootMismatchError(
            f"inclusion proof for leaf {index} does not lead to the expected root"
        )


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows tree ``root2`` extends tree ``root1``."""
    if size1 < 0 or size2 < 0:
        raise ProofError(f"tree sizes {size1} and {size2} must not be negative")
    if size1 > size2:
        raise ProofError(f"a tree of {size2} leaves cannot extend one of {size1} leaves")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if root1 != root2:
            raise ProofError(f"two different roots for the same tree size {size1}")
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise ProofError("the root of the empty tree must be SHA-256 of nothing")
        return
    if size1 == 0:
        # Any tree extends the empty one; accepting a proof here would only hide bugs.
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if not proof:
        raise ProofError("consistency proof is empty but the tree sizes differ")
    _check_proof_hash(root1, "first root hash")
    _check_proof_hash(root2, "second root hash")
    _check_proof_elements(proof)

    path = list(proof)
    if size1 & (size1 - 1) == 0:
        # The old tree is a complete subtree of the new one, so its root is a node.
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof has {len(proof)} hashes, too many")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof has {len(proof)} hashes, too few")
    if fr != root1:
        raise RootMismatchError(
            f"consistency proof does not lead to the root of the {size1}-leaf tree"
        )
    if sr != root2:
        raise RootMismatchError(
            f"consistency proof does not lead to the root of the {size2}-leaf tree"
        )


# --- in-memory tree ------------------------------------------------------------------


class MemoryTree:
    """A whole tree in a dict: for tests, tools, and rebuilding a tree offline."""

    def __init__(self) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        self.size = 0

    def append(self, data: bytes) -> int:
        return self.append_hash(leaf_hash(data))

    def append_hash(self, value: bytes) -> int:
        index = self.size
        for level, idx, h in nodes_to_store_after_append(index, value, self.get_node):
            self.nodes[(level, idx)] = h
        self.size += 1
        return index

    def get_node(self, level: int, index: int) -> bytes:
        return _node(self.nodes, (level, index))

    def get_nodes(self, node_ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return {node_id: _node(self.nodes, node_id) for node_id in node_ids}

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self._size(size), self.get_node)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._size(size), self.get_node)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(size1, self._size(size2), self.get_node)

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if size > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return size


# --- argument checks -----------------------------------------------------------------


def _check_index(index: int) -> None:
    if index < 0:
        raise ValueError(f"leaf index must not be negative, got {index}")


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"tree size must not be negative, got {size}")


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def _check_proof_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def _check_proof_elements(proof: Sequence[bytes]) -> None:
    for position, p in enumerate(proof):
        if len(p) != HASH_SIZE:
            raise ProofError(
                f"proof hash #{position} is {len(p)} bytes, expected {HASH_SIZE}: "
                "the proof is damaged"
            )
