"""Detainer policies of jurisdictions, as events on one aggregate.

Whether a county honours ICE detainers decides how a local police contact
turns into an ICE action, so the lag and share figures are split by the policy
in force on each report's date. Policies change (a new sheriff, a state law),
and a wrong entry must stay visible with its correction: nothing is updated in
place. Coordinators record a policy with the public source it comes from and
the date it took effect; a correction is a new event that names the entry it
replaces.

One aggregate holds every county's entries, like the gazetteer: they are few
(a handful per county, recorded rarely), and one history is simple to read
whole and to keep consistent.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from courtwatch.domain.errors import InvalidField
from courtwatch.jurisdictions.counties import county_by_fips

POLICIES_ID: UUID = uuid5(NAMESPACE_URL, "courtwatch:detainer-policies")
# Secure Communities began in 2008 and the first detainer refusals followed;
# a policy older than this is a typo, and year 1 or 9999 would break date
# arithmetic downstream.
EARLIEST_EFFECTIVE = date(2000, 1, 1)
# A law can be passed with a later start date (often 1 January).
FURTHEST_AHEAD = timedelta(days=400)
LONGEST_URL = 2000
FIPS_PATTERN = re.compile(r"[0-9]{5}")
HOST_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")


class DetainerPolicy(StrEnum):
    """How a jurisdiction treats ICE detainers (closed: the figures group by it)."""

    HONORS = "honors"  # holds people on ICE detainers
    LIMITS = "limits"  # honours some (e.g. only with a judicial warrant or for some charges)
    REFUSES = "refuses"  # declines detainers
    UNKNOWN = "unknown"  # looked into, not known


def check_fips(fips: Any) -> str:
    if not isinstance(fips, str) or not FIPS_PATTERN.fullmatch(fips):
        raise InvalidField("fips", "a five-digit county FIPS code")
    if county_by_fips(fips) is None:
        raise InvalidField("fips", "no county has this FIPS code")
    return fips


def check_policy(policy: Any) -> DetainerPolicy:
    try:
        return DetainerPolicy(policy)
    except ValueError:
        raise InvalidField("policy", "one of: " + ", ".join(DetainerPolicy)) from None


def check_source_url(url: Any) -> str:
    """A public https link, as plain ASCII: it is shown to everyone as a link.

    Refused: any other scheme (javascript:, data:, http:), credentials in the
    link, non-ASCII (a look-alike host), spaces and control characters.
    """
    if not isinstance(url, str) or not url or len(url) > LONGEST_URL:
        raise InvalidField("source_url", f"an https link of at most {LONGEST_URL} characters")
    if not url.isascii() or any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        raise InvalidField("source_url", "a link without spaces or special characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidField("source_url", "not a link") from None
    if parts.scheme != "https":
        raise InvalidField("source_url", "the link must start with https://")
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None:
        raise InvalidField("source_url", "a link without a user name or password")
    if not HOST_PATTERN.fullmatch(host) or host.rsplit(".", 1)[-1].isdigit():
        raise InvalidField("source_url", "the link must name a web site")
    if port is not None and port != 443:
        raise InvalidField("source_url", "the link must use the usual https port")
    return url


def check_effective_on(value: Any, today: date) -> date:
    try:
        day = value if type(value) is date else date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidField("effective_on", "a date as YYYY-MM-DD") from None
    if day < EARLIEST_EFFECTIVE:
        raise InvalidField("effective_on", "cannot be before 2000")
    if day > today + FURTHEST_AHEAD:
        raise InvalidField("effective_on", "too far in the future")
    return day


def check_member(member: Any) -> str:
    if not isinstance(member, str) or not member.strip() or len(member) > 60:
        raise InvalidField("member", "a member's display name")
    return member


class DetainerPolicies(Aggregate):
    """Every entry ever recorded, in order; entry numbers start at 1 and never change."""

    if TYPE_CHECKING:  # made at runtime by the @event decorators below

        class PolicyRecorded(Aggregate.Event):
            fips: str
            policy: str
            source_url: str
            effective_on: str
            member: str

        class PolicyCorrected(PolicyRecorded):
            corrects: int

    @event("Started")
    def __init__(self, id: UUID) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(
        self,
        *,
        fips: str,
        policy: str,
        source_url: str,
        effective_on: str,
        member: str,
        today: date,
    ) -> int:
        self._policy_recorded(**_checked(fips, policy, source_url, effective_on, member, today))
        return len(self.entries)

    def correct(
        self,
        *,
        entry: int,
        policy: str,
        source_url: str,
        effective_on: str,
        member: str,
        today: date,
    ) -> int:
        """Replace entry ``entry`` (of the same county) by a new one; both stay in the history."""
        wrong = self.check_correctable(entry)
        checked = _checked(wrong["fips"], policy, source_url, effective_on, member, today)
        self._policy_corrected(corrects=entry, **checked)
        return len(self.entries)

    def check_correctable(self, entry: Any) -> dict[str, Any]:
        if type(entry) is not int or not 1 <= entry <= len(self.entries):
            raise InvalidField("entry", "the number of a recorded entry")
        found = self.entries[entry - 1]
        if found["superseded_by"] is not None:
            raise InvalidField("entry", f"already corrected by entry {found['superseded_by']}")
        return found

    @event("PolicyRecorded")
    def _policy_recorded(
        self, fips: str, policy: str, source_url: str, effective_on: str, member: str
    ) -> None:
        self._append(fips, policy, source_url, effective_on, member, corrects=None)

    @event("PolicyCorrected")
    def _policy_corrected(
        self,
        corrects: int,
        fips: str,
        policy: str,
        source_url: str,
        effective_on: str,
        member: str,
    ) -> None:
        self._append(fips, policy, source_url, effective_on, member, corrects=corrects)
        self.entries[corrects - 1]["superseded_by"] = len(self.entries)

    def _append(
        self,
        fips: str,
        policy: str,
        source_url: str,
        effective_on: str,
        member: str,
        corrects: int | None,
    ) -> None:
        recorded_at: datetime = self.modified_on
        self.entries.append(
            {
                "entry": len(self.entries) + 1,
                "fips": fips,
                "policy": policy,
                "source_url": source_url,
                "effective_on": effective_on,
                "member": member,
                "recorded_at": recorded_at.isoformat(),
                "corrects": corrects,
                "superseded_by": None,
            }
        )


def _checked(
    fips: Any, policy: Any, source_url: Any, effective_on: Any, member: Any, today: date
) -> dict[str, str]:
    return {
        "fips": check_fips(fips),
        "policy": check_policy(policy).value,
        "source_url": check_source_url(source_url),
        "effective_on": check_effective_on(effective_on, today).isoformat(),
        "member": check_member(member),
    }
