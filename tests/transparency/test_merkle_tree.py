"""The log's Merkle tree, from the first append to proofs over 100,000 records.

The story: each event appended to the log becomes a leaf; storage keeps only
complete subtrees; from those, the log can prove to anyone that a record is in
it (inclusion) and that today's log still contains yesterday's (consistency),
each proof costing one storage round trip and O(log n) hashes.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence

import pytest

from courtwatch.transparency.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    NodeId,
    ProofError,
    RootMismatchError,
    append_many,
    append_many_plan,
    append_plan,
    consistency_proof,
    consistency_proof_from_nodes,
    consistency_proof_plan,
    inclusion_proof,
    inclusion_proof_from_nodes,
    inclusion_proof_plan,
    leaf_hash,
    node_hash,
    nodes_to_store_after_append,
    root_from_nodes,
    root_hash,
    root_plan,
    verify_consistency,
    verify_inclusion,
)


def data(i: int) -> bytes:
    return f"event {i}".encode()


def rfc_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written straight from the definition as a reference."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc_root(leaves[:k]) + rfc_root(leaves[k:])).digest()


def tree_of(n: int) -> MemoryTree:
    tree = MemoryTree()
    for i in range(n):
        tree.append(data(i))
    return tree


@pytest.fixture(scope="module")
def tree64() -> MemoryTree:
    return tree_of(64)


@pytest.fixture(scope="module")
def big_tree() -> MemoryTree:
    tree = MemoryTree()
    for i in range(100_000):
        tree.append_hash(leaf_hash(data(i)))
    return tree


# --- hashing and storage -----------------------------------------------------


def test_leaves_and_nodes_are_domain_separated() -> None:
    # The 0x00/0x01 prefixes stop anyone passing off an inner node as a leaf.
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


def test_appending_stores_each_newly_complete_subtree() -> None:
    tree = MemoryTree()
    stored = {}
    for i in range(4):
        new = nodes_to_store_after_append(i, leaf_hash(data(i)), tree.get_node)
        stored[i] = [(level, index) for level, index, _ in new]
        tree.append(data(i))
    # Leaf 3 completes the pair [2, 4) and then the whole [0, 4).
    assert stored == {0: [(0, 0)], 1: [(0, 1), (1, 0)], 2: [(0, 2)], 3: [(0, 3), (1, 1), (2, 0)]}
    assert append_plan(3) == [(0, 2), (1, 0)]
    assert tree.nodes[(2, 0)] == rfc_root([data(i) for i in range(4)])


def test_storage_costs_under_two_nodes_per_leaf(big_tree: MemoryTree) -> None:
    # Every complete subtree is stored exactly once: 2n - popcount(n) nodes.
    n = big_tree.size
    assert len(big_tree.nodes) == 2 * n - n.bit_count()


def test_root_matches_the_rfc_definition_for_every_size_up_to_64(tree64: MemoryTree) -> None:
    leaves = [data(i) for i in range(64)]
    for size in range(65):
        assert tree64.root(size) == rfc_root(leaves[:size]), size


def test_batch_append_equals_one_at_a_time() -> None:
    # A projection appends many events per transaction: it reads the current
    # tree's complete subtrees once and writes all new nodes at once.
    for start, count in [(0, 1), (0, 17), (5, 1), (7, 9), (8, 8), (13, 50)]:
        one_by_one = tree_of(start + count)
        existing = tree_of(start)
        nodes = existing.get_nodes(append_many_plan(start))
        new = append_many(start, [leaf_hash(data(i)) for i in range(start, start + count)], nodes)
        combined = dict(existing.nodes) | {(level, index): h for level, index, h in new}
        assert combined == one_by_one.nodes, (start, count)


def test_a_missing_node_is_reported_not_guessed() -> None:
    with pytest.raises(LookupError, match=r"level=0, index=2"):
        root_hash(3, tree_of(2).get_node)


# --- inclusion ---------------------------------------------------------------


def test_every_leaf_of_every_tree_up_to_64_is_provably_included(tree64: MemoryTree) -> None:
    for size in range(1, 65):
        root = tree64.root(size)
        for index in range(size):
            proof = tree64.inclusion_proof(index, size)
            verify_inclusion(leaf_hash(data(index)), index, size, proof, root)
            assert len(proof) <= math.ceil(math.log2(size))


def test_random_leaves_of_a_100k_tree_are_provably_included(big_tree: MemoryTree) -> None:
    rng = random.Random(9162)
    size = big_tree.size
    root = big_tree.root()
    for index in [0, 1, size - 2, size - 1, *rng.sample(range(size), 300)]:
        proof = big_tree.inclusion_proof(index, size)
        verify_inclusion(leaf_hash(data(index)), index, size, proof, root)
        assert len(proof) <= math.ceil(math.log2(size)) == 17


def test_proofs_grow_logarithmically_with_the_log(big_tree: MemoryTree) -> None:
    # Doubling the log adds at most one hash to a proof, and at most ~2 node reads.
    for size in [1, 2, 3, 1000, 1024, 1025, 65_536, 65_537, 99_999, 100_000]:
        bound = math.ceil(math.log2(size))
        assert len(big_tree.inclusion_proof(size - 1, size)) <= bound
        assert len(inclusion_proof_plan(size // 2, size)) <= 2 * bound + 1
        assert len(root_plan(size)) <= bound + 1


def test_a_proof_takes_one_storage_round_trip(big_tree: MemoryTree) -> None:
    # The database adapter fetches a plan's nodes in one query.
    queries: list[list[NodeId]] = []

    def fetch(node_ids: list[NodeId]) -> Mapping[NodeId, bytes]:
        queries.append(node_ids)
        return big_tree.get_nodes(node_ids)

    size = 99_999
    proof = inclusion_proof_from_nodes(4321, size, fetch(inclusion_proof_plan(4321, size)))
    root = root_from_nodes(size, fetch(root_plan(size)))
    consistency = consistency_proof_from_nodes(777, size, fetch(consistency_proof_plan(777, size)))
    assert len(queries) == 3
    assert proof == inclusion_proof(4321, size, big_tree.get_node)
    assert root == root_hash(size, big_tree.get_node)
    assert consistency == consistency_proof(777, size, big_tree.get_node)


def test_proof_generation_rejects_leaves_outside_the_tree(tree64: MemoryTree) -> None:
    with pytest.raises(ValueError, match="not in a tree of 8 leaves"):
        tree64.inclusion_proof(8, 8)
    with pytest.raises(ValueError, match="the tree has 64 leaves, not 65"):
        tree64.inclusion_proof(0, 65)
    with pytest.raises(ValueError, match="negative"):
        inclusion_proof_plan(-1, 8)


@pytest.mark.parametrize(
    ("index", "size", "tamper", "message"),
    [
        (5, 8, "wrong leaf", "does not lead to the expected root"),
        (5, 8, "flip a bit", "does not lead to the expected root"),
        (5, 8, "drop last hash", "too few"),
        (5, 8, "extra hash", "too many"),
        (5, 8, "short hash", "is 31 bytes"),
        (8, 8, "none", "not inside a tree of 8 leaves"),
        (0, 0, "none", "not inside a tree of 0 leaves"),
        (-1, 8, "none", "must not be negative"),
    ],
)
def test_a_tampered_inclusion_proof_is_rejected_with_a_reason(
    tree64: MemoryTree, index: int, size: int, tamper: str, message: str
) -> None:
    proof = tree64.inclusion_proof(5, 8)
    leaf = leaf_hash(data(5))
    if tamper == "wrong leaf":
        leaf = leaf_hash(b"edited")
    elif tamper == "flip a bit":
        proof[1] = bytes([proof[1][0] ^ 1]) + proof[1][1:]
    elif tamper == "drop last hash":
        proof = proof[:-1]
    elif tamper == "extra hash":
        proof = [*proof, proof[0]]
    elif tamper == "short hash":
        proof[0] = proof[0][:31]
    with pytest.raises(ProofError, match=message):
        verify_inclusion(leaf, index, size, proof, tree64.root(8))


def test_a_root_mismatch_is_distinguishable_from_a_malformed_proof(tree64: MemoryTree) -> None:
    proof = tree64.inclusion_proof(5, 8)
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf_hash(b"edited"), 5, 8, proof, tree64.root(8))


# --- consistency -------------------------------------------------------------


def test_every_pair_of_trees_up_to_64_is_provably_consistent(tree64: MemoryTree) -> None:
    for size2 in range(1, 65):
        root2 = tree64.root(size2)
        for size1 in range(1, size2 + 1):
            proof = tree64.consistency_proof(size1, size2)
            verify_consistency(size1, size2, tree64.root(size1), root2, proof)
            # One extra hash when the old tree is not a complete subtree of the new.
            power_of_two = size1 & (size1 - 1) == 0
            bound = math.ceil(math.log2(size2)) + (0 if power_of_two else 1)
            assert len(proof) <= bound, (size1, size2)


def test_a_rewritten_history_fails_the_consistency_check(tree64: MemoryTree) -> None:
    # An operator who edits record 3 after checkpoint 10 produces a tree whose
    # root at size 10 differs: no proof can link the published root to it.
    forged = MemoryTree()
    for i in range(20):
        forged.append(b"edited" if i == 3 else data(i))
    proof = forged.consistency_proof(10, 20)
    with pytest.raises(RootMismatchError, match="root of the 10-leaf tree"):
        verify_consistency(10, 20, tree64.root(10), forged.root(20), proof)


@pytest.mark.parametrize(
    ("size1", "size2", "proof_kind", "message"),
    [
        (9, 8, "empty", "cannot extend"),
        (8, 8, "one hash", "equal size need an empty"),
        (0, 8, "empty", "empty tree proves nothing"),
        (3, 8, "empty", "proof is empty but the tree sizes differ"),
        (3, 8, "truncated", "too few"),
        (3, 8, "trailing garbage", "too many"),
        (3, 8, "swapped roots", "does not lead to the root"),
    ],
)
def test_a_bad_consistency_proof_is_rejected_with_a_reason(
    tree64: MemoryTree, size1: int, size2: int, proof_kind: str, message: str
) -> None:
    root1, root2 = tree64.root(min(size1, 64)), tree64.root(size2)
    proof = tree64.consistency_proof(3, 8) if proof_kind != "empty" and size1 == 3 else []
    if proof_kind == "one hash":
        proof = [root1]
    elif proof_kind == "truncated":
        proof = proof[:-1]
    elif proof_kind == "trailing garbage":
        proof = [*proof, b"\x00" * 32]
    elif proof_kind == "swapped roots":
        root1, root2 = root2, root1
    with pytest.raises(ProofError, match=message):
        verify_consistency(size1, size2, root1, root2, proof)


def test_equal_trees_need_no_proof(tree64: MemoryTree) -> None:
    verify_consistency(8, 8, tree64.root(8), tree64.root(8), [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert tree64.consistency_proof(8, 8) == []
    with pytest.raises(ProofError, match="two different roots"):
        verify_consistency(8, 8, tree64.root(8), tree64.root(7), [])
    with pytest.raises(ValueError, match="empty tree proves nothing"):
        tree64.consistency_proof(0, 8)
