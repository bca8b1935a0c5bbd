"""The trend fixtures, for the CLI tests that summarise."""

from tests.projections.trends.conftest import app, catch_up  # noqa: F401
