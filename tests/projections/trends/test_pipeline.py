"""The S-Comm pipeline figures (lag from a police contact to ICE's action, share
preceded by a police contact) equal a direct count of the event log.

A history of arrests and call-ins goes in through the application (intake and
domain checks), a third of them amended afterwards in their police-contact
fields, some stored in the shape events had before these fields existed and
amended since. The trend projection's cells and every pipeline figure (overall,
per courthouse, per group with a grouping that changes mid-period) are then
recounted from each report's own events, folded by the aggregate.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from courtwatch.application import Courtwatch, IdempotencyConflict
from courtwatch.domain import pipeline as pipeline_fields
from courtwatch.domain.reports import CourthouseArrest, Report, hash_token
from courtwatch.infrastructure.database import Database
from courtwatch.intake import details_of, parse_submission
from projections.trends import periods, pipeline, summaries
from tests.projections.trends.test_summaries_equal_the_log import final_states, local_day

ZONE = "America/New_York"
COURTS = ("NYC", "BOS", "CHI", "SFR")
# New York's offset in November (EST), as a phone there sends times.
ZONE_OFFSET = timezone(timedelta(hours=-5))
WEEK = periods.parse("week", "2026-W47")  # 16-22 Nov 2026, before the tests' NOW


def _submit(app: Courtwatch, rng: random.Random, n: int) -> list[tuple[Any, str]]:
    made = []
    for i in range(n):
        kind = rng.choice(("courthouse_arrest", "call_in"))
        observed = datetime(2026, 11, 9, 9, tzinfo=ZONE_OFFSET) + timedelta(
            days=rng.randrange(14), hours=rng.randrange(8)
        )
        payload: dict[str, Any] = {"kind": kind, "courthouse_code": rng.choice(COURTS),
                                   "observed_at": observed.isoformat()}  # fmt: skip
        action = observed.date()
        if kind == "call_in":
            action = observed.date() - timedelta(days=rng.randrange(25))
            payload["letter_date"] = action.isoformat() if rng.random() < 0.8 else None
        contact = rng.choice(("yes", "yes", "no", "unknown"))
        payload["police_contact"] = contact
        if contact == "yes":
            if rng.random() < 0.85:
                payload["police_contact_date"] = (
                    action - timedelta(days=rng.randrange(120))
                ).isoformat()
            payload["police_agency"] = rng.choice(("city_police", "county_sheriff", "unknown"))
            payload["police_outcome"] = rng.choice(("felony", "misdemeanour", "no_charge"))
        payload["detainer_lodged"] = rng.choice(("yes", "no", "unknown"))
        if kind == "courthouse_arrest":
            payload["to_or_from_court"] = rng.choice(("yes", "no", "unknown"))
        result = app.submit(payload, f"pipeline-report-{i:06d}")
        made.append((result.report_id, result.author_token))
    return made


def _old_shaped(app: Courtwatch, i: int) -> tuple[Any, str]:
    """An arrest as stored before the pipeline fields existed (none in its event)."""
    token = f"old-token-{i}"
    report = CourthouseArrest(
        app.report_id_for(f"old-shaped-{i:06d}"),
        courthouse_code="NYC", lat=40.714, lon=-74.006,
        observed_at=datetime(2026, 11, 17, 10, tzinfo=ZONE_OFFSET),
        details={"agency": "ice_ero", "warrant": "administrative", "outcome": "detained"},
        author_token_hash=hash_token(token),
    )  # fmt: skip
    app.save(report)
    return report.id, token


def expected_cells(reports: list[Report]) -> Counter[tuple[Any, ...]]:
    """The pipeline cells, read a second way from the folded reports."""
    cells: Counter[tuple[Any, ...]] = Counter()
    for r in reports:
        kind, d = r.kind.value, r.details
        if kind not in ("courthouse_arrest", "call_in"):
            continue
        key = (local_day(r), r.courthouse_code or "", kind)
        cells[(*key, "police_contact", d["police_contact"])] += 1
        cells[(*key, "detainer_lodged", d["detainer_lodged"])] += 1
        if kind == "courthouse_arrest":
            cells[(*key, "to_or_from_court", d["to_or_from_court"])] += 1
        if d["police_contact"] == "yes":
            cells[(*key, "police_agency", d["police_agency"])] += 1
            cells[(*key, "police_outcome", d["police_outcome"])] += 1
        lag = reference_lag(r)
        if lag is not None:
            cells[(*key, "police_lag_days", str(lag))] += 1
    return cells


def reference_lag(r: Report) -> int | None:
    d = r.details
    action = r.observed_at.date() if r.kind.value == "courthouse_arrest" else d.get("letter_date")
    if d["police_contact"] != "yes" or not d["police_contact_date"] or not action:
        return None
    return (date.fromisoformat(str(action)) - date.fromisoformat(d["police_contact_date"])).days


def reference_figures(reports: list[Report]) -> dict[str, Any]:
    out = {}
    for scope in ("courthouse_arrest", "call_in", "all"):
        rs = [r for r in reports if r.kind.value in ("courthouse_arrest", "call_in")
              and scope in ("all", r.kind.value)]  # fmt: skip
        contact = Counter(r.details["police_contact"] for r in rs)
        known = contact["yes"] + contact["no"]
        lags = [lag for r in rs if (lag := reference_lag(r)) is not None]
        buckets = {"0-7": (0, 7), "8-14": (8, 14), "15-30": (15, 30), "31-90": (31, 90),
                   "91+": (91, 10**9)}  # fmt: skip
        out[scope] = {
            "police_contact": {a: contact[a] for a in ("yes", "no", "unknown")}
            | {"share_yes": round(contact["yes"] / known, 4) if known else None},
            "lag_days": {
                "n": len(lags),
                "median": statistics.median(lags) if lags else None,
                "buckets": {k: sum(lo <= x <= hi for x in lags) for k, (lo, hi) in buckets.items()},
            },
            "detainer_lodged": {
                a: sum(r.details["detainer_lodged"] == a for r in rs)
                for a in ("yes", "no", "unknown")
            },
        }
    return out


def test_pipeline_figures_equal_a_fold_of_the_event_log(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    rng = random.Random(14)
    made = _submit(app, rng, 160)
    old = [_old_shaped(app, i) for i in range(6)]
    # Amendments that change the police-contact fields, as a watcher learns more.
    for report_id, token in rng.sample(made, 60):
        report = app.public_report(report_id)
        d = report["details"]
        action = d.get("letter_date") if report["kind"] == "call_in" else report["observed_at"][:10]
        if d["police_contact"] == "yes" and rng.random() < 0.3:
            app.amend(report_id, token, {"police_contact": "unknown"})
        elif action:
            app.amend(report_id, token, {"police_contact": "yes", "police_contact_date":
                      (date.fromisoformat(action) - timedelta(days=rng.randrange(200))).isoformat()})  # fmt: skip
    for report_id, token in old[:4]:  # filled in after the fact
        app.amend(report_id, token, {"police_contact": "yes", "police_contact_date": "2026-11-03"})
    catch_up()

    reports = final_states(app)
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT day, courthouse_code, kind, dimension, value, n FROM trend_counts "
            "WHERE n <> 0 AND dimension = ANY(%s)",
            (list(pipeline.DIMENSIONS),),
        ).fetchall()
    assert {tuple(r[:5]): r[5] for r in rows} == dict(expected_cells(reports))
    # Old-shaped arrests fold with "not known", and their amendments count.
    amended_old = [r for r in reports if r.id in {i for i, _ in old[:4]}]
    assert [r.details["police_contact"] for r in amended_old] == ["yes"] * 4
    assert all(reference_lag(r) == 14 for r in amended_old)

    in_week = [r for r in reports if WEEK.first <= local_day(r) < WEEK.end]
    summary = summaries.compute(database, WEEK, zone=ZONE)
    assert summary["figures"]["pipeline"] == reference_figures(in_week)
    assert summary["figures"]["pipeline"]["all"]["lag_days"]["n"] > 30  # a history worth checking
    nyc = summaries.compute(database, WEEK, zone=ZONE, courthouse="NYC")
    assert nyc["figures"]["pipeline"] == reference_figures(
        [r for r in in_week if r.courthouse_code == "NYC"]
    )

    # The seam for jurisdictions: a grouping by courthouse and day, here a
    # "policy" that changes in the middle of the week at BOS.
    def policy(code: str, day: date) -> str | None:
        if code == "BOS":
            return "refuses" if day >= date(2026, 11, 19) else "honors"
        return {"NYC": "limits", "CHI": "honors"}.get(code)

    grouped = pipeline.grouped_figures(pipeline.read_cells(database, WEEK.first, WEEK.end), policy)
    expected_groups: dict[str, list[Report]] = {}
    for r in in_week:
        group = policy(r.courthouse_code or "", local_day(r))
        if group is not None:
            expected_groups.setdefault(group, []).append(r)
    assert grouped == {g: reference_figures(rs) for g, rs in sorted(expected_groups.items())}


def test_a_retried_submission_of_a_report_stored_before_the_new_fields_is_a_replay(
    app: Courtwatch,
) -> None:
    """The first event lacks the new fields; the retry carries them at "not known"."""
    key = "old-shaped-000099"
    payload = {"kind": "courthouse_arrest", "courthouse_code": "NYC", "agency": "ice_ero",
               "observed_at": "2026-11-17T10:00:00-05:00"}  # fmt: skip
    nyc = app.courthouse("NYC")
    assert nyc is not None
    before = {k: v for k, v in details_of(parse_submission(payload)).items()
              if k not in pipeline_fields.ADDED_FIELDS["courthouse_arrest"]}  # fmt: skip
    report = CourthouseArrest(
        app.report_id_for(key), courthouse_code="NYC", lat=nyc.lat, lon=nyc.lon,
        observed_at=datetime.fromisoformat(payload["observed_at"]),
        details=before, author_token_hash=hash_token("x"),
    )  # fmt: skip
    app.save(report)
    assert app.submit(dict(payload), key).created is False
    # A different report under that key is still refused.
    with pytest.raises(IdempotencyConflict):
        app.submit({**payload, "agency": "hsi"}, key)
