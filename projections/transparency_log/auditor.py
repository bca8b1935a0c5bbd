"""`courtwatch audit`: recompute the whole transparency log from the stored events.

The stored Merkle tree (``log_leaves``/``log_nodes``) is only a cache; the truth a
court relies on is (a) the rows of ``courtwatch_events`` and (b) the signed
checkpoints. The audit recomputes every leaf from (a), walks it side by side with
the stored leaves to name the first one that differs and how (edited, missing,
extra, reordered), then checks that every signed checkpoint's root is the root of
the recomputed tree at that size.

An attacker who edits an event *and* rewrites the stored leaves and nodes to
match leaves no trace in (a) versus the cache, but cannot re-sign a checkpoint:
the first checkpoint whose root no longer matches is named, and everything up to
the previous matching checkpoint is proven intact, which bounds where the edit is.

Memory stays O(log n): the recomputed tree is kept as its right edge only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from courtwatch.infrastructure.database import Database
from courtwatch.infrastructure.event_log import EVENTS_TABLE
from courtwatch.transparency.canonical import event_leaf_hash
from courtwatch.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_and_verify_checkpoint,
)
from courtwatch.transparency.heads import HeadsError, build_heads, parse_heads_extension
from courtwatch.transparency.merkle import EMPTY_ROOT, node_hash
from projections.transparency_log.keys import LogKey, check_chain, key_for_size, registered_keys
from projections.transparency_log.store import ensure_schema, root_at, tree_size

TRACKING_TABLE = "transparency_tracking"
ITERSIZE = 5000
MAX_FINDINGS = 20  # after the first few, more lines only bury the one that matters


@dataclass(frozen=True)
class Finding:
    kind: str  # edited | missing | extra | reordered | node | rewritten | checkpoint
    message: str
    leaf_index: int | None = None
    report_id: UUID | None = None
    version: int | None = None
    checkpoint_size: int | None = None


@dataclass
class AuditReport:
    leaves_checked: int = 0
    checkpoints_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    more_findings: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_leaf(self) -> Finding | None:
        """The earliest leaf named by any finding: where tampering starts."""
        named = [f for f in self.findings if f.leaf_index is not None]
        return min(named, key=lambda f: f.leaf_index or 0) if named else None

    def add(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.more_findings += 1

    def render(self) -> str:
        head = f"Checked {self.leaves_checked} leaves and {self.checkpoints_checked} checkpoints."
        if self.ok:
            return head + "\nOK: every stored event matches the log and every checkpoint verifies."
        lines = [head, f"TAMPERING DETECTED: {len(self.findings) + self.more_findings} finding(s)."]
        first = self.first_leaf
        if first is not None:
            who = f" (report {first.report_id} v{first.version})" if first.report_id else ""
            lines.append(f"First leaf that differs: leaf {first.leaf_index}{who}: {first.kind}")
        lines.extend(f"  - [{f.kind}] {f.message}" for f in self.findings)
        if self.more_findings:
            lines.append(f"  ... and {self.more_findings} more")
        return "\n".join(lines)


class _RightEdge:
    """The complete subtrees of the recomputed tree, largest first (RFC 9162 order)."""

    def __init__(self) -> None:
        self.pieces: list[tuple[int, bytes]] = []
        self.size = 0

    def append(self, value: bytes) -> None:
        level, acc = 0, value
        while self.pieces and self.pieces[-1][0] == level:
            acc = node_hash(self.pieces.pop()[1], acc)
            level += 1
        self.pieces.append((level, acc))
        self.size += 1

    def root(self) -> bytes:
        if not self.pieces:
            return EMPTY_ROOT
        acc = self.pieces[-1][1]
        for _, piece in reversed(self.pieces[:-1]):
            acc = node_hash(piece, acc)
        return acc


@dataclass(frozen=True)
class _Event:
    notification_id: int
    report_id: UUID
    version: int
    leaf_hash: bytes


@dataclass(frozen=True)
class _Stored:
    leaf_index: int
    notification_id: int
    report_id: UUID
    version: int
    leaf_hash: bytes
    node_hash: bytes | None


def audit(database: Database, vkey: str | None = None, origin: str | None = None) -> AuditReport:
    """Recompute the log from ``courtwatch_events`` and check it against the signed checkpoints.

    With ``vkey`` every checkpoint must be signed by that key. Without it, the keys
    on record are used: each one after the first must come with a rotation
    statement signed by it and its predecessor, and each checkpoint must be signed
    by the key in effect at its size.
    """
    ensure_schema(database)
    report = AuditReport()
    with database.connect() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one consistent snapshot
        conn.read_only = True
        with conn.transaction():
            position = _position(conn)
            checkpoints = conn.execute(
                "SELECT tree_size, root_hash, note, published_at FROM log_checkpoints ORDER BY tree_size"
            ).fetchall()
            keys: str | list[LogKey] = vkey if vkey is not None else registered_keys(conn)
            if isinstance(keys, list):
                try:
                    check_chain(keys)
                except CheckpointError as e:
                    report.add(Finding("checkpoint", f"the log's key history is broken: {e}"))
            pending = _check_signatures(checkpoints, keys, origin, report)
            edge = _walk(conn, position, pending, report)
            if pending and not report.findings:
                _check_heads(conn, position, pending[-1], report)
            stored_size, stored_root = _stored_root(conn)
            leaves_ok = not any(f.kind != "checkpoint" for f in report.findings)
            if leaves_ok and (stored_size != edge.size or stored_root != edge.root()):
                report.add(
                    Finding(
                        "node",
                        f"the stored Merkle nodes give a different root for {stored_size} leaves "
                        "than the stored leaves: log_nodes was altered",
                    )
                )
    return report


def _position(conn: psycopg.Connection) -> int:
    """How far the projection got: later events are not in the log yet, not missing."""
    row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM log_leaves").fetchone()
    leaves_max = int(row[0]) if row else 0
    exists = conn.execute("SELECT to_regclass(%s)", (TRACKING_TABLE,)).fetchone()
    if exists is None or exists[0] is None:
        return leaves_max
    row = conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {TRACKING_TABLE}").fetchone()
    return max(leaves_max, int(row[0]) if row else 0)


def _check_heads(
    conn: psycopg.Connection,
    position: int,
    newest: tuple[int, bytes, Any, Checkpoint],
    report: AuditReport,
) -> None:
    """The newest checkpoint's heads line must be what the events say.

    A signer that under-stated a report's version there would let a bundle drop
    that report's last events. Only the newest checkpoint is recomputed (one pass
    per audit); older bundles name their checkpoint and can be checked the same way.
    """
    size, _, _, signed = newest
    try:
        claimed = parse_heads_extension(signed.extensions)
    except HeadsError as e:
        report.add(Finding("checkpoint", f"checkpoint {size}: {e}", checkpoint_size=size))
        return
    if claimed is None:
        return  # signed before checkpoints listed report heads
    rows = conn.execute(
        f"SELECT originator_id, max(originator_version) FROM (SELECT originator_id, "
        f"originator_version FROM {EVENTS_TABLE} WHERE notification_id <= %s "
        "ORDER BY notification_id LIMIT %s) AS logged GROUP BY originator_id",
        (position, size),
    ).fetchall()
    heads = build_heads((r[0], int(r[1])) for r in rows)
    if (heads.count, heads.root()) != claimed:
        report.add(
            Finding(
                "checkpoint",
                f"checkpoint {size}: its signed list of each report's current version does not "
                "match the events: a bundle built on it could leave events out",
                checkpoint_size=size,
            )
        )


def _check_signatures(
    rows: list[Any], keys: str | list[LogKey], origin: str | None, report: AuditReport
) -> list[tuple[int, bytes, Any, Checkpoint]]:
    """Verify every checkpoint's signature; return (size, signed root, published, signed)."""
    pending = []
    for size, root, note, published in rows:
        report.checkpoints_checked += 1
        key = keys if isinstance(keys, str) else key_for_size(keys, int(size))
        if key is None:
            report.add(
                Finding(
                    "checkpoint",
                    f"checkpoint {size}: no key on record signs it",
                    checkpoint_size=size,
                )
            )
            continue
        try:
            signed = parse_and_verify_checkpoint(
                note, key if isinstance(key, str) else key.vkey, origin=origin
            )
        except CheckpointError as e:
            report.add(Finding("checkpoint", f"checkpoint {size}: {e}", checkpoint_size=size))
            continue
        if signed.size != size or signed.root != bytes(root):
            report.add(
                Finding(
                    "checkpoint",
                    f"checkpoint {size}: the stored size/root differ from what its signed note says",
                    checkpoint_size=size,
                )
            )
        pending.append((signed.size, signed.root, published, signed))
    return pending


