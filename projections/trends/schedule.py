"""Publish (or revise) the recent day, week and month summaries on a schedule."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.infrastructure.scheduler import Periodic
from projections.trends import publishing
from projections.trends.summaries import trend_zone

log = logging.getLogger(__name__)


class SummaryScheduler(Periodic):
    """Every ``summary_interval_seconds``: publish what is due, revise what changed."""

    def __init__(self, database: Database, settings: Settings) -> None:
        def publish() -> None:
            zone = trend_zone(database, settings.timezone)
            outcomes = publishing.publish_due(database, zone=zone, now=datetime.now(UTC))
            changed = [o for o in outcomes if o.changed]
            if changed:
                log.info("summaries published", extra={"count": len(changed)})

        super().__init__("summaries", settings.summary_interval_seconds, publish)
