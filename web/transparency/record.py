"""record.html: a bundle's records in words, for a court (docs/audit-trail.md).

Rendered here, where the labels (web/i18n.py), the courthouse names and the time
zones are known, from the very canonical events the bundle carries, and handed
to the pure bundle writer as bytes (``transparency.bundle.build_bundle``'s
``readable``). Everything shown comes from those events and the gazetteer, never
from the clock or the request, so the same evidence in the same language gives
the same bytes, and the bundle's SHA-256 stays citable.

One language per bundle: ``?lang=es`` on the evidence link gives the Spanish
record; English otherwise. A filing is in one language, and each language's
bundle is then its own fixed file with its own hash.

Reuses the report page's reading (web/reports/readable.py: place and local time,
before → after) and its history macro (templates/_history.html), and the one
fold of a report's status (courtwatch/domain/fold.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from courtwatch.domain import fold
from courtwatch.domain.reports import KIND_OF
from courtwatch.domain.vocabulary import Kind
from courtwatch.gazetteer import Courthouse
from courtwatch.transparency.bundle import RECORD_NAME, RECORD_PDF_NAME, VERIFIER_NAME
from courtwatch.transparency.checkpoint import Checkpoint, parse_vkey
from web.i18n import translator
from web.reports import readable, when
from web.templating import templates
from web.transparency.citation import citation_line
from web.transparency.record_pdf import record_pdf
from web.transparency.verifier import verifier_html

# How a state-changing event changes the one fold's state (courtwatch/domain/fold.py).
_FOLD: dict[str, Callable[[fold.ReportState, dict[str, Any]], fold.ReportState]] = {
    "Amended": lambda s, d: fold.amended(s, dict(d.get("changes") or {})),
    "Corroborated": lambda s, d: fold.corroborated(s),
    "Verified": lambda s, d: fold.given_verdict(s, "verified"),
    "Disputed": lambda s, d: fold.given_verdict(s, "disputed"),
    "Claimed": lambda s, d: fold.claimed(s, str(d.get("member", ""))),
    "ConfirmedOnScene": lambda s, d: fold.confirmed_on_scene(s, str(d.get("member", ""))),
    "Resolved": lambda s, d: fold.resolved(s, str(d.get("member", ""))),
    "OutcomeRecorded": lambda s, d: fold.outcome_recorded(s, dict(d.get("outcome") or {})),
    "Ended": lambda s, d: fold.shift_ended(s, datetime.fromisoformat(str(d.get("ended_at")))),
}


def event_name(topic: str) -> tuple[str, str]:
    """``"courtwatch.domain.reports:Sighting.Amended"`` -> ``("Sighting", "Amended")``."""
    qualname = topic.rpartition(":")[2]
    owner, _, name = qualname.rpartition(".")
    return owner, name


def _entries(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The bundle's events as the report page's history items (readable.history_rows)."""
    return [
        {
            "version": e.get("version"),
            "event": event_name(str(e.get("topic", "")))[1],
            "timestamp": e.get("timestamp") or "",
            "data": dict(e.get("payload") or {}),
        }
        for e in events
    ]


def _state(entries: list[Mapping[str, Any]], kind: Kind) -> fold.ReportState | None:
    state: fold.ReportState | None = None
    for entry in entries:
        data = entry["data"]
        if entry["event"] == "Submitted":
            state = fold.submitted(
                kind,
                courthouse_code=data.get("courthouse_code"),
                lat=data.get("lat"),
                lon=data.get("lon"),
                observed_at=data.get("observed_at"),
                details=dict(data.get("details") or {}),
            )
        elif state is not None and entry["event"] in _FOLD:
            try:
                state = _FOLD[entry["event"]](state, data)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue  # a value the fold cannot read: the history row still shows it
    return state


