"""The fast canonicaliser writes exactly what the reference RFC 8785 serialiser writes.

Every leaf hash of the log depends on these bytes, and independent verifiers
recompute them with their own RFC 8785 code: one differing byte would make an
honest record look tampered with. So the fast path is held to ``rfc8785.dumps``
on generated values, above all where the standard library's encoder and RFC 8785
could part ways (key order beyond the Basic Multilingual Plane, escapes,
numbers), and must fail exactly where it fails.
"""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courtwatch.transparency.canonical import canonical_json

# Characters where encoders disagree: controls, DEL, the line separators
# JavaScript once escaped, the private-use and specials blocks that sort after
# surrogates in code points but before them in UTF-16, non-BMP, and lone surrogates.
_TRICKY = st.sampled_from(
    ["\x00", "\x01", "\x08", "\x0c", "\x1f", "\x7f", '"', "\\", "/", "\u2028", "\u2029",
     "\ud7ff", "\ue000", "\uf8ff", "\ufeff", "\uffff", "\U00010000", "\U0001f600",
     "\U0010ffff", "\ud800", "\udfff", "é", "a", "Z", "0"]
)  # fmt: skip
_TEXT = st.lists(_TRICKY | st.characters(), max_size=6).map("".join)
_INTEGERS = st.sampled_from([0, 1, -1, 2**53 - 1, -(2**53) + 1, 2**53, -(2**53), 10**30]) | (
    st.integers()
)
# Coordinates are most of the floats events hold; the rest probe the layout edges.
_FLOATS = st.floats() | st.floats(-180, 180) | st.sampled_from([1e-4, 1e16, 1e21, 1e-7, -0.0])
_SCALARS = st.none() | st.booleans() | _INTEGERS | _FLOATS | _TEXT
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=5),
    max_leaves=25,
)


def _reference(value: Any) -> bytes | type[BaseException]:
    try:
        return rfc8785.dumps(value)
    except Exception as error:
        return type(error)


def _fast(value: Any) -> bytes | type[BaseException]:
    try:
        return canonical_json(value)
    except Exception as error:
        return type(error)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALUES)
def test_canonical_json_writes_what_rfc8785_writes_or_fails_as_it_fails(value: Any) -> None:
    assert _fast(value) == _reference(value)


@pytest.mark.parametrize(
    "value",
    [
        # UTF-16 order puts U+1F600 (a surrogate pair, D83D...) before U+E000;
        # code-point order puts it after.
        {"\ue000": 1, "\U0001f600": 2},
        {"a\uffff": 1, "a\U00010000": 2, "a": 3},
        {"controls": "\x00\x1f\x7f\u2028", "quote": '"\\/'},
        {"big": 2**53 - 1, "small": -(2**53) + 1},
        [1.5, 1e21, 1e-7, -0.0, 100.0, 1e16, 1e-4, 0.00011, 9.99e-5, 9999999999999998.0],
        [40.712776, -73.005941, 123456789012345.6, -0.5, 5e-324, 1.7976931348623157e308],
    ],
)
def test_values_where_encoders_differ_are_written_as_rfc8785_writes_them(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value", [2**53, -(2**53), {"k": "\ud800"}, {"\udfff": 1}, float("nan"), float("inf")]
)
def test_what_rfc8785_refuses_is_refused_with_its_error(value: Any) -> None:
    with pytest.raises(ValueError) as fast:
        canonical_json(value)
    with pytest.raises(ValueError) as reference:
        rfc8785.dumps(value)
    assert type(fast.value) is type(reference.value)
