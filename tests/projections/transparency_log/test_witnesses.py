"""Two courtwatch instances witness each other's logs (C2SP tlog-witness), end to end.

Instance A and instance B each have their own database and data folder; each
organisation runs a ``courtwatch witness`` server (its own folder, its own port)
for the other's log. Shown here: cosignatures are collected, served with the
checkpoint and carried by bundles; growth is cosigned with a consistency proof;
a witness that holds another size answers 409 and the log retries from there; a
forked checkpoint (same size, another root) is refused and the refusal logged;
``courtwatch verify --witness`` fails without a quorum and passes with one; a
witness that is down is logged and does not raise.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from psycopg import sql as psycopg_sql

from courtwatch.cli import build_parser
from courtwatch.cli.bootstrap import bootstrap
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database, ensure_database_exists
from courtwatch.services import Services
from courtwatch.transparency.checkpoint import (
    load_signing_key,
    parse_vkey,
    sign_checkpoint,
)
from courtwatch.transparency.cosignature import generate_cosigning_key, verify_cosignatures
from courtwatch.transparency.verify import verify_bundle
from courtwatch.transparency.witness import Witness, WitnessState
from projections.transparency_log import store as audit_log
from projections.transparency_log.evidence import export_bundle
from projections.transparency_log.witnesses import (
    WITNESSES_FILE,
    WitnessEndpoint,
    collect_cosignatures,
    submission_body,
)
from tests.conftest import ServerThread, free_port
from tests.projections.transparency_log.conftest import project, submit_reports
from web.witness.app import create_witness_app


@dataclasses.dataclass
class Instance:
    services: Services
    settings: Settings

    @property
    def database(self) -> Database:
        return self.services.database

    def grow(self, reports: int) -> audit_log.CheckpointRecord:
        submit_reports(self.services, reports)
        project(self.database)
        published = audit_log.publish_checkpoint(self.database, self.settings)
        assert published is not None
        return published

    def vkey(self) -> str:
        return audit_log.public_key(self.database)


@pytest.fixture
def second_database(postgres_server: Database) -> Iterator[Database]:
    db = postgres_server.with_dbname(f"t_{uuid.uuid4().hex[:16]}")
    ensure_database_exists(db)
    yield db
    with postgres_server.connect(autocommit=True) as conn:
        conn.execute(
            psycopg_sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg_sql.Identifier(db.dbname)
            )
        )


def instance(tmp_path: Path, name: str, database: Database) -> Iterator[Instance]:
    settings = Settings(
        database_url=database.url, data_dir=tmp_path / name, log_origin=f"{name}.example/log"
    )
    services = bootstrap(settings, database)
    try:
        yield Instance(services, settings)
    finally:
        services.close()


@pytest.fixture
def court_a(tmp_path: Path, database: Database) -> Iterator[Instance]:
    yield from instance(tmp_path, "a", database)


@pytest.fixture
def court_b(tmp_path: Path, second_database: Database) -> Iterator[Instance]:
    yield from instance(tmp_path, "b", second_database)


def witness_for(folder: Path, name: str, log: Instance) -> Witness:
    return Witness(
        generate_cosigning_key(name),
        {log.settings.log_origin: parse_vkey(log.vkey())},
        WitnessState(folder),
    )


def configure(log: Instance, witnesses: list[tuple[Witness, str]]) -> None:
    lines = [f"{w.key.vkey} {url}" for w, url in witnesses]
    (log.settings.data_dir / WITNESSES_FILE).write_text("\n".join(lines) + "\n")


def test_two_instances_witness_each_other(
    court_a: Instance, court_b: Instance, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    court_a.grow(2)
    court_b.grow(1)
    # B's organisation witnesses A's log; A's witnesses B's. Two folders, two ports.
    by_b = witness_for(tmp_path / "witness-b", "b.example/witness", court_a)
    by_a = witness_for(tmp_path / "witness-a", "a.example/witness", court_b)
    with (
        ServerThread(create_witness_app(by_b)) as b_server,
        ServerThread(create_witness_app(by_a)) as a_server,
    ):
        configure(court_a, [(by_b, b_server.url)])
        configure(court_b, [(by_a, a_server.url)])
        assert [o.status for o in collect_cosignatures(court_a.database, court_a.settings)] == [
            "cosigned"
        ]
        assert [o.status for o in collect_cosignatures(court_b.database, court_b.settings)] == [
            "cosigned"
        ]
        # Nothing new: no second request.
        assert [o.status for o in collect_cosignatures(court_a.database, court_a.settings)] == [
            "already"
        ]

        # Growth is cosigned with a consistency proof from the size B's witness holds.
        grown = court_a.grow(2)
        collect_cosignatures(court_a.database, court_a.settings)
        served = audit_log.latest_checkpoint(court_a.database)
        assert served is not None and served.tree_size == grown.tree_size
        found, problems = verify_cosignatures(served.note, [by_b.key.verifier()])
        assert len(found) == 1 and problems == []
        assert by_b.state.latest(court_a.settings.log_origin).size == grown.tree_size  # type: ignore[union-attr]

        # A fork of A's log: same size, another root, signed with A's own key (the
        # operator lying). B's witness refuses it and logs the signed contradiction.
        key = load_signing_key(audit_log.key_path(court_a.settings))
        fork = sign_checkpoint(
            court_a.settings.log_origin, grown.tree_size, b"\x66" * 32, key, ("fork",)
        )
        caplog.set_level(logging.WARNING, logger="courtwatch.witness")
        answer = httpx.post(
            f"{b_server.url}/add-checkpoint",
            content=submission_body(grown.tree_size, [], fork),
        )
        assert answer.status_code == 422
        stale = httpx.post(f"{b_server.url}/add-checkpoint", content=submission_body(0, [], fork))
        assert stale.status_code == 409
        assert stale.headers["content-type"] == "text/x.tlog.size"
        assert stale.text == f"{grown.tree_size}\n"
        refusals = [r for r in caplog.records if r.getMessage() == "witness refused checkpoint"]
        assert [r.status for r in refusals] == [422, 409]  # type: ignore[attr-defined]
        assert refusals[0].signed_note == fork  # type: ignore[attr-defined]
        assert refusals[0].root == (b"\x66" * 32).hex()  # type: ignore[attr-defined]
        assert by_b.state.latest(court_a.settings.log_origin).root == grown.root_hash  # type: ignore[union-attr]

        # A third witness that already holds a size A never submitted to it answers
        # 409 with that size; A retries from it and gets the cosignature.
        third = witness_for(tmp_path / "witness-c", "c.example/witness", court_a)
        first = audit_log.checkpoints(court_a.database)[0]
        third.add_checkpoint(submission_body(0, [], first.note))
        with ServerThread(create_witness_app(third)) as c_server:
            down = f"http://127.0.0.1:{free_port()}"
            configure(court_a, [(by_b, b_server.url), (third, c_server.url), (by_a, down)])
            outcomes = collect_cosignatures(court_a.database, court_a.settings, timeout=5)
        assert [o.status for o in outcomes] == ["already", "cosigned", "unreachable"]

    # The bundle carries both cosignatures; verify needs the quorum it is given.
    leaf = audit_log.leaf_at(court_a.database, 0)
    bundle = tmp_path / "bundle.zip"
    export_bundle(court_a.database, court_a.settings, bundle, report_id=leaf.report_id, sign=False)
    vkey, origin = court_a.vkey(), court_a.settings.log_origin
    known = [by_b.key.vkey, third.key.vkey]
    assert verify_bundle(bundle, vkey, origin, witnesses=known).ok
    # A's own witness never cosigned A's log: with it required, the quorum fails.
    unmet = verify_bundle(bundle, vkey, origin, witnesses=[*known, by_a.key.vkey])
    assert (
        not unmet.ok
        and "cosigned by 2 of the 3 witnesses given, 3 required" in (unmet.problems[-1])
    )
    assert verify_bundle(bundle, vkey, origin, witnesses=[*known, by_a.key.vkey], quorum=2).ok
    # The same through the `courtwatch` command a lawyer runs.
    argv = ["verify", str(bundle), "--key", vkey, "--origin", origin]
    argv += ["--witness", by_b.key.vkey, "--witness", by_a.key.vkey]
    assert run(argv, court_a.settings) == 1
    assert run([*argv, "--quorum", "1"], court_a.settings) == 0
    assert run([*argv, "--quorum", "3"], court_a.settings) == 2


def run(argv: list[str], settings: Settings) -> int:
    """``courtwatch <argv>`` as the entry point parses it (without reconfiguring logging)."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args, settings))