def _report(
    events: list[Mapping[str, Any]],
    *,
    t: Callable[[str], str],
    value_labels: Mapping[str, str],
    courthouses: Mapping[str, Courthouse],
    default_zone: ZoneInfo,
    checkpoint: Checkpoint,
    leaves: Mapping[tuple[str, int], int],
    public_url: str,
) -> dict[str, Any]:
    report_id = str(events[0].get("id"))
    owner = event_name(str(events[0].get("topic", "")))[0]
    kind = KIND_OF.get(owner)
    entries = _entries(events)
    state = _state(entries, kind) if kind is not None else None
    code = state.get("courthouse_code") if state else None
    courthouse = courthouses.get(code) if isinstance(code, str) else None
    lat, lon = (state or {}).get("lat"), (state or {}).get("lon")
    zone = when.place_zone(
        courthouse,
        None if lat is None else str(lat),
        None if lon is None else str(lon),
        default_zone,
    )
    fmt = readable.Formatter(t, value_labels, zone, courthouses.get)
    permalink = f"{public_url}/reports/{report_id}"
    newest = max(int(e.get("version") or 0) for e in events)
    return {
        "id": report_id,
        "kind": kind.value if kind else None,
        "status": fold.status_of(state.get("verdict")).value if state else None,
        "state": state,
        "place": readable.place_text(courthouse, code),
        "observed_at": fmt.value("observed_at", (state or {}).get("observed_at")),
        "zone_text": readable.zone_text(zone, t),
        "fmt": fmt,
        "rows": readable.history_rows(entries, fmt),
        "permalink": permalink,
        "citation": citation_line(
            checkpoint.origin,
            report_id,
            newest,
            leaves.get((report_id, newest), 0),
            checkpoint.size,
            checkpoint.root.hex(),
            permalink,
        ),
    }


def render_record(
    events: Sequence[Mapping[str, Any]],
    checkpoint: Checkpoint,
    vkey: str,
    *,
    lang: str,
    value_labels: Mapping[str, str],
    courthouses: Mapping[str, Courthouse],
    default_zone: ZoneInfo,
    public_url: str,
    leaves: Mapping[tuple[str, int], int],
) -> bytes:
    """record.html for the canonical events of one or more reports (``leaves``:
    (report id, version) -> leaf index, for the citation line)."""
    t = translator(lang)
    by_report: dict[str, list[Mapping[str, Any]]] = {}
    for event in events:
        if "payload" in event:  # an undecodable record is shown by the verifier, not here
            by_report.setdefault(str(event.get("id")), []).append(event)
    reports = [
        _report(
            sorted(found, key=lambda e: int(e.get("version") or 0)),
            t=t,
            value_labels=value_labels,
            courthouses=courthouses,
            default_zone=default_zone,
            checkpoint=checkpoint,
            leaves=leaves,
            public_url=public_url,
        )
        for _, found in sorted(by_report.items())
    ]
    page = templates.env.get_template("record.html").render(
        lang=lang,
        t=t,
        reports=reports,
        value_labels=value_labels,
        origin=checkpoint.origin,
        tree_size=checkpoint.size,
        root_hex=checkpoint.root.hex(),
        vkey=vkey.strip(),
        fingerprint=parse_vkey(vkey).fingerprint(),
        public_url=public_url,
    )
    return page.encode("utf-8")


def reading_aids(
    courthouses: Sequence[Courthouse], settings: Any, lang: str
) -> Callable[[Sequence[Any], Checkpoint, str], dict[str, bytes]]:
    """What ``export_bundle`` calls to add record.html (and verify.html) to a bundle."""
    from web.reports.pages import VALUE_LABELS  # the report page's labels, one list

    by_code = {c.code: c for c in courthouses}

    def render(events: Sequence[Any], checkpoint: Checkpoint, vkey: str) -> dict[str, bytes]:
        canonical = [e.event for e in events]
        leaves = {
            (str(e.event.get("id")), int(e.event.get("version") or 0)): e.leaf_index for e in events
        }
        record = render_record(
            canonical,
            checkpoint,
            vkey,
            lang=lang,
            value_labels=VALUE_LABELS,
            courthouses=by_code,
            default_zone=settings.zone,
            public_url=settings.public_url,
            leaves=leaves,
        )
        return {
            VERIFIER_NAME: verifier_html(lang),
            RECORD_NAME: record,
            RECORD_PDF_NAME: record_pdf(record),
        }

    return render
