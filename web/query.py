"""Reading values from a query string: one strict parser per kind of value.

Query strings come from anyone. Python's own parsers are generous in ways that
hurt here: ``int()`` reads an Arabic-Indic or a fullwidth one as 1, a superscript
two passes ``str.isdigit()`` but not ``int()``, ``int()`` of 4,301 digits raises
ValueError, and a time at year 1 or 9999 overflows once its offset is applied.
Each parser below accepts only what a client of courtwatch would send and
names the parameter in a 422 (``ValidationFailed``) otherwise, so a route never
sees a value it cannot use.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from courtwatch.intake import ValidationFailed

# ASCII digits only, at most 18 of them: every such number fits PostgreSQL's
# bigint, and no Unicode digit is read as a different number.
_ASCII_INT = re.compile(r"[0-9]{1,18}", re.ASCII)
BIGINT_MAX = 2**63 - 1

# Times a query may name: the product has no record before 2000 and none far ahead.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100

COURTHOUSE_CODE_MAX = 24


def ascii_int(name: str, raw: str, *, maximum: int = BIGINT_MAX) -> int:
    """A non-negative whole number written in ASCII digits, at most ``maximum``."""
    if not _ASCII_INT.fullmatch(raw):
        raise ValidationFailed.single(name, "a non-negative whole number in digits 0-9")
    value = int(raw)
    if value > maximum:
        raise ValidationFailed.single(name, f"at most {maximum}")
    return value


def optional_ascii_int(name: str, raw: str | None, *, maximum: int = BIGINT_MAX) -> int | None:
    """``ascii_int`` for a parameter that may be absent or empty (then None)."""
    if raw is None or raw == "":
        return None
    return ascii_int(name, raw, maximum=maximum)


def _has_control(text: str) -> bool:
    # Cc: C0/C1 controls incl. NUL, CR, LF; Cf: invisible format marks; Cs: lone
    # surrogates; Co/Cn: private use and unassigned. None belongs in a code.
    return any(unicodedata.category(ch).startswith("C") for ch in text)


def courthouse_code(name: str, raw: str | None) -> str | None:
    """A courthouse code to filter by (None when absent): short, no control characters.

    PostgreSQL refuses NUL in text and HTTP refuses CR/LF in headers, so such a
    value must never reach a query or a filename.
    """
    if raw is None or raw == "":
        return None
    if len(raw) > COURTHOUSE_CODE_MAX or raw != raw.strip() or _has_control(raw):
        raise ValidationFailed.single(
            name, f"a courthouse code: up to {COURTHOUSE_CODE_MAX} visible characters"
        )
    return raw


def iso_time(name: str, raw: str | None) -> datetime | None:
    """An ISO 8601 time with its offset (None when absent), between 2000 and 2100."""
    if raw is None or raw == "":
        return None
    reason = f"an ISO 8601 time with its offset, in the years {EARLIEST_YEAR}-{LATEST_YEAR}"
    # fromisoformat stops reading at a NUL, so "...+00:00\x00" would pass as a time.
    if not (raw.isascii() and raw.isprintable()):
        raise ValidationFailed.single(name, reason)
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError("no offset")
        # Applying the offset overflows at year 1 or 9999: that is the check itself.
        in_utc = value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed.single(name, reason) from None
    if not EARLIEST_YEAR <= in_utc.year <= LATEST_YEAR:
        raise ValidationFailed.single(name, reason)
    return in_utc
