"""`courtwatch serve`: the whole product in one process for the embedded default."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys

import uvicorn

from courtwatch.cli import arguments, command
from courtwatch.cli.bootstrap import background, bootstrap, shutdown
from courtwatch.infrastructure.config import ConfigError, Settings
from courtwatch.infrastructure.database import stop_embedded_server
from projections.transparency_log.store import SigningKeyUnavailable, check_signing_key

log = logging.getLogger("courtwatch.serve")

MAX_CLIENT_FRAME_BYTES = 128 * 1024
KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 16 * 1024

# Seconds uvicorn waits for open requests and websockets after SIGTERM: every
# database wait is bounded well below this, so nothing legitimate is cut.
GRACEFUL_SHUTDOWN_SECONDS = 5


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", help="address to listen on (default: COURTWATCH_HOST or 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, help="port (default: COURTWATCH_PORT or 8000)")
    parser.add_argument(
        "--no-projections",
        action="store_true",
        help="do not run projections in this process (run `courtwatch project` instead)",
    )


def server_options() -> dict[str, object]:
    """How uvicorn serves courtwatch (also used by the tests' server)."""
    return dict(
        # The app is ASGI 3, but its __call__ returns a coroutine rather than
        # being a coroutine function (web/live/serving.py): do not let uvicorn guess.
        interface="asgi3",
        ws="websockets-sansio",
        # Small JSON frames: deflate costs 3-4x memory per client and slows fan-out.
        ws_per_message_deflate=False,
        # Clients send nothing on /ws/live: a frame larger than this closes it (1009).
        ws_max_size=MAX_CLIENT_FRAME_BYTES,
        access_log=False,  # access logs carry client addresses
        proxy_headers=False,
        server_header=False,
        # An idle keep-alive connection is closed after this; a request's
        # headers may not exceed h11's buffer (431 beyond it).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_config=None,
    )


def run_server(app: object, host: str, port: int) -> None:
    uvicorn.run(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        backlog=4096,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        **server_options(),  # type: ignore[arg-type]
    )


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


@command(
    "serve",
    help="start PostgreSQL (embedded unless DATABASE_URL is set), "
    "the projections and the web server, and print the URL to open",
)
@arguments(_configure)
def serve(args: argparse.Namespace, settings: Settings) -> int:
    from web.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    # The default public origin (permalinks, citations) follows the chosen port.
    settings = dataclasses.replace(settings, host=host, port=port)
    # uvicorn handles SIGTERM gracefully, then raises it again once it has
    # stopped; with the default handler that would end the process before the
    # `finally` below, leaving the embedded PostgreSQL running. Exit instead.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        services = bootstrap(settings)
    except ConfigError as error:
        print(f"courtwatch: {error}", file=sys.stderr)
        if settings.database_url is None:
            stop_embedded_server(settings.data_dir)  # it may have started before the failure
        return 2
    run_projections = settings.run_projections and not args.no_projections
    if run_projections:  # the projections sign checkpoints in this process
        try:
            check_signing_key(services.database, settings)
        except SigningKeyUnavailable as e:
            shutdown(services)
            print(f"courtwatch: {e}", file=sys.stderr)
            return 1
    app = create_app(services, background(services, run_projections=run_projections))
    where = "embedded PostgreSQL" if settings.database_url is None else "external PostgreSQL"
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    print(f"courtwatch is running ({where}). Open http://{shown}:{port}/", flush=True)
    try:
        run_server(app, host, port)
    finally:
        shutdown(services)
    return 0
