"""`courtwatch import` against the real event store (embedded PostgreSQL).

One generated file of 500 rows, 5 % of them bad (courtwatch/importing/sample.py;
the 10,000-row run is bench/import.py), imported once per module: dry run,
then the import, then the same file again.
"""

from __future__ import annotations

import csv
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from courtwatch.cli import main
from courtwatch.cli.bootstrap import bootstrap
from courtwatch.domain.reports import Report, is_imported
from courtwatch.importing import sample
from courtwatch.importing.importer import Importer, ImportResult
from courtwatch.importing.mapping import load_mapping
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database, ensure_database_exists
from courtwatch.services import Services

DOCS = Path(__file__).resolve().parents[2] / "docs"
MAPPING = DOCS / "import-example.toml"
ROWS = 500


@dataclass
class Runs:
    services: Services
    database: Database
    file: Path
    sheet: sample.Spreadsheet
    dry: ImportResult
    events_after_dry: int
    first: ImportResult
    events_after_first: int
    second: ImportResult
    events_after_second: int
    rejected: Path


def _events(database: Database, topic_suffix: str = "") -> int:
    with database.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM courtwatch_events WHERE topic LIKE %s", (f"%{topic_suffix}",)
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture(scope="module")
def runs(postgres_server: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    database = postgres_server.with_dbname(f"t_{uuid.uuid4().hex[:16]}")
    ensure_database_exists(database)
    folder = tmp_path_factory.mktemp("import")
    services = bootstrap(Settings(database_url=database.url, data_dir=folder / "data"), database)
    sheet = sample.spreadsheet(ROWS)
    file = folder / "records.csv"
    file.write_bytes(sheet.data)
    rejected = folder / "rejected.csv"
    importer = Importer(services.app, database, load_mapping(MAPPING), ZoneInfo("America/New_York"))
    dry = importer.run(file, rejected, dry_run=True)
    after_dry = _events(database)
    first = importer.run(file, rejected)
    after_first = _events(database)
    second = importer.run(file, folder / "rejected-again.csv")
    after_second = _events(database)
    try:
        yield Runs(services, database, file, sheet, dry, after_dry, first, after_first,
                   second, after_second, rejected)  # fmt: skip
    finally:
        services.close()
        with postgres_server.connect(autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database.dbname}" WITH (FORCE)')


def test_a_dry_run_stores_nothing_and_says_what_it_would_add(runs: Runs) -> None:
    assert runs.events_after_dry == 0
    assert runs.dry.dry_run
    assert (runs.dry.rows, runs.dry.added, runs.dry.rejected) == (ROWS, runs.sheet.good, 25)


def test_good_rows_are_stored_once_as_imported_reports_naming_the_file(runs: Runs) -> None:
    assert (runs.sheet.good, runs.sheet.bad) == (475, 25)
    assert (runs.first.added, runs.first.already_stored, runs.first.rejected) == (475, 0, 25)
    assert _events(runs.database, ".Submitted") == 475
    assert _events(runs.database, ":Report.Imported") == 475
    assert runs.events_after_first == 950
    file_sha = hashlib.sha256(runs.file.read_bytes()).hexdigest()
    assert runs.first.source_sha256 == file_sha
    with runs.database.connect() as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT originator_id FROM courtwatch_events WHERE topic LIKE '%.Submitted' LIMIT 5"
        )]  # fmt: skip
    for report_id in ids:
        assert is_imported(report_id)
        report = runs.services.app.public_report(report_id)
        assert [e["event"] for e in report["history"]] == ["Submitted", "Imported"]
        assert report["history"][1]["data"]["source_sha256"] == file_sha
        assert report["history"][1]["data"]["source_row"] >= 2


def test_free_text_columns_never_reach_the_log(runs: Runs) -> None:
    assert "Notes" in runs.first.ignored_columns and "Observer" in runs.first.ignored_columns
    with runs.database.connect() as conn:
        leaked = conn.execute(
            "SELECT count(*) FROM courtwatch_events WHERE position(%s in convert_from(state, 'UTF8')) > 0"
            " OR position('Watcher' in convert_from(state, 'UTF8')) > 0",
            (sample.FREE_TEXT_MARK.encode().decode(),),
        ).fetchone()
    assert leaked == (0,)
    assert sample.FREE_TEXT_MARK not in runs.rejected.read_text(encoding="utf-8")


def test_a_second_run_of_the_same_file_adds_nothing(runs: Runs) -> None:
    assert (runs.second.added, runs.second.already_stored) == (0, 475)
    assert runs.events_after_second == runs.events_after_first


