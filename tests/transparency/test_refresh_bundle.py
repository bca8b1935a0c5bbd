"""refresh_bundle: the original files kept byte for byte; a refresh that cannot verify is refused."""

from __future__ import annotations

import pytest

from courtwatch.transparency.checkpoint import generate_signing_key, sign_checkpoint
from courtwatch.transparency.merkle import ProofError
from courtwatch.transparency.refresh import RefreshError, refresh_bundle
from courtwatch.transparency.verify import verify_bundle
from tests.transparency.test_bundle import CITED, OLD_SIZE, ORIGIN, Log, row

KEY = generate_signing_key(ORIGIN)
NOW = Log(KEY, [row(i) for i in range(40)])
LATER = Log(KEY, [row(i) for i in range(55)])


def test_a_refresh_is_deterministic_and_verifies() -> None:
    old = NOW.bundle(CITED)
    proof = LATER.tree.consistency_proof(40)
    new = refresh_bundle(old, LATER.checkpoint(), proof)
    assert new == refresh_bundle(old, LATER.checkpoint(), proof)
    # Refreshing the refreshed bundle replaces refresh.json: same bytes again.
    assert refresh_bundle(new, LATER.checkpoint(), proof) == new
    report = verify_bundle(new, KEY.vkey, ORIGIN)
    assert report.ok and report.refreshed is not None and report.refreshed.size == 55


def test_a_refresh_that_would_not_verify_is_refused() -> None:
    old = NOW.bundle(CITED)
    with pytest.raises(RefreshError, match="smaller"):
        refresh_bundle(old, NOW.checkpoint(OLD_SIZE), [])
    proof = LATER.tree.consistency_proof(40)
    with pytest.raises(ProofError):
        refresh_bundle(old, LATER.checkpoint(), proof[1:])
    other = Log(generate_signing_key("other.example/log"), [row(i) for i in range(55)])
    note = sign_checkpoint("other.example/log", 55, other.tree.root(), other.key)
    with pytest.raises(RefreshError, match="is for log 'other"):
        refresh_bundle(old, note, proof)
    with pytest.raises(RefreshError, match="cannot read checkpoint"):
        refresh_bundle(b"not a zip", LATER.checkpoint(), proof)


def test_a_log_that_has_not_grown_refreshes_to_its_own_checkpoint() -> None:
    # The same checkpoint, later cosigned: an empty proof, roots equal.
    old = NOW.bundle(CITED)
    report = verify_bundle(refresh_bundle(old, NOW.checkpoint(), []), KEY.vkey, ORIGIN)
    assert report.ok and report.refreshed is not None and report.refreshed.size == 40
