"""Local courthouses added by coordinators, as events on one gazetteer aggregate.

Immigration courts come from EOIR's table (courtwatch/gazetteer.py); criminal,
family and county courthouses are local knowledge, so coordinators add them.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from courtwatch.domain.errors import DuplicateCourthouse, InvalidField

GAZETTEER_ID: UUID = uuid5(NAMESPACE_URL, "courtwatch:gazetteer")
LOCAL_KINDS = ("criminal", "family", "county", "civil", "federal", "other")
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,23}$")


class Gazetteer(Aggregate):
    @event("Started")
    def __init__(self, id: UUID) -> None:
        self.courthouses: dict[str, dict[str, Any]] = {}

    def add_courthouse(self, courthouse: dict[str, Any], taken_codes: set[str]) -> None:
        code = courthouse["code"]
        if not CODE_PATTERN.match(code):
            raise InvalidField("code", "use 2-24 capital letters, digits or dashes")
        if code in self.courthouses or code in taken_codes:
            raise DuplicateCourthouse(code)
        if courthouse["kind"] not in LOCAL_KINDS:
            raise InvalidField("kind", f"one of {', '.join(LOCAL_KINDS)}")
        if not -90 <= courthouse["lat"] <= 90:
            raise InvalidField("lat", "latitude must be between -90 and 90")
        if not -180 <= courthouse["lon"] <= 180:
            raise InvalidField("lon", "longitude must be between -180 and 180")
        self._courthouse_added(courthouse=courthouse)

    @event("CourthouseAdded")
    def _courthouse_added(self, courthouse: dict[str, Any]) -> None:
        self.courthouses[courthouse["code"]] = dict(courthouse)
