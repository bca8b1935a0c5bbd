"""The `courtwatch` command. Every sub-command has --help."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from courtwatch.infrastructure import logs
from courtwatch.infrastructure.config import ConfigError, Settings

log = logging.getLogger("courtwatch")

Handler = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Handler]] = {}


def command(name: str, help: str) -> Callable[[Handler], Handler]:
    """Register a sub-command; ``configure`` adds its arguments."""

    def register(handler: Handler) -> Handler:
        configure = getattr(handler, "configure", lambda parser: None)
        COMMANDS[name] = (configure, handler)
        handler.help = help  # type: ignore[attr-defined]
        return handler

    return register


def arguments(configure: Callable[[argparse.ArgumentParser], None]) -> Callable[[Handler], Handler]:
    def attach(handler: Handler) -> Handler:
        handler.configure = configure  # type: ignore[attr-defined]
        return handler

    return attach


def build_parser() -> argparse.ArgumentParser:
    # Importing the command modules registers their sub-commands.
    from courtwatch.cli import (  # noqa: F401
        admin,
        audit,
        importing,
        jurisdictions,
        members,
        parked,
        project,
        sealed,
        serve,
        trends,
        witness,
    )

    parser = argparse.ArgumentParser(
        prog="courtwatch",
        description="Document immigration enforcement at courthouses. "
        "Configuration comes from environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (configure, handler) in COMMANDS.items():
        help_text = getattr(handler, "help", "")
        child = sub.add_parser(name, help=help_text, description=help_text)
        configure(child)
        child.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"courtwatch: {error}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    handler: Handler = args.handler
    return handler(args, settings)
