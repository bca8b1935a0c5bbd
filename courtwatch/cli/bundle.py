"""``courtwatch bundle refresh``: tie an old evidence bundle to today's log.

A lawyer's bundle proves its records against the checkpoint it was made with.
Refreshing asks the log (over HTTP, the public ``/api/log/consistency``) for its
newest checkpoint, with the witnesses' cosignatures, and the proof that it
extends the bundle's; the refreshed bundle keeps every original file byte for
byte and adds refresh.json (courtwatch/transparency/refresh.py). Nothing is
written unless the refreshed bundle verifies. No database is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from courtwatch.cli import arguments, command
from courtwatch.infrastructure.config import Settings
from courtwatch.transparency.bundle import write_atomically
from courtwatch.transparency.checkpoint import CheckpointError, parse_checkpoint_text, split_note
from courtwatch.transparency.merkle import ProofError
from courtwatch.transparency.refresh import RefreshError, bundle_checkpoint, refresh_bundle
from courtwatch.transparency.verify import verify_bundle

# A proof is at most 64 hashes and a note a few KB: anything larger is not an answer.
MAX_ANSWER_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 30.0
# For the whole answer: a server trickling a byte just inside TIMEOUT_SECONDS
# per read would otherwise keep the command waiting for ever.
WHOLE_ANSWER_SECONDS = 60.0
READ_CHUNK = 64 * 1024


class RefreshFailed(Exception):
    """The bundle was not refreshed; the message says why, for the reader."""


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bundle_command", required=True, metavar="ACTION")
    refresh = sub.add_parser(
        "refresh",
        help="add a consistency proof to the log's newest (witnessed) checkpoint",
        description="Refresh an old evidence bundle: fetch the log's newest checkpoint "
        "(with its witness cosignatures) and the proof that it extends the bundle's "
        "checkpoint, and write a new bundle that keeps every original file unchanged "
        "and adds refresh.json. Check it with `courtwatch verify` or verify.html.",
    )
    refresh.add_argument("bundle", help="the old evidence bundle (.zip)")
    refresh.add_argument("--out", required=True, help="where to write the refreshed bundle")
    refresh.add_argument(
        "--url",
        required=True,
        help="the log's site, e.g. https://courtwatch.example.org (its /log page names it)",
    )
    keys = refresh.add_mutually_exclusive_group()
    keys.add_argument("--key", help="the log operator's published public key string")
    keys.add_argument("--key-file", help="a file holding the operator's published public key")


@command("bundle", help="work with evidence bundles: `courtwatch bundle refresh OLD.zip ...`")
@arguments(configure)
def bundle(args: argparse.Namespace, settings: Settings) -> int:
    expected = args.key
    if args.key_file:
        expected = Path(args.key_file).read_text(encoding="utf-8")
    try:
        data, verdict = refresh(Path(args.bundle).read_bytes(), args.url, expected)
        write_atomically(Path(args.out), data)
    except (OSError, RefreshFailed, CheckpointError) as e:
        print(f"courtwatch bundle refresh: {e}", file=sys.stderr)
        return 1
    print(verdict)
    return 0


def refresh(old: bytes, url: str, expected_vkey: str | None = None) -> tuple[bytes, str]:
    """(the refreshed bundle, the verifier's report of it), or ``RefreshFailed``."""
    before = verify_bundle(old, expected_vkey=expected_vkey)
    if not before.ok:
        raise RefreshFailed(
            "the bundle does not verify as it is, so refreshing it would prove nothing:\n"
            + before.render()
        )
    try:
        note = bundle_checkpoint(old)
        cited = parse_checkpoint_text(split_note(note)[0])
    except (RefreshError, CheckpointError) as e:
        raise RefreshFailed(str(e)) from None
    answer = _get_json(url, f"/api/log/consistency?first={cited.size}")
    try:
        served_old = parse_checkpoint_text(split_note(answer["first"]["note"])[0])
        newer_note = answer["second"]["note"]
        proof = [bytes.fromhex(h) for h in answer["consistency_proof"]]
        if not isinstance(newer_note, str):
            raise TypeError("the newer checkpoint is not text")
    except (KeyError, TypeError, ValueError) as e:
        raise RefreshFailed(f"the log's answer is not a consistency proof: {e}") from None
    if (served_old.origin, served_old.size, served_old.root) != (
        cited.origin,
        cited.size,
        cited.root,
    ):
        # Same size, another root (or another log): show it, never paper over it.
        raise RefreshFailed(
            f"the log at {url} shows a different checkpoint at {cited.size} records than "
            "the one this bundle was made with: it is another log, or its history was forked"
        )
    try:
        data = refresh_bundle(old, newer_note, proof)
    except (RefreshError, CheckpointError, ProofError) as e:
        raise RefreshFailed(
            f"the log's newer checkpoint does not extend the bundle's: {e}"
        ) from None
    after = verify_bundle(data, expected_vkey=expected_vkey)
    if not after.ok:
        raise RefreshFailed(
            "refusing to write a refreshed bundle that does not verify:\n" + after.render()
        )
    return data, after.render()


def _get_json(base: str, path: str) -> Any:
    parsed = urllib.parse.urlsplit(base)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise RefreshFailed(f"--url must be an http(s) address, got {base!r}")
    address = base.rstrip("/") + path
    try:
        deadline = time.monotonic() + WHOLE_ANSWER_SECONDS
        with urllib.request.urlopen(address, timeout=TIMEOUT_SECONDS) as answer:
            body = b""
            while len(body) <= MAX_ANSWER_BYTES:
                if time.monotonic() > deadline:
                    raise RefreshFailed(
                        f"{address} took more than {WHOLE_ANSWER_SECONDS:g} s to answer"
                    )
                chunk = answer.read1(min(READ_CHUNK, MAX_ANSWER_BYTES + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
    except urllib.error.HTTPError as e:
        detail = e.read(4096).decode("utf-8", "replace").strip()
        raise RefreshFailed(f"{address} answered {e.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as e:
        raise RefreshFailed(f"cannot reach {address}: {e}") from None
    if len(body) > MAX_ANSWER_BYTES:
        raise RefreshFailed(f"{address} answered more than {MAX_ANSWER_BYTES} bytes")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        raise RefreshFailed(f"{address} did not answer JSON: {e}") from None