def _events(conn: psycopg.Connection, position: int) -> Iterator[_Event]:
    with conn.cursor(name="audit_events") as curs:
        curs.itersize = ITERSIZE
        curs.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {EVENTS_TABLE} WHERE notification_id <= %s ORDER BY notification_id",
            (position,),
        )
        for nid, rid, version, topic, state in curs:
            yield _Event(
                int(nid), rid, int(version), event_leaf_hash(rid, int(version), topic, state)
            )


def _stored(conn: psycopg.Connection) -> Iterator[_Stored]:
    with conn.cursor(name="audit_leaves") as curs:
        curs.itersize = ITERSIZE
        curs.execute(
            "SELECT l.leaf_index, l.notification_id, l.originator_id, l.originator_version, "
            "l.leaf_hash, n.hash FROM log_leaves l "
            "LEFT JOIN log_nodes n ON n.level = 0 AND n.index = l.leaf_index ORDER BY l.leaf_index"
        )
        for index, nid, rid, version, leaf, node in curs:
            yield _Stored(
                int(index), int(nid), rid, int(version), bytes(leaf), bytes(node) if node else None
            )


def _walk(
    conn: psycopg.Connection,
    position: int,
    pending: list[tuple[int, bytes, Any, Checkpoint]],
    report: AuditReport,
) -> _RightEdge:
    """Merge the events (by notification id) with the stored leaves; recompute as we go."""
    edge = _RightEdge()
    lookup = _Lookup(conn)
    events, stored = _events(conn, position), _stored(conn)
    ev, st = next(events, None), next(stored, None)
    next_cp = 0
    good_before = 0  # leaves before this are covered by a matching checkpoint
    expected_index = 0
    while ev is not None or st is not None:
        if st is not None and st.leaf_index != expected_index:
            report.add(
                Finding(
                    "missing",
                    f"leaf indexes jump from {expected_index - 1} to {st.leaf_index}: "
                    f"stored leaf {expected_index} was deleted",
                    leaf_index=expected_index,
                )
            )
            expected_index = st.leaf_index
        if st is not None and st.node_hash != st.leaf_hash:
            report.add(
                Finding(
                    "node",
                    f"leaf {st.leaf_index}: log_nodes holds a different hash than log_leaves",
                    leaf_index=st.leaf_index,
                    report_id=st.report_id,
                    version=st.version,
                )
            )
        if ev is not None and (st is None or ev.notification_id < st.notification_id):
            report.add(
                Finding(
                    "extra",
                    f"events row {ev.notification_id} (report {ev.report_id} v{ev.version}) is not in "
                    f"the log: it was inserted after the fact, just before leaf {edge.size}",
                    leaf_index=edge.size,
                    report_id=ev.report_id,
                    version=ev.version,
                )
            )
            edge.append(ev.leaf_hash)
            ev = next(events, None)
        elif st is not None and (ev is None or st.notification_id < ev.notification_id):
            report.add(
                Finding(
                    "missing",
                    f"leaf {st.leaf_index} (report {st.report_id} v{st.version}, events row "
                    f"{st.notification_id}) has no stored event any more: the row was deleted",
                    leaf_index=st.leaf_index,
                    report_id=st.report_id,
                    version=st.version,
                )
            )
            st, expected_index = next(stored, None), expected_index + 1
            continue
        else:
            assert ev is not None and st is not None
            if (ev.report_id, ev.version) != (st.report_id, st.version):
                report.add(_moved(ev, st, lookup))
            elif ev.leaf_hash != st.leaf_hash:
                report.add(
                    Finding(
                        "edited",
                        f"leaf {st.leaf_index} (report {st.report_id} v{st.version}, events row "
                        f"{st.notification_id}): the stored event no longer hashes to its leaf: "
                        "its content was edited",
                        leaf_index=st.leaf_index,
                        report_id=st.report_id,
                        version=st.version,
                    )
                )
            edge.append(ev.leaf_hash)
            ev, st, expected_index = next(events, None), next(stored, None), expected_index + 1
        report.leaves_checked = edge.size
        while next_cp < len(pending) and pending[next_cp][0] == edge.size:
            good_before = _match_checkpoint(pending[next_cp], edge, good_before, lookup, report)
            next_cp += 1
    for size, _, published, _ in pending[next_cp:]:
        if size > edge.size:
            report.add(
                Finding(
                    "checkpoint",
                    f"checkpoint {size} (published {published:%Y-%m-%d %H:%M %Z}) covers {size} leaves "
                    f"but only {edge.size} events remain: events were deleted",
                    checkpoint_size=size,
                )
            )
    return edge


