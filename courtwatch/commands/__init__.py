"""Sub-commands of the `courtwatch` CLI, one module per concern."""

from courtwatch.commands import admin, audit, project, serve, trends  # noqa: F401
