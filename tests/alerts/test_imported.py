"""Imported historical records never page anyone (courtwatch/importing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from courtwatch.alerts.sender import AlertSender
from courtwatch.domain.reports import is_imported
from courtwatch.importing.importer import Importer
from courtwatch.importing.mapping import parse_mapping
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from tests.alerts.conftest import hooked_member, submit, until
from tests.alerts.receiver import Receiver

MAPPING = """
[kind]
value = "courthouse_arrest"
[fields.courthouse_code]
column = "court"
[fields.observed_at]
column = "when"
"""


def test_an_imported_arrest_alerts_no_one_while_a_new_report_does(
    services: Services, receiver: Receiver, database: Database, delivering: AlertSender,
    tmp_path: Path,
) -> None:  # fmt: skip
    # Recent enough that only its being imported keeps it quiet: the event is
    # new (not STALE_AFTER old) and the arrest was two hours ago at NYC.
    hooked_member(services, receiver)
    when = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    csv_file = tmp_path / "old.csv"
    csv_file.write_text(f"court,when\nNYC,{when}\n")
    importer = Importer(services.app, database, parse_mapping(MAPPING), ZoneInfo("UTC"))
    assert importer.run(csv_file, tmp_path / "rejected.csv").added == 1
    new = submit(services)
    until(lambda: receiver.accepted)
    head = services.app.recorder.max_notification_id() or 0
    until(lambda: runner.position_of(database, runner.ALERTS_SPEC) >= head)
    # Deliveries are written in the projection's transaction: settled by now.
    with database.connect() as conn:
        (imported,) = conn.execute(
            "SELECT originator_id FROM courtwatch_events WHERE topic LIKE '%:Report.Imported'"
        ).fetchone() or (None,)
    assert imported is not None and is_imported(imported)
    assert services.alerts.report_alerts(imported).deliveries == 0
    assert services.alerts.report_alerts(new).deliveries == 1
    assert [r.body["link"].rsplit("/", 1)[1] for r in receiver.accepted] == [str(new)]
