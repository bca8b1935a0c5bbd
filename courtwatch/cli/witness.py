"""`courtwatch witness`: cosign a partner program's checkpoints (C2SP tlog-witness).

A partner court-watch program runs this for our log and we run it for theirs; each
refuses a checkpoint that contradicts one it already cosigned, so neither operator
can show two courts two histories. It needs no database: its state (the latest
cosigned checkpoint per log) is one JSON file in its own folder, replaced
atomically. A witness watches few logs and changes one small record per
checkpoint; a file keeps it a single process a partner can run anywhere, and
backing up the folder (key + state) is all it needs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from courtwatch.cli import arguments, command
from courtwatch.infrastructure.config import Settings

if TYPE_CHECKING:
    from courtwatch.transparency.checkpoint import VerifierKey

KEY_FILE = "witness.key"
LOGS_FILE = "logs.txt"


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="the witness's own folder: key, state, logs.txt (default: <COURTWATCH_DATA_DIR>/witness)",
    )
    parser.add_argument(
        "--name",
        help="the witness's name, e.g. partner.example/witness; needed once, to make its key",
    )
    parser.add_argument(
        "--log",
        action="append",
        default=[],
        metavar="'[ORIGIN] VKEY'",
        help="a log to witness: its public key as its /log page shows it, optionally "
        "preceded by its origin (default: the key's name); repeatable. Also read, one "
        f"per line, from {LOGS_FILE} in the data folder",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8400, help="port (default 8400)")
    parser.add_argument(
        "--print-key",
        action="store_true",
        help="print the witness's public key (to give to the logs it witnesses) and exit",
    )


def _logs(lines: list[str]) -> dict[str, VerifierKey]:
    from courtwatch.transparency.checkpoint import parse_vkey

    logs: dict[str, VerifierKey] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) > 2:
            raise ValueError(f"a log line is '[origin] vkey', got {line!r}")
        vkey = parse_vkey(fields[-1])
        logs[fields[0] if len(fields) == 2 else vkey.name] = vkey
    return logs


@command("witness", help="run a witness that cosigns partner logs' checkpoints (C2SP tlog-witness)")
@arguments(_configure)
def witness(args: argparse.Namespace, settings: Settings) -> int:
    from courtwatch.cli.serve import run_server
    from courtwatch.transparency.checkpoint import CheckpointError
    from courtwatch.transparency.cosignature import (
        generate_cosigning_key,
        load_cosigning_key,
        save_cosigning_key,
    )
    from courtwatch.transparency.witness import Witness, WitnessState
    from web.witness.app import create_witness_app

    folder: Path = args.data_dir or settings.data_dir / "witness"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path = folder / KEY_FILE
    try:
        if not key_path.exists():
            if not args.name:
                print(
                    f"courtwatch witness: no key in {key_path}; give --name once to make one",
                    file=sys.stderr,
                )
                return 2
            save_cosigning_key(generate_cosigning_key(args.name), key_path)
            print(f"made the witness key {key_path}: back it up", file=sys.stderr)
        key = load_cosigning_key(key_path)
        if args.name and args.name != key.name:
            print(f"courtwatch witness: the key in {key_path} is named {key.name}", file=sys.stderr)
            return 2
        if args.print_key:
            print(key.vkey)
            return 0
        lines = list(args.log)
        if (folder / LOGS_FILE).exists():
            lines += (folder / LOGS_FILE).read_text(encoding="utf-8").splitlines()
        logs = _logs(lines)
    except (OSError, ValueError, CheckpointError) as e:
        print(f"courtwatch witness: {e}", file=sys.stderr)
        return 2
    if not logs:
        print(
            "courtwatch witness: no log to witness; give --log or write logs.txt", file=sys.stderr
        )
        return 2
    app = create_witness_app(Witness(key, logs, WitnessState(folder)))
    print(
        f"witness {key.vkey} for {', '.join(sorted(logs))} on {args.host}:{args.port}", flush=True
    )
    run_server(app, args.host, args.port)
    return 0
