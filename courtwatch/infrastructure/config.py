"""Settings, read once from the environment.

Everything is optional: with no configuration courtwatch starts its own
PostgreSQL under ``COURTWATCH_DATA_DIR`` and serves on 127.0.0.1:8000.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_PLAIN_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")


class ConfigError(ValueError):
    """A setting has a value courtwatch cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    tile_url: str | None = None
    tile_attribution: str = ""
    timezone: str = "America/New_York"
    sighting_stale_hours: float = 6.0
    max_body_bytes: int = 64 * 1024
    # Open /ws/live connections one web process accepts; more are refused (1013).
    max_viewers: int = 10_000
    # A member's session ends after this long without a request (sign in again).
    session_idle_hours: float = 12.0
    # ... and this long after sign-in, however busy.
    session_max_days: float = 7.0
    log_level: str = "INFO"
    run_projections: bool = True
    checkpoint_interval_seconds: float = 60.0
    summary_interval_seconds: float = 3600.0
    log_origin: str = "courtwatch.local/log"
    # Where the public reaches this server (scheme://host[:port]): permalinks and
    # citations are built from it, never from a request's Host header. Empty means
    # http://localhost:<port>, right for one machine only.
    public_url_setting: str = ""
    # How long a request may wait for PostgreSQL (a pooled connection, a new
    # connection) before it answers 503: an outage must fail fast, not hang.
    database_timeout_seconds: float = 3.0
    # Where the key that unseals sealed details lives: "" = <data>/sealing/unsealing.key,
    # a path, or "offline" (not on this server; see docs/sealed-data.md).
    unsealing_key_setting: str = ""
    # Alerts (docs/alerts.md): the first retry of a failed delivery waits this
    # long, each next one twice as long; after this many attempts it is failed.
    alert_retry_seconds: float = 2.0
    alert_attempts: int = 8
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def public_url(self) -> str:
        return self.public_url_setting or f"http://localhost:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def number(name: str, default: float) -> float:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            # ASCII only: float() also reads full-width and Arabic-Indic digits, "nan" and "inf".
            if not _PLAIN_NUMBER.fullmatch(raw):
                raise ConfigError(f"{name} must be a number, got {raw!r}")
            return float(raw)

        settings = cls(
            database_url=_database_url(env),
            data_dir=Path(env.get("COURTWATCH_DATA_DIR") or "var"),
            host=env.get("COURTWATCH_HOST") or "127.0.0.1",
            port=int(number("COURTWATCH_PORT", 8000)),
            tile_url=env.get("COURTWATCH_TILE_URL") or None,
            tile_attribution=env.get("COURTWATCH_TILE_ATTRIBUTION") or "",
            timezone=env.get("COURTWATCH_TIMEZONE") or "America/New_York",
            sighting_stale_hours=number("COURTWATCH_SIGHTING_STALE_HOURS", 6.0),
            max_body_bytes=int(number("COURTWATCH_MAX_BODY_BYTES", 64 * 1024)),
            max_viewers=int(number("COURTWATCH_MAX_VIEWERS", 10_000)),
            session_idle_hours=number("COURTWATCH_SESSION_IDLE_HOURS", 12.0),
            session_max_days=number("COURTWATCH_SESSION_MAX_DAYS", 7.0),
            log_level=(env.get("COURTWATCH_LOG_LEVEL") or "INFO").upper(),
            run_projections=(env.get("COURTWATCH_RUN_PROJECTIONS") or "yes").lower()
            not in ("0", "no", "false"),
            checkpoint_interval_seconds=number("COURTWATCH_CHECKPOINT_INTERVAL", 60.0),
            summary_interval_seconds=number("COURTWATCH_SUMMARY_INTERVAL", 3600.0),
            log_origin=env.get("COURTWATCH_LOG_ORIGIN") or "courtwatch.local/log",
            public_url_setting=_public_url(env.get("COURTWATCH_PUBLIC_URL") or ""),
            database_timeout_seconds=number("COURTWATCH_DATABASE_TIMEOUT", 3.0),
            unsealing_key_setting=env.get("COURTWATCH_UNSEALING_KEY") or "",
            alert_retry_seconds=number("COURTWATCH_ALERT_RETRY_SECONDS", 2.0),
            alert_attempts=int(number("COURTWATCH_ALERT_ATTEMPTS", 8)),
        )
        if not 0 < settings.alert_retry_seconds <= 3600 or not 1 <= settings.alert_attempts <= 50:
            raise ConfigError(
                "COURTWATCH_ALERT_RETRY_SECONDS must be 0-3600 s and COURTWATCH_ALERT_ATTEMPTS 1-50"
            )
        if not 0 < settings.session_idle_hours <= 24 * 30:
            raise ConfigError("COURTWATCH_SESSION_IDLE_HOURS must be between 0 and 720 hours")
        if not 0 < settings.session_max_days <= 90:
            raise ConfigError("COURTWATCH_SESSION_MAX_DAYS must be between 0 and 90 days")
        if not 0 < settings.database_timeout_seconds <= 60:
            raise ConfigError("COURTWATCH_DATABASE_TIMEOUT must be between 0 and 60 seconds")
        try:
            settings.zone  # noqa: B018 - fail at startup, not at the first summary
        except ZoneInfoNotFoundError:
            raise ConfigError(
                f"COURTWATCH_TIMEZONE: unknown time zone {settings.timezone!r}"
            ) from None
        return settings


def _database_url(env: Mapping[str, str]) -> str | None:
    """DATABASE_URL, with the password read from DATABASE_PASSWORD_FILE when that is set.

    A password in a file (a Docker or systemd secret) stays out of the
    environment, the compose file and `ps`.
    """
    url = env.get("DATABASE_URL") or None
    secret_file = env.get("DATABASE_PASSWORD_FILE")
    if url is None or not secret_file:
        return url
    try:
        password = Path(secret_file).read_text().strip()
    except OSError as error:
        raise ConfigError(
            f"DATABASE_PASSWORD_FILE: cannot read {secret_file}: {error.strerror}"
        ) from None
    parts = urlsplit(url)
    if parts.password:
        raise ConfigError(
            "give the database password in DATABASE_URL or in DATABASE_PASSWORD_FILE, not both"
        )
    user = parts.username or "postgres"
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(unquote(user), safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


_ORIGIN = re.compile(r"https?://([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:]{2,39}\])(:([0-9]{1,5}))?")


def _public_url(raw: str) -> str:
    """An origin only: it is pasted into court filings, so no path, query or spaces."""
    if not raw:
        return ""
    origin = raw.rstrip("/")
    found = _ORIGIN.fullmatch(origin)
    if found is None or (found.group(3) is not None and not 0 < int(found.group(3)) < 65536):
        raise ConfigError(
            "COURTWATCH_PUBLIC_URL must be an origin like https://courtwatch.example.org, "
            f"got {raw!r}"
        )
    return origin