def _match_checkpoint(
    checkpoint: tuple[int, bytes, Any, Checkpoint],
    edge: _RightEdge,
    good_before: int,
    lookup: _Lookup,
    report: AuditReport,
) -> int:
    size, root, published, _ = checkpoint
    if edge.root() == root:
        return size
    where = f"leaves {good_before}..{size - 1}"
    finding = Finding(
        "rewritten",
        f"checkpoint {size} (published {published:%Y-%m-%d %H:%M %Z}) does not match the "
        f"events: history was rewritten after it was signed. Leaves before {good_before} are "
        f"proven intact by earlier checkpoints; the change is in {where}",
        checkpoint_size=size,
    )
    if size - good_before == 1:  # bisected down to a single leaf
        rid, version = lookup.identity(good_before)
        finding = Finding(
            "rewritten",
            f"leaf {good_before} (report {rid} v{version}) differs from what checkpoint {size} "
            f"(published {published:%Y-%m-%d %H:%M %Z}) signed: it was rewritten after signing",
            leaf_index=good_before,
            report_id=rid,
            version=version,
            checkpoint_size=size,
        )
    report.add(finding)
    return good_before


class _Lookup:
    """Point queries in the audit's snapshot, between fetches of the streaming cursors."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def leaf_of(self, report_id: UUID, version: int) -> int | None:
        row = self.conn.execute(
            "SELECT leaf_index FROM log_leaves WHERE originator_id = %s AND originator_version = %s",
            (report_id, version),
        ).fetchone()
        return int(row[0]) if row else None

    def identity(self, leaf_index: int) -> tuple[UUID | None, int | None]:
        row = self.conn.execute(
            "SELECT originator_id, originator_version FROM log_leaves WHERE leaf_index = %s",
            (leaf_index,),
        ).fetchone()
        return (row[0], int(row[1])) if row else (None, None)


def _moved(ev: _Event, st: _Stored, lookup: _Lookup) -> Finding:
    elsewhere = lookup.leaf_of(ev.report_id, ev.version)
    if elsewhere is not None:
        return Finding(
            "reordered",
            f"leaf {st.leaf_index} (report {st.report_id} v{st.version}, events row "
            f"{st.notification_id}) now holds report {ev.report_id} v{ev.version}, which the log "
            f"recorded at leaf {elsewhere}: stored events were swapped or moved",
            leaf_index=st.leaf_index,
            report_id=st.report_id,
            version=st.version,
        )
    return Finding(
        "edited",
        f"leaf {st.leaf_index} (report {st.report_id} v{st.version}, events row "
        f"{st.notification_id}): the stored row now claims to be report {ev.report_id} "
        f"v{ev.version}: its identity was edited",
        leaf_index=st.leaf_index,
        report_id=st.report_id,
        version=st.version,
    )


def _stored_root(conn: psycopg.Connection) -> tuple[int, bytes]:
    size = tree_size(conn)
    try:
        return size, root_at(conn, size)
    except (LookupError, ValueError):
        return size, b""