def test_hostile_witness_answers_store_nothing_and_raise_nothing(
    court_a: Instance, tmp_path: Path
) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    checkpoint = court_a.grow(1)
    honest = witness_for(tmp_path / "honest", "h.example/witness", court_a)
    # A real cosignature, but of another checkpoint: must not be attached to ours.
    other = sign_checkpoint(
        court_a.settings.log_origin,
        checkpoint.tree_size,
        b"\x01" * 32,
        load_signing_key(audit_log.key_path(court_a.settings)),
    )
    stolen = honest.add_checkpoint(submission_body(0, [], other))
    answers = {
        "garbage": (200, b"\xff\x00 not a signature line\n"),
        "stolen": (200, stolen.encode()),
        "no-size": (409, b"-1\n"),
        "larger": (409, b"99999999\n"),
        "broken": (500, b"x" * 200_000),
    }

    async def answer(request: Request) -> Response:
        status, content = answers[request.path_params["mode"]]
        return Response(content, status)

    app = Starlette(routes=[Route("/{mode}/add-checkpoint", answer, methods=["POST"])])
    with ServerThread(app) as server:
        endpoints = [
            WitnessEndpoint(honest.key.verifier(), f"{server.url}/{mode}") for mode in answers
        ]
        outcomes = collect_cosignatures(court_a.database, court_a.settings, endpoints, timeout=5)
    assert [o.status for o in outcomes] == [
        "no valid cosignature",
        "no valid cosignature",
        "HTTP 409",
        "witness holds size 99999999",
        "HTTP 500",
    ]
    served = audit_log.latest_checkpoint(court_a.database)
    assert served is not None and served.note == checkpoint.note  # nothing appended
