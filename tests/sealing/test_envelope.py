"""The sealing core on its own: seal, unwrap, open; commitments; disclosures."""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path

import pytest

from courtwatch.sealing import keys
from courtwatch.sealing.commitments import SALT_BYTES, commitment, matches
from courtwatch.sealing.disclosure import check_disclosure, make_disclosure
from courtwatch.sealing.envelope import UnsealFailed, open_sealed, seal, unseal, unwrap_data_key
from courtwatch.sealing.fields import SEALED_FIELDS, SealedFieldProblem, clean_sealed_values

VALUES = {"person_name": "María José Núñez", "a_number": "A123-456-789", "notes": "line 1\nline 2"}


def test_a_sealed_part_opens_exactly_with_the_organisations_key_only() -> None:
    report_id = uuid.uuid4()
    organisation = keys.generate()
    sealed = seal(report_id, VALUES, organisation.public_key())
    opened = unseal(report_id, sealed.ciphertext, sealed.wrapped_key, organisation)
    assert {name: item.value for name, item in opened.items() if item.value} == VALUES
    assert set(sealed.commitments) == set(SEALED_FIELDS)  # empty fields committed too
    assert sealed.fields == ("notes", "person_name", "a_number")
    for value in VALUES.values():
        assert value.encode() not in sealed.ciphertext + sealed.wrapped_key
    with pytest.raises(UnsealFailed):
        unseal(report_id, sealed.ciphertext, sealed.wrapped_key, keys.generate())
    with pytest.raises(UnsealFailed):  # bound to its report: cannot be moved to another
        unseal(uuid.uuid4(), sealed.ciphertext, sealed.wrapped_key, organisation)


def test_a_destroyed_or_damaged_data_key_opens_nothing() -> None:
    report_id = uuid.uuid4()
    organisation = keys.generate()
    sealed = seal(report_id, VALUES, organisation.public_key())
    with pytest.raises(UnsealFailed, match="destroyed"):
        unseal(report_id, sealed.ciphertext, None, organisation)
    with pytest.raises(UnsealFailed):
        unseal(report_id, None, sealed.wrapped_key, organisation)
    damaged = bytearray(sealed.wrapped_key)
    damaged[-1] ^= 1
    with pytest.raises(UnsealFailed):
        unwrap_data_key(report_id, bytes(damaged), organisation)
    key = unwrap_data_key(report_id, sealed.wrapped_key, organisation)
    flipped = bytearray(sealed.ciphertext)
    flipped[20] ^= 1
    with pytest.raises(UnsealFailed):
        open_sealed(report_id, bytes(flipped), key)


def test_commitments_are_salted_with_32_random_bytes_and_bound_to_field_and_report() -> None:
    report_id = uuid.uuid4()
    organisation = keys.generate().public_key()
    one = seal(report_id, {"person_name": "Ana"}, organisation)
    two = seal(report_id, {"person_name": "Ana"}, organisation)
    # The same value twice gives unrelated commitments: a guess cannot be tested.
    assert one.commitments["person_name"] != two.commitments["person_name"]
    salt = os.urandom(SALT_BYTES)
    logged = commitment(report_id, "person_name", salt, "Ana")
    assert matches(report_id, "person_name", salt, "Ana", logged)
    assert not matches(report_id, "language", salt, "Ana", logged)
    assert not matches(uuid.uuid4(), "person_name", salt, "Ana", logged)
    assert not matches(report_id, "person_name", salt, "Ana ", logged)
    with pytest.raises(ValueError):
        commitment(report_id, "person_name", b"short", "Ana")


def test_a_disclosure_checks_against_the_logged_event_and_a_tampered_one_fails() -> None:
    report_id = uuid.uuid4()
    organisation = keys.generate()
    sealed = seal(report_id, VALUES, organisation.public_key())
    event = {
        "id": str(report_id),
        "topic": "courtwatch.domain.reports:Report.DetailsSealed",
        "payload": {"commitments": sealed.commitments},
    }
    opened = unseal(report_id, sealed.ciphertext, sealed.wrapped_key, organisation)
    item = opened["a_number"]
    disclosure = make_disclosure(
        report_id, "a_number", item.value, item.salt, sealed.commitments["a_number"]
    )
    assert check_disclosure(disclosure, [event]) == []
    assert check_disclosure({**disclosure, "value": "A123-456-788"}, [event])
    assert check_disclosure({**disclosure, "field": "notes"}, [event])
    other_salt = base64.b64encode(os.urandom(SALT_BYTES)).decode()
    assert check_disclosure({**disclosure, "salt": other_salt}, [event])
    assert check_disclosure({**disclosure, "report_id": str(uuid.uuid4())}, [event])
    assert check_disclosure({**disclosure, "salt": "%%%"}, [event])
    assert check_disclosure({"format": "x"}, [event])
    assert check_disclosure([], [event])


@pytest.mark.parametrize(
    "raw",
    [
        {"nickname": "x"},
        {"person_name": 5},
        {"person_name": ["a"]},
        {"notes": "a\x00b"},
        {"notes": "a\ud800b"},
        {"notes": "a\u202eb"},
        {"person_name": "two\nlines"},
        {"person_name": "x" * 201},
        {"notes": "x" * 4001},
        "just text",
    ],
)
def test_hostile_sealed_values_are_refused(raw: object) -> None:
    with pytest.raises(SealedFieldProblem):
        clean_sealed_values(raw)


def test_notes_keep_their_lines_and_empty_fields_are_dropped() -> None:
    assert clean_sealed_values({"notes": " a\r\nb\tc ", "language": "", "contact": None}) == {
        "notes": "a\nb\tc"
    }


def test_the_key_file_is_0600_never_overwritten_and_refused_if_others_can_read_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sealing" / "unsealing.key"
    key = keys.generate()
    keys.write_private_key(path, key)
    assert path.stat().st_mode & 0o777 == 0o600
    assert keys.public_bytes(keys.read_private_key(path).public_key()) == keys.public_bytes(
        key.public_key()
    )
    with pytest.raises(FileExistsError):
        keys.write_private_key(path, keys.generate())
    path.chmod(0o644)
    with pytest.raises(keys.SealingKeyError, match="readable by others"):
        keys.read_private_key(path)
    text = keys.public_text(key.public_key())
    assert keys.public_bytes(keys.parse_public_text(text)) == keys.public_bytes(key.public_key())
    with pytest.raises(keys.SealingKeyError):
        keys.parse_public_text("cwseal1:AAAA")


def test_every_redaction_reason_and_sealed_field_has_an_english_and_a_spanish_label() -> None:
    from courtwatch.domain.vocabulary import RedactionReason
    from web.i18n import TEXT

    keys_needed = [f"redaction_reason.{r.value}" for r in RedactionReason]
    keys_needed += [f"sealed_field.{name}" for name in SEALED_FIELDS]
    keys_needed += [
        f"event.{name}" for name in ("DetailsSealed", "Redacted", "PhotoSealed", "PhotoPublished")
    ]
    for key in keys_needed:
        english, spanish = TEXT[key]
        assert english and spanish, key
