"""Assemble the web app with the features that need startup work."""

from __future__ import annotations

from starlette.applications import Starlette

from courtwatch.bootstrap import Services
from web import audit, live, summaries
from web.app import create_app


def build_web_app(services: Services, *, run_projections: bool) -> Starlette:
    app = create_app(
        services,
        extra_routes=[*live.routes, *audit.routes, *summaries.routes],
        lifespan_hooks=[
            live.lifespan_hook(services, run_projections=run_projections),
            audit.lifespan_hook(services, run_projections=run_projections),
        ],
    )
    app.state.map_pages = live.map_pages(services)
    return app
