"""Settings from the environment: the database password may come from a secret file."""

from __future__ import annotations

from pathlib import Path

import pytest

from courtwatch.infrastructure.config import ConfigError, Settings
from courtwatch.infrastructure.database import Database


def test_the_database_password_is_read_from_a_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("p@ss:w/rd %\n")
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://courtwatch@postgres:5432/courtwatch",
            "DATABASE_PASSWORD_FILE": str(secret),
        }
    )
    assert settings.database_url is not None
    database = Database.from_url(settings.database_url)
    assert (database.user, database.password, database.host) == (
        "courtwatch",
        "p@ss:w/rd %",
        "postgres",
    )


def test_a_missing_secret_file_or_two_passwords_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.from_env(
            {"DATABASE_URL": "postgresql://u@h/db", "DATABASE_PASSWORD_FILE": str(tmp_path / "no")}
        )
    secret = tmp_path / "pw"
    secret.write_text("x")
    with pytest.raises(ConfigError, match="not both"):
        Settings.from_env(
            {"DATABASE_URL": "postgresql://u:p@h/db", "DATABASE_PASSWORD_FILE": str(secret)}
        )


@pytest.mark.parametrize(
    "raw", ["\uff11", "\u0661\u0660", "nan", "inf", "-1", "1e3", " 5", "5\n", "9" * 4301]
)
def test_numeric_settings_take_ascii_digits_only(raw: str) -> None:
    with pytest.raises(ConfigError, match="COURTWATCH_MAX_VIEWERS"):
        Settings.from_env({"COURTWATCH_MAX_VIEWERS": raw})


def test_numeric_settings_take_plain_numbers() -> None:
    settings = Settings.from_env(
        {"COURTWATCH_MAX_VIEWERS": "250", "COURTWATCH_CHECKPOINT_INTERVAL": "0.5"}
    )
    assert settings.max_viewers == 250 and settings.checkpoint_interval_seconds == 0.5
