"""The closed vocabularies that replaced free text (issue 9) and their reference data."""

import csv
from importlib import resources

from courtwatch.domain.vocabulary import IceOffice, TakenTo


def test_the_ice_office_vocabulary_is_the_data_file_plus_other_and_unknown() -> None:
    text = resources.files("courtwatch").joinpath("data/ice_offices.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert {row["code"] for row in rows} | {"other", "unknown"} == {o.value for o in IceOffice}
    assert len(rows) == len({row["code"] for row in rows})
    field_offices = [row for row in rows if row["kind"] == "field_office"]
    assert len(field_offices) == 25
    assert all(row["source"] for row in rows)
    provenance = resources.files("courtwatch").joinpath("data/PROVENANCE.md").read_text()
    assert "## ice_offices.csv" in provenance


def test_taken_to_names_kinds_of_place_only() -> None:
    assert {t.value for t in TakenTo} == {
        "ice_field_office",
        "ice_processing_center",
        "detention_facility",
        "police_station",
        "hospital",
        "other",
        "unknown",
    }
