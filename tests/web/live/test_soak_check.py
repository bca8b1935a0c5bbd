"""bench/soak.py's verdict on a viewer's deltas can fail: each fault is told apart."""

from __future__ import annotations

from bench.soak import faults


def test_the_soak_tells_a_missed_a_duplicated_and_a_reordered_delta_apart() -> None:
    want = [3, 5, 8]
    assert faults([3, 5, 8], want) == []
    assert faults([3, 8], want) == ["missed"]
    assert faults([3, 5, 5, 8], want) == ["duplicated"]
    assert faults([3, 8, 5], want) == ["reordered"]
    assert faults([3, 5, 8], want, some_unseen=True) == ["missed"]
