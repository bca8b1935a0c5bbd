"""Sub-commands of the `courtwatch` CLI, one module per concern."""

from courtwatch.commands import admin, serve  # noqa: F401
