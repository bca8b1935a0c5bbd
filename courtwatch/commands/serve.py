"""`courtwatch serve`: the whole product in one process for the embedded default."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from courtwatch.bootstrap import bootstrap
from courtwatch.cli import arguments, command
from courtwatch.config import Settings

log = logging.getLogger("courtwatch.serve")


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


def run_server(app: object, host: str, port: int) -> None:
    uvicorn.run(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        ws="websockets-sansio",
        # Small JSON frames: deflate costs 3-4x memory per client and slows fan-out.
        ws_per_message_deflate=False,
        access_log=False,  # access logs carry client addresses
        proxy_headers=False,
        server_header=False,
        backlog=4096,
        log_config=None,
    )


@command(
    "serve",
    help="start PostgreSQL (embedded unless DATABASE_URL is set), "
    "the projections and the web server, and print the URL to open",
)
@arguments(_configure)
def serve(args: argparse.Namespace, settings: Settings) -> int:
    from web.wiring import build_web_app

    host = args.host or settings.host
    port = args.port or settings.port
    from courtwatch.audit_log import SigningKeyUnavailable, check_signing_key

    services = bootstrap(settings)
    run_projections = settings.run_projections and not args.no_projections
    if run_projections:  # the projections sign checkpoints in this process
        try:
            check_signing_key(services.database, settings)
        except SigningKeyUnavailable as e:
            services.close()
            print(f"courtwatch: {e}", file=sys.stderr)
            return 1
    app = build_web_app(services, run_projections=run_projections)
    where = "embedded PostgreSQL" if settings.database_url is None else "external PostgreSQL"
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    print(f"courtwatch is running ({where}). Open http://{shown}:{port}/", flush=True)
    try:
        run_server(app, host, port)
    finally:
        services.close()
    return 0
