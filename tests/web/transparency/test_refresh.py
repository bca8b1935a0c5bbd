"""`courtwatch bundle refresh`: an old bundle tied to today's witnessed log, end to end.

A bundle made at one checkpoint; the log grows and a witness cosigns a newer
checkpoint; the command fetches it from the running site (GET
/api/log/consistency?first=N, to the newest) and writes a refreshed bundle
that `courtwatch verify --witness` accepts. The original files stay byte for byte.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest
from starlette.concurrency import run_in_threadpool

from courtwatch.cli import build_parser
from courtwatch.services import Services
from courtwatch.transparency.checkpoint import generate_signing_key, split_note
from courtwatch.transparency.cosignature import cosign, generate_cosigning_key
from courtwatch.transparency.verify import verify_bundle
from projections.transparency_log import witnesses
from tests.conftest import ServerThread
from tests.projections.transparency_log.conftest import submit_reports
from tests.transparency.test_bundle import CITED, Log, row
from tests.web.transparency.test_routes import logged_up_to_now, sign


def run_cli(services: Services, *argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    return int(args.handler(args, services.settings))


def members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


async def test_an_old_bundle_is_refreshed_to_the_newest_witnessed_checkpoint(
    services: Services,
    client: httpx.AsyncClient,
    live_server: ServerThread,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    [report_id] = await run_in_threadpool(submit_reports, services, 1)
    await logged_up_to_now(services)
    first = await sign(services)
    old = (await client.get(f"/reports/{report_id}/evidence.zip")).content
    vkey = (await client.get("/.well-known/courtwatch-log-key")).text.strip()
    await run_in_threadpool(submit_reports, services, 2)
    await logged_up_to_now(services)
    second = await sign(services)
    witness = generate_cosigning_key("partner.example/witness")
    note = str(second["note"])
    line = cosign(split_note(note)[0], witness, 1_800_000_000)
    await run_in_threadpool(
        witnesses._store, services.database, second["tree_size"], witness, line, 1_800_000_000
    )
    # Before: the old bundle has no cosignature, so the witness's quorum is not met.
    assert not verify_bundle(old, vkey, witnesses=[witness.vkey]).ok

    old_path, new_path = tmp_path / "old.zip", tmp_path / "new.zip"
    old_path.write_bytes(old)
    argv = ["bundle", "refresh", str(old_path), "--out", str(new_path), "--url", live_server.url]
    assert await run_in_threadpool(run_cli, services, *argv, "--key", vkey) == 0
    printed = capsys.readouterr().out
    assert f"Refreshed:   the log's checkpoint of {second['tree_size']} records" in printed

    new = new_path.read_bytes()
    report = verify_bundle(
        new, vkey, services.settings.log_origin, witnesses=[witness.vkey], quorum=1
    )
    assert report.ok, report.render()
    assert report.refreshed is not None and report.refreshed.size == second["tree_size"]
    assert report.checkpoint is not None and report.checkpoint.size == first["tree_size"]
    assert "partner.example/witness" in report.render()
    # The cited evidence is untouched: every original file, byte for byte, in its place.
    before, after = members(old), members(new)
    assert list(after) == [*before, "refresh.json"]
    assert all(after[name] == data for name, data in before.items())
    # Refreshing again (or refreshing the refreshed bundle) gives the same bytes.
    again = tmp_path / "again.zip"
    argv = ["bundle", "refresh", str(new_path), "--out", str(again), "--url", live_server.url]
    assert await run_in_threadpool(run_cli, services, *argv) == 0
    assert again.read_bytes() == new


async def test_a_refresh_that_cannot_be_proven_writes_nothing(
    services: Services,
    client: httpx.AsyncClient,
    live_server: ServerThread,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await run_in_threadpool(submit_reports, services, 1)
    await logged_up_to_now(services)
    await sign(services)
    # A bundle of another log (other key, a size this log never published).
    foreign = Log(generate_signing_key(services.settings.log_origin), [row(i) for i in range(40)])
    bundle = tmp_path / "foreign.zip"
    bundle.write_bytes(foreign.bundle(CITED))
    out = tmp_path / "out.zip"
    argv = ["bundle", "refresh", str(bundle), "--out", str(out), "--url", live_server.url]
    assert await run_in_threadpool(run_cli, services, *argv) == 1
    assert "answered 404" in capsys.readouterr().err and not out.exists()
    # A tampered bundle is not refreshed: refreshing would launder it.
    tampered = tmp_path / "tampered.zip"
    files = members(bundle.read_bytes())
    files["events.jsonl"] = files["events.jsonl"].replace(b'"agents":3', b'"agents":4', 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    tampered.write_bytes(buffer.getvalue())
    argv = ["bundle", "refresh", str(tampered), "--out", str(out), "--url", live_server.url]
    assert await run_in_threadpool(run_cli, services, *argv) == 1
    assert "does not verify as it is" in capsys.readouterr().err and not out.exists()
    # Not an address: refused before anything is fetched.
    argv = ["bundle", "refresh", str(bundle), "--out", str(out), "--url", "file:///etc/passwd"]
    assert await run_in_threadpool(run_cli, services, *argv) == 1
    assert "must be an http(s) address" in capsys.readouterr().err


def test_refresh_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["bundle", "refresh", "--help"])
    assert exited.value.code == 0
    assert "refresh.json" in capsys.readouterr().out


def test_a_log_that_trickles_its_answer_is_given_up_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hostile --url sending a byte just inside the per-read timeout must not
    keep the command waiting for ever: the whole answer has a deadline."""
    import socket
    import threading
    import time

    from courtwatch.cli import bundle

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{")
            for _ in range(60):  # 6 s, then the answer ends (the old code waited it out)
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    monkeypatch.setattr(bundle, "TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(bundle, "WHOLE_ANSWER_SECONDS", 1.0)
    began = time.monotonic()
    try:
        with pytest.raises(bundle.RefreshFailed, match="took more than"):
            bundle._get_json(f"http://127.0.0.1:{listener.getsockname()[1]}", "/api/log/x")
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - began < 5
