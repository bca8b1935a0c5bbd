"""The sealed fields, closed: free text is allowed again, but only here.

Every one is optional. Values are text: a date of birth typed as the person
gave it is evidence as given, not a parsed date.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# Name -> most characters kept. Notes are a paragraph or two; the rest are short.
SEALED_FIELDS: dict[str, int] = {
    "notes": 4000,
    "person_name": 200,
    "a_number": 40,
    "country_of_birth": 100,
    "date_of_birth": 40,
    "language": 100,
    "contact": 500,  # family or attorney: name and phone
    "taken_to_detail": 500,  # where the person was taken, in the witness's words
}
# Newlines and tabs are fine inside notes; every other control character,
# lone surrogate or bidirectional override is refused (as at intake: NUL and
# surrogates cannot be encoded, bidi controls make text read differently).
_REFUSED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


class SealedFieldProblem(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def clean_sealed_values(raw: Any) -> dict[str, str]:
    """The non-empty sealed values of a request, or SealedFieldProblem for the first bad one."""
    if not isinstance(raw, Mapping):
        raise SealedFieldProblem("sealed", "an object of sealed fields")
    values: dict[str, str] = {}
    for name, value in raw.items():
        where = f"sealed.{name}" if isinstance(name, str) and name.isascii() else "sealed"
        if name not in SEALED_FIELDS:
            raise SealedFieldProblem(where, "unknown field")
        if value is None:
            continue
        if not isinstance(value, str):
            raise SealedFieldProblem(where, "text")
        text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
        text = text.strip()
        if _REFUSED.search(text) or (name != "notes" and ("\n" in text or "\t" in text)):
            raise SealedFieldProblem(where, "contains control characters")
        if len(text) > SEALED_FIELDS[name]:
            raise SealedFieldProblem(where, f"at most {SEALED_FIELDS[name]} characters")
        if text:
            values[name] = text
    return values
