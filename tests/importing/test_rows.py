"""Reading hostile and old spreadsheets, without a database (courtwatch/importing)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from courtwatch.domain.errors import InvalidField, NotApplicable
from courtwatch.domain.reports import Sighting, is_imported
from courtwatch.importing.importer import Importer, imported_report_id, row_key
from courtwatch.importing.mapping import MappingError, parse_mapping
from courtwatch.importing.rows import RowReader, RowRejected
from courtwatch.importing.table import RejectedRows, Row, Table, read_source, safe_cell
from courtwatch.intake import details_of, parse_submission

ZONES = {"NYC": "America/New_York", "NLA": "America/Los_Angeles", "PHO": "America/Phoenix"}
MAPPING = """
[kind]
column = "kind"
values = { "Arrest" = "courthouse_arrest", "Seen" = "sighting", "Shift" = "watch_shift" }
[fields.courthouse_code]
column = "court"
[fields.observed_at]
column = "date"
format = "%Y-%m-%d"
time_column = "time"
[fields.ended_at]
time_column = "until"
[fields.agency]
column = "agency"
values = { "ICE" = "ice_ero" }
[fields.agents_count]
column = "agents"
"""


def reader(text: str = MAPPING) -> RowReader:
    return RowReader(parse_mapping(text), ZONES.get, ZoneInfo("America/New_York"))


def row(**cells: str) -> dict[str, str]:
    base = {"kind": "Seen", "court": "NYC", "date": "2017-03-14", "time": "09:30", "until": "",
            "agency": "", "agents": ""}  # fmt: skip
    return {**base, **cells}


def test_a_time_without_a_zone_is_the_courthouses_wall_clock_time() -> None:
    at = reader().payload(row(court="NLA", date="2017-07-04", time="09:00"))["observed_at"]
    assert at.isoformat() == "2017-07-04T09:00:00-07:00"
    at = reader().payload(row(court="PHO", date="2017-07-04", time="09:00"))["observed_at"]
    assert at.isoformat() == "2017-07-04T09:00:00-07:00"  # Arizona keeps no daylight time
    # 02:30 on the spring-forward night does not exist: read with the offset before the gap.
    at = reader().payload(row(date="2017-03-12", time="02:30"))["observed_at"]
    assert at.isoformat() == "2017-03-12T03:30:00-04:00"
    # New Year's Eve late in New York is already the next year in UTC: kept as the local day.
    at = reader().payload(row(date="2016-12-31", time="23:30"))["observed_at"]
    assert at.isoformat() == "2016-12-31T23:30:00-05:00" and at.astimezone(UTC).year == 2017


def test_calendar_edges_are_read_or_rejected_with_the_column_named() -> None:
    assert reader().payload(row(date="2016-02-29"))["observed_at"].day == 29
    for bad in (
        "2017-02-29",
        "2017-04-31",
        "2017-13-01",
        "0001-01-01x",
        "\u0661\u0662-\u0660\u0661-\u0662\u0660\u0661\u0667",
    ):
        with pytest.raises(RowRejected, match=r"^date: not a date"):
            reader().payload(row(date=bad))
    # Year 1 and 9999 parse as dates: intake refuses them like any submission.
    for year in ("0001-01-01", "9999-12-31"):
        payload = reader().payload(row(date=year, time="12:00"))
        with pytest.raises(Exception, match="observed_at"):
            Sighting.submit(uuid.uuid4(), courthouse_code="NYC", lat=None, lon=None,
                            observed_at=payload["observed_at"], details={}, author_token="t",
                            now=datetime.now(UTC))  # fmt: skip


def test_a_shift_ending_past_midnight_ends_the_next_day() -> None:
    payload = reader().payload(row(kind="Shift", time="20:00", until="01:30"))
    assert payload["ended_at"] - payload["observed_at"] == timedelta(hours=5, minutes=30)
    assert "agency" not in payload  # a sighting's field on a shift row is left out


def test_values_counts_and_unknown_cells() -> None:
    payload = reader().payload(row(agency="  ice ", agents="3"))
    assert (payload["agency"], payload["agents_count"]) == ("ice_ero", 3)
    for agents in ("three", "\u00b2", "\u0661", "1e3", "-1", "9" * 5000):
        with pytest.raises(RowRejected, match=r"^agents: a whole number"):
            reader().payload(row(agents=agents))
    with pytest.raises(RowRejected, match=r"^agency: this value is not in the mapping's values"):
        reader().payload(row(agency="FBI"))
    with pytest.raises(RowRejected, match=r"^kind: "):
        reader().payload(row(kind="=1+1"))


def test_the_key_is_the_normalised_content_and_repeats_are_counted() -> None:
    one = parse_submission(reader().payload(row(agency="ICE")))
    same = parse_submission(
        {**reader().payload(row(agency="ice")), "observed_at": "2017-03-14T13:30:00+00:00"}
    )
    other = parse_submission(reader().payload(row(agency="ICE", agents="2")))
    assert row_key(one) == row_key(same) != row_key(other)
    first, second = imported_report_id(row_key(one), 1), imported_report_id(row_key(one), 2)
    assert first != second and is_imported(first) and not is_imported(uuid.uuid4())


def test_mappings_refuse_free_text_and_typos() -> None:
    for text, message in (
        (MAPPING + '[fields.notes]\ncolumn = "Notes"\n', "not a public field"),
        (MAPPING + '[ignore]\ncolumns = ["agency"]\n', "both mapped and ignored"),
        (MAPPING.replace('column = "court"', 'colum = "court"'), "unknown key 'colum'"),
        (MAPPING + '[source]\ntimezone = "Mars/Olympus"\n', "unknown time zone"),
        (MAPPING + '[source]\nencoding = "no-such"\n', "unknown encoding"),
        ("[kind\n", "not valid TOML"),
        ('[kind]\nvalue = "sighting"\n', "observed_at is required"),
    ):
        with pytest.raises(MappingError, match=message):
            parse_mapping(text)


def test_hostile_bytes_cost_one_row_each_and_the_rest_is_read(tmp_path: Path) -> None:
    huge = "x" * 200_000
    data = (
        "\ufeffkind,court,date\r\n"  # BOM, CRLF
        "Seen,NYC,2017-01-01\r\n"
        "Seen,NY\x00C,2017-01-02\r\n"  # NUL: read, then refused by intake
        "Seen,NYC\r\n"  # ragged
        "Seen,NYC,2017-01-03,,,\r\n"  # trailing empty cells are fine
        f"Seen,{huge},2017-01-04\r\n"  # over the csv module's field limit
        "\r\n"  # blank
        "Seen,N\udcffC,2017-01-05\r\n"  # stands for a byte that is not UTF-8
        'Seen,"NYC\r\nunterminated,2017-01-06\r\n'
    ).encode("utf-8", errors="surrogateescape")
    path = tmp_path / "hostile.csv"
    path.write_bytes(data)
    source = read_source(path, "utf-8")
    table = Table(source.text, ",")
    assert table.header == ["kind", "court", "date"]
    rows = list(table.rows(["kind", "court", "date"]))
    assert [(r.line, r.problem) for r in rows] == [
        (2, None),
        (3, None),
        (4, "has 2 cells, the header has 3"),
        (5, None),
        (6, "cannot be read as CSV: field larger than field limit (131072)"),
        (8, "court: not text in the file's encoding (set [source] encoding)"),
        (9, "cannot be read as CSV: unexpected end of data"),
    ]
    assert rows[1].cells["court"] == "NY\x00C"


def test_the_rejected_file_never_holds_a_formula_or_a_control_character(tmp_path: Path) -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1"):
        assert safe_cell(cell).startswith("'")
    assert safe_cell("\r=1") == "\ufffd=1"  # a CR is replaced, and then nothing can run
    assert safe_cell("a\x00b\u202ec") == "a\ufffdb\ufffdc"
    assert len(safe_cell("y" * 10_000)) == 501
    out = RejectedRows(tmp_path / "r.csv", ["=cmd|' /C calc'!A0"])
    out.add(Row(2, {"=cmd|' /C calc'!A0": "@x\udcff"}), "-reason")
    out.close()
    text = (tmp_path / "r.csv").read_bytes().decode("utf-8")
    assert text == "line,reason,'=cmd|' /C calc'!A0\r\n2,'-reason,'@x\ufffd\r\n"


def test_only_a_report_being_submitted_is_marked_imported_once() -> None:
    report = Sighting.submit(uuid.uuid4(), courthouse_code="NYC", lat=None, lon=None,
                             observed_at=datetime(2017, 1, 1, tzinfo=UTC), details={},
                             author_token="t", now=datetime.now(UTC))  # fmt: skip
    with pytest.raises(InvalidField):
        report.mark_imported(source_sha256="A" * 64, source_row=2)
    with pytest.raises(InvalidField):
        report.mark_imported(source_sha256="a" * 64, source_row=0)
    report.mark_imported(source_sha256="a" * 64, source_row=2)
    with pytest.raises(NotApplicable):
        report.mark_imported(source_sha256="b" * 64, source_row=3)
    assert report.imported_from == "a" * 64


def test_times_at_the_ends_of_the_calendar_reject_their_row_only(tmp_path: Path) -> None:
    # 23:30 on 31 Dec 9999 in New York is year 10000 in UTC (the row's key);
    # a shift from 23:00 to 01:00 that day ends in year 10000 too.
    path = tmp_path / "edges.csv"
    path.write_text(
        "kind,court,date,time,until,agency,agents\n"
        "Seen,NYC,9999-12-31,23:30,,,\n"
        "Shift,NYC,9999-12-31,23:00,01:00,,\n"
    )
    mapping = parse_mapping(MAPPING)
    importer = Importer(_NoDomain(), None, mapping, ZoneInfo("America/New_York"))  # type: ignore[arg-type]
    result = importer.run(path, tmp_path / "rejected.csv", dry_run=True)
    assert (result.rows, result.rejected, result.added) == (2, 2, 0)
    assert (tmp_path / "rejected.csv").read_text().count("year 1 or 9999") == 2


class _NoDomain:
    """Courtwatch as far as a row's id: both rows overflow before any domain check."""

    def courthouses(self) -> list[object]:
        return []

    def import_token(self) -> str:
        return "t"

    def prepare_import_events(self, payload, id_of, *args):  # type: ignore[no-untyped-def]
        submission = parse_submission(payload)
        id_of(submission, details_of(submission))
        raise AssertionError("a year-9999 row got past its id")
