"""COURTWATCH_DATABASE_TIMEOUT bounds every wait for PostgreSQL: a bad value must not start."""

from __future__ import annotations

import pytest

from courtwatch.infrastructure.config import ConfigError, Settings


@pytest.mark.parametrize("raw", ["nan", "inf", "1e400", "-1", "0", "61", "3s"])
def test_a_database_timeout_that_would_hang_or_never_wait_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="COURTWATCH_DATABASE_TIMEOUT"):
        Settings.from_env({"COURTWATCH_DATABASE_TIMEOUT": raw})


def test_the_database_timeout_defaults_to_a_few_seconds() -> None:
    assert Settings.from_env({}).database_timeout_seconds == 3.0
    assert Settings.from_env({"COURTWATCH_DATABASE_TIMEOUT": "0.5"}).database_timeout_seconds == 0.5
