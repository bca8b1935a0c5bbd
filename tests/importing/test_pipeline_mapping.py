"""Issue 14: the police-contact fields can be imported, and files imported before
they existed keep their row keys (re-importing one adds nothing)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from courtwatch.importing.importer import row_key
from courtwatch.importing.mapping import parse_mapping
from courtwatch.importing.rows import RowReader
from courtwatch.intake import parse_submission

MAPPING = """
[kind]
value = "courthouse_arrest"
[fields.observed_at]
column = "When"
[fields.courthouse_code]
column = "Court"
[fields.police_contact]
column = "Prior arrest"
values = { "Y" = "yes", "N" = "no" }
otherwise = "unknown"
[fields.police_contact_date]
column = "Arrested on"
format = "%m/%d/%Y"
[fields.police_agency]
column = "By"
values = { "NYPD" = "city_police", "Sheriff" = "county_sheriff" }
[fields.detainer_lodged]
column = "Detainer"
values = { "Y" = "yes", "N" = "no" }
"""


def test_police_contact_columns_map_to_the_new_fields() -> None:
    reader = RowReader(parse_mapping(MAPPING), lambda code: "America/New_York",
                       ZoneInfo("America/New_York"))  # fmt: skip
    payload = reader.payload({"When": "2025-03-04T10:00:00-05:00", "Court": "NYC",
                              "Prior arrest": "y", "Arrested on": "02/18/2025", "By": "NYPD",
                              "Detainer": "N"})  # fmt: skip
    submission = parse_submission(payload)
    assert (submission.police_contact, submission.police_contact_date.isoformat(),  # type: ignore[attr-defined]
            submission.police_agency, submission.detainer_lodged) == (  # type: ignore[attr-defined]
        "yes", "2025-02-18", "city_police", "no")  # fmt: skip


def test_row_keys_of_rows_without_the_new_fields_are_the_keys_computed_before_them() -> None:
    """Keys written down from main before the fields were added: a file imported
    then must not be imported a second time now."""
    before = {
        "a65d045f12913b61be5a14398116df5a4ac485d82190c210dba9c1700772daa7": {
            "kind": "courthouse_arrest", "courthouse_code": "NYC",
            "observed_at": "2025-03-04T10:00:00-05:00", "agency": "ice_ero",
            "warrant": "administrative"},
        "0b31059dbdf6e29a5e3f3c635662eb10152fcb6cfaca15b959ecf076d6889dc3": {
            "kind": "call_in", "lat": 40.7, "lon": -74.0,
            "observed_at": "2025-03-04T10:00:00-05:00", "letter_date": "2025-02-20",
            "outcome": "detained"},
    }  # fmt: skip
    for key, payload in before.items():
        assert row_key(parse_submission(payload)) == key
    # A row that does say something about the contact gets a key of its own.
    told = {**before[next(iter(before))], "police_contact": "no"}
    assert row_key(parse_submission(told)) not in before
