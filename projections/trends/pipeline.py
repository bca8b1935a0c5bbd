"""The S-Comm pipeline figures: the lag from a local police contact to ICE's
action, and the share of arrests and call-ins a police contact preceded.

They are counted in the trend view's own cells (``trend_counts``), beside the
other dimensions, so they share its guarantees: every cell is exactly the sum
over the reports' current states (amendments included), a rebuild recounts
them, and a summary reads them in the same snapshot as its other figures.
Cells per report (arrests and call-ins only), on the report's local day:

- ``police_contact``: yes / no / unknown;
- ``police_lag_days``: the lag in whole days, when the contact date and the
  ICE action's day (an arrest's day, a call-in letter's date) are both known;
- ``detainer_lodged``: yes / no / unknown; ``to_or_from_court`` (arrests);
- ``police_agency`` and ``police_outcome``: for reports with a contact only.

Groups: :func:`figures` takes ``group_of(courthouse_code, day)``, so figures by
county or by detainer policy (which may change mid-period: the day decides)
are the same arithmetic over the same cells (:func:`grouped_figures`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from courtwatch.domain import pipeline
from courtwatch.domain.vocabulary import Kind
from courtwatch.infrastructure.database import Database

KINDS = (Kind.COURTHOUSE_ARREST.value, Kind.CALL_IN.value)
LAG = "police_lag_days"
CONTACT = pipeline.POLICE_CONTACT
# Dimensions these figures own: kept out of the summary's generic breakdown.
DIMENSIONS = (CONTACT, LAG, pipeline.DETAINER_LODGED, pipeline.TO_OR_FROM_COURT,
              pipeline.POLICE_AGENCY, pipeline.POLICE_OUTCOME)  # fmt: skip
# Detail fields the trend view keeps in a report's state for these cells.
KEPT_FIELDS = (*pipeline.ADDED_FIELDS[Kind.COURTHOUSE_ARREST.value], "letter_date")
# Lag buckets in days, inclusive: (label, first, last); the last is open.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7), ("8-14", 8, 14), ("15-30", 15, 30), ("31-90", 31, 90), ("91+", 91, None),
)  # fmt: skip
ANSWERS = ("yes", "no", "unknown")

Cell = tuple[str, str, str]  # kind, dimension, value
Row = tuple[date, str, str, str, str, int]  # day, courthouse, kind, dimension, value, n


def cells(kind: str, observed_at: datetime, details: Mapping[str, Any]) -> Counter[Cell]:
    """What one report adds under the pipeline dimensions (on its day, by its courthouse).

    A state kept before these fields existed (no ``police_contact`` in it) adds
    nothing: it was never counted here, so taking it away must take nothing.
    """
    found: Counter[Cell] = Counter()
    if kind not in KINDS or CONTACT not in details:
        return found
    contact = str(details.get(CONTACT) or "unknown")
    found[(kind, CONTACT, contact)] += 1
    found[
        (kind, pipeline.DETAINER_LODGED, str(details.get(pipeline.DETAINER_LODGED) or "unknown"))
    ] += 1
    if kind == Kind.COURTHOUSE_ARREST.value:
        found[
            (
                kind,
                pipeline.TO_OR_FROM_COURT,
                str(details.get(pipeline.TO_OR_FROM_COURT) or "unknown"),
            )
        ] += 1
    if contact == "yes":
        for name in (pipeline.POLICE_AGENCY, pipeline.POLICE_OUTCOME):
            found[(kind, name, str(details.get(name) or "unknown"))] += 1
    lag = pipeline.lag_days(kind, observed_at, details)
    if lag is not None:
        found[(kind, LAG, str(lag))] += 1
    return found


def median(lags: Mapping[int, int]) -> float | None:
    """The median of a distribution given as lag -> how many (the mean of the two middle ones)."""
    total = sum(lags.values())
    if not total:
        return None
    middle = ((total - 1) // 2, total // 2)
    found: list[int] = []
    seen = 0
    for lag in sorted(lags):
        for position in middle:
            if seen <= position < seen + lags[lag]:
                found.append(lag)
        seen += lags[lag]
    value = sum(found) / 2
    return int(value) if value.is_integer() else value


def _block(values: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    """Figures of one kind (or all): ``values`` is (dimension, value) -> n."""
    lags = Counter({int(v): n for (d, v), n in values.items() if d == LAG and n})
    contact = {a: values.get((CONTACT, a), 0) for a in ANSWERS}
    known = contact["yes"] + contact["no"]
    return {
        "police_contact": {
            **contact,
            "share_yes": round(contact["yes"] / known, 4) if known else None,
        },
        "lag_days": {
            "n": sum(lags.values()),
            "median": median(lags),
            "buckets": {
                label: sum(n for lag, n in lags.items() if lag >= lo and (hi is None or lag <= hi))
                for label, lo, hi in BUCKETS
            },
        },
        "detainer_lodged": {a: values.get((pipeline.DETAINER_LODGED, a), 0) for a in ANSWERS},
    }


def figures(rows: Iterable[Row]) -> dict[str, Any]:
    """The pipeline figures of the cells in ``rows`` (already narrowed to a period)."""
    by_kind: dict[str, Counter[tuple[str, str]]] = {k: Counter() for k in (*KINDS, "all")}
    for _day, _where, kind, dimension, value, n in rows:
        if kind in KINDS and dimension in (CONTACT, LAG, pipeline.DETAINER_LODGED):
            by_kind[kind][(dimension, value)] += n
            by_kind["all"][(dimension, value)] += n
    return {kind: _block(values) for kind, values in by_kind.items()}


def grouped_figures(
    rows: Iterable[Row], group_of: Callable[[str, date], str | None]
) -> dict[str, dict[str, Any]]:
    """Figures per group: ``group_of(courthouse_code, day)`` names a report's group
    (a county, a detainer policy in force that day), or None to leave it out."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        group = group_of(row[1], row[0])
        if group is not None:
            groups[group].append(row)
    return {group: figures(members) for group, members in sorted(groups.items())}


def read_cells(database: Database, first: date, end: date) -> list[Row]:
    """The pipeline cells of days [first, end), every courthouse."""
    with database.connect() as conn:
        exists = conn.execute("SELECT to_regclass('trend_counts')").fetchone()
        if exists is None or exists[0] is None:
            return []
        return conn.execute(
            "SELECT day, courthouse_code, kind, dimension, value, n FROM trend_counts "
            "WHERE day >= %s AND day < %s AND dimension = ANY(%s) AND n <> 0",
            (first, end, list(DIMENSIONS)),
        ).fetchall()