def test_bad_rows_are_listed_with_reasons_and_cannot_run_as_formulas(runs: Runs) -> None:
    with runs.rejected.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, listed = rows[0], rows[1:]
    assert header[:2] == ["line", "reason"] and "Notes" not in header
    assert len(listed) == 25
    reasons = " | ".join(r[1] for r in listed)
    for expected in (
        "Date: not a date as %m/%d/%Y",  # 29 February 2017
        "Court: this value is not in the mapping's values",
        "Agents: a whole number",
        "Type: this value is not in the mapping's values",  # the formula
        "has 5 cells, the header has 14",
        "cannot be in the future",
        "cannot be before 2000",
        "a shift cannot be longer than 16 hours",
        "Warrant: longer than 200 characters",
        "not text in the file's encoding",
    ):
        assert expected in reasons, expected
    cells = [cell for row in listed for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert "'=HYPERLINK(" in reasons + " ".join(cells)
    assert not [c for c in cells if "\x00" in c]
    # Each listed line is the line of that row in the file (BOM and header: line 1).
    lines = runs.file.read_bytes().split(b"\r\n")
    for row in listed:
        if "cells, the header" not in row[1]:
            court = row[header.index("Court")].replace("\ufffd", "")
            assert court[:3].encode() in lines[int(row[0]) - 1]


def test_the_shipped_example_imports_through_the_command(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("COURTWATCH_DATA_DIR", str(tmp_path / "data"))
    rejected = tmp_path / "example.rejected.csv"
    command = ["import", str(DOCS / "import-example.csv"), "--mapping", str(MAPPING),
               "--rejected", str(rejected)]  # fmt: skip
    assert main([*command, "--dry-run"]) == 0
    assert "dry run, nothing stored: 8 rows: would add 5, 0 already stored, 3 rejected" in (
        capsys.readouterr().out
    )
    assert main(command) == 0
    assert "8 rows: added 5, 0 already stored, 3 rejected" in capsys.readouterr().out
    assert main(command) == 0
    assert "8 rows: added 0, 5 already stored, 3 rejected" in capsys.readouterr().out
    assert [r.split(",")[0] for r in rejected.read_text().splitlines()[1:]] == ["7", "8", "9"]


def test_an_imported_report_reads_like_any_other_and_keeps_its_courthouse_time(
    runs: Runs,
) -> None:
    # The example's 1:30 AM in Newark on the night clocks fell back is the first 1:30 (EDT).
    app = runs.services.app
    with runs.database.connect() as conn:
        first = conn.execute(
            "SELECT originator_id FROM courtwatch_events WHERE topic LIKE '%.Submitted' "
            "ORDER BY notification_id LIMIT 1"
        ).fetchone()
    assert first is not None
    report = app._report(first[0])
    assert isinstance(report, Report) and report.imported_from == runs.first.source_sha256
    assert report.observed_at.utcoffset() is not None


def test_a_batch_racing_another_importer_stores_what_is_new_and_replays_the_rest(
    runs: Runs,
) -> None:
    # Another importer stored one row between this batch's check and its save:
    # the batch's one transaction fails on the unique key, and each report is
    # then stored on its own (the stored one is a replay, not an error).
    app = runs.services.app
    payload = {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "observed_at": "2018-05-02T10:00:00-04:00",
    }
    other = {**payload, "observed_at": "2018-05-02T11:00:00-04:00"}
    ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"race-{n}") for n in range(3)]
    token = app.import_token()
    sha = "c" * 64
    first = app.prepare_import(payload, lambda _: ids[0], sha, 2, token)
    earlier = {**payload, "observed_at": "2018-05-01T10:00:00-04:00"}
    third = app.prepare_import(earlier, lambda _: ids[2], sha, 4, token)
    stored = app.store_imports([first, third])
    assert [r.created for r in stored] == [True, True]
    # Each stored report's position is its own last event's (Imported) in the log.
    with runs.services.database.connect() as conn:
        last = conn.execute(
            "SELECT originator_id, max(notification_id) FROM courtwatch_events"
            " WHERE originator_id = ANY(%s) GROUP BY originator_id",
            ([ids[0], ids[2]],),
        ).fetchall()
    assert {r.report_id: r.position for r in stored} == {uuid.UUID(str(i)): p for i, p in last}
    again = app.prepare_import(payload, lambda _: ids[0], sha, 2, token)
    new = app.prepare_import(other, lambda _: ids[1], sha, 3, token)
    results = app.store_imports([again, new])
    assert [(r.report_id, r.created) for r in results] == [(ids[0], False), (ids[1], True)]
    assert len(list(app.events.get(ids[0]))) == 2  # Submitted, Imported: once
