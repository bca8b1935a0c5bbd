"""Published summaries: kept for good, revised by appending, never edited.

A coordinator cites "the week 2026-W47 summary, revision 1". That row must
never change, so the table refuses UPDATE, DELETE and TRUNCATE with a trigger.
When a late report changes the figures of a period already published, the
next run appends revision 2, whose ``supersedes`` names revision 1; a run that
finds the same figures publishes nothing ("unchanged").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb

from courtwatch.infrastructure.database import Database
from projections.trends import periods, summaries
from projections.trends.periods import Period

DDL = [
    """CREATE TABLE IF NOT EXISTS published_summaries (
        id bigserial PRIMARY KEY,
        period text NOT NULL,
        key text NOT NULL,
        courthouse text NOT NULL DEFAULT '',
        revision integer NOT NULL,
        position bigint NOT NULL,
        computed_at timestamptz NOT NULL,
        body jsonb NOT NULL,
        supersedes bigint REFERENCES published_summaries (id),
        UNIQUE (period, key, courthouse, revision)
    )""",
    """CREATE OR REPLACE FUNCTION published_summaries_are_kept() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'published summaries are kept as published: % refused', TG_OP
           USING HINT = 'publish a revision that supersedes it instead';
       END $$""",
    """CREATE OR REPLACE TRIGGER published_summaries_no_change
       BEFORE UPDATE OR DELETE ON published_summaries
       FOR EACH ROW EXECUTE FUNCTION published_summaries_are_kept()""",
    """CREATE OR REPLACE TRIGGER published_summaries_no_truncate
       BEFORE TRUNCATE ON published_summaries
       FOR EACH STATEMENT EXECUTE FUNCTION published_summaries_are_kept()""",
]


@dataclass(frozen=True)
class Published:
    id: int
    period: str
    key: str
    courthouse: str | None
    revision: int
    supersedes: int | None
    body: dict[str, Any]

    def as_document(self) -> dict[str, Any]:
        """The summary as downloaded: its body plus where it sits among revisions."""
        return {
            **self.body,
            "id": self.id,
            "revision": self.revision,
            "supersedes": self.supersedes,
        }


@dataclass(frozen=True)
class Outcome:
    summary: Published
    changed: bool  # False: the figures equal the latest revision, nothing was added


def install(database: Database) -> None:
    with database.connect(autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('published_summaries ddl'))")
        try:
            for statement in DDL:
                conn.execute(statement)  # type: ignore[arg-type]
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('published_summaries ddl'))")


_COLUMNS = "id, period, key, courthouse, revision, supersedes, body"


def _published(row: Any) -> Published:
    id_, period, key, courthouse, revision, supersedes, body = row
    return Published(id_, period, key, courthouse or None, revision, supersedes, body)


def _same_figures(new: dict[str, Any], published: dict[str, Any]) -> bool:
    """Whether a new body says what the published one said.

    Across schema versions only the figures both versions have are compared:
    adding a figure must not republish every recent summary as a revision.
    """
    a, b = new["figures"], published["figures"]
    if new.get("schema", 1) != published.get("schema", 1):
        shared = a.keys() & b.keys()
        a, b = {k: a[k] for k in shared}, {k: b[k] for k in shared}
    # Through JSON both ways, so a float read back from jsonb compares equal.
    return summaries.canonical_json(json.loads(json.dumps(a))) == summaries.canonical_json(b)


def publish(
    database: Database,
    period: Period,
    *,
    zone: str,
    courthouse: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    body = summaries.compute(database, period, zone=zone, courthouse=courthouse, now=now)
    scope = (period.kind, period.key, courthouse or "")
    with database.connect() as conn, conn.transaction():
        # Two publishers of the same summary take turns, so revisions stay a chain.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("|".join(scope),))
        latest = latest_revision(conn, *scope)
        if latest is not None and _same_figures(body, latest.body):
            return Outcome(latest, changed=False)
        row = conn.execute(
            "INSERT INTO published_summaries "
            "(period, key, courthouse, revision, position, computed_at, body, supersedes) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            f"RETURNING {_COLUMNS}",
            (
                *scope,
                1 if latest is None else latest.revision + 1,
                body["covers"]["position"],
                body["computed_at"],
                Jsonb(body),
                None if latest is None else latest.id,
            ),
        ).fetchone()
    return Outcome(_published(row), changed=True)


def latest_revision(conn: Any, period: str, key: str, courthouse: str) -> Published | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM published_summaries "
        "WHERE period = %s AND key = %s AND courthouse = %s ORDER BY revision DESC LIMIT 1",
        (period, key, courthouse),
    ).fetchone()
    return None if row is None else _published(row)


def revisions(database: Database, period: str, key: str, courthouse: str | None) -> list[Published]:
    """Every revision of one summary, the newest first."""
    with database.connect() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM published_summaries "
            "WHERE period = %s AND key = %s AND courthouse = %s ORDER BY revision DESC",
            (period, key, courthouse or ""),
        ).fetchall()
    return [_published(row) for row in rows]


def get(database: Database, summary_id: int) -> Published | None:
    with database.connect() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM published_summaries WHERE id = %s",
            (summary_id,),
        ).fetchone()
    return None if row is None else _published(row)


def index(database: Database, limit: int = 200) -> list[Published]:
    """The latest revision of each published summary, the most recent periods first."""
    with database.connect() as conn:
        rows = conn.execute(
            f"SELECT DISTINCT ON (period, key, courthouse) {_COLUMNS} "
            "FROM published_summaries ORDER BY period, key DESC, courthouse, revision DESC "
            "LIMIT %s",
            (limit,),
        ).fetchall()
    return [_published(row) for row in rows]


# Late reports keep arriving for a while: periods this far back are re-checked
# on every scheduled run, and revised if their figures changed.
RECHECK = {"day": 14, "week": 6, "month": 2}


def publish_due(database: Database, *, zone: str, now: datetime) -> list[Outcome]:
    """What the scheduler publishes: recent complete periods, overall and per courthouse."""
    outcomes = []
    for kind, count in RECHECK.items():
        period = periods.last_complete(kind, now, ZoneInfo(zone))
        for _ in range(count):
            for courthouse in [None, *summaries.active_courthouses(database, period)]:
                outcomes.append(
                    publish(database, period, zone=zone, courthouse=courthouse, now=now)
                )
            period = period.previous()
    return outcomes
