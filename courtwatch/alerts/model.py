"""What a member asks to be alerted about, and where alerts go: plain values and their guards.

A :class:`SubscriptionSpec` is what a member sends (several courthouses, an
optional circle, kinds, the minimum status, quiet hours in their own zone, the
channel); each ``check_*`` refuses a value the matcher could not use, so that
nothing a member typed can later fail inside the delivery projection (which
would park every report's alert behind it).
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo, available_timezones

from courtwatch.domain.vocabulary import Kind


class AlertError(Exception):
    """Base of the alerts' errors (each mapped to HTTP in web/errors.py)."""


class InvalidAlertField(AlertError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class SubscriptionNotFound(AlertError):
    """No subscription (or webhook) of this member by that id."""


class TooManySubscriptions(AlertError):
    """A member's subscriptions or webhooks are capped: each is matched on every report."""


class MinimumStatus(StrEnum):
    """From how sure a report must be before it alerts."""

    ANY = "any"  # every new report
    ON_SCENE = "on_scene"  # a member confirmed it on scene (status corroborated) or verified it
    VERIFIED = "verified"


# The status ladder a report climbs; a subscription fires once, the first time
# its report reaches its level. Disputed and amended-after-verdict are level 0.
LEVELS = {MinimumStatus.ANY: 0, MinimumStatus.ON_SCENE: 1, MinimumStatus.VERIFIED: 2}
STATUS_LEVELS = {"corroborated": 1, "verified": 2}


class Channel(StrEnum):
    WEBHOOK = "webhook"
    PUSH = "push"


# Watch shifts are presence, not enforcement: they never alert.
ALERT_KINDS = tuple(k.value for k in Kind if k is not Kind.WATCH_SHIFT)
MAX_RADIUS_M = 50_000.0
MAX_COURTHOUSES = 50
MAX_LABEL = 80
MAX_URL = 2048
MAX_SUBSCRIPTIONS_PER_MEMBER = 50
MAX_WEBHOOKS_PER_MEMBER = 10
# A member's phones and browsers: each alert of theirs is sent to every one in turn.
MAX_PUSH_ENDPOINTS_PER_MEMBER = 10
COURTHOUSE_CODE = re.compile(r"[A-Z0-9_-]{1,16}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Names zoneinfo reads from the system that are not zones PostgreSQL knows
# ("localtime" is this machine's zone): one such value in a subscription made
# the matching query fail for every report (the store checks PostgreSQL's list too).
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_ZONES = frozenset(available_timezones()) - _NOT_ZONES


@dataclass(frozen=True)
class Area:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class PolygonArea:
    """A drawn area: its corners as (lat, lon), in order, not closed (the last
    corner joins the first). Edges are straight in longitude/latitude, as drawn
    on the map; one polygon, no holes, never crossing itself or the antimeridian."""

    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time  # start > end wraps midnight (22:00-07:00)


@dataclass(frozen=True)
class SubscriptionSpec:
    label: str
    courthouses: tuple[str, ...]
    area: Area | PolygonArea | None
    kinds: tuple[str, ...]  # empty: every kind that alerts
    min_status: MinimumStatus
    quiet_hours: QuietHours | None
    timezone: str
    channel: Channel
    webhook_id: UUID | None


@dataclass(frozen=True)
class Subscription:
    id: UUID
    member_id: UUID
    spec: SubscriptionSpec

    def as_json(self) -> dict[str, Any]:
        s = self.spec
        return {
            "id": str(self.id),
            "label": s.label,
            "courthouses": list(s.courthouses),
            "area": area_json(s.area),
            "kinds": list(s.kinds),
            "min_status": s.min_status.value,
            "quiet_hours": None
            if s.quiet_hours is None
            else {
                "start": s.quiet_hours.start.strftime("%H:%M"),
                "end": s.quiet_hours.end.strftime("%H:%M"),
            },
            "timezone": s.timezone,
            "channel": s.channel.value,
            "webhook_id": None if s.webhook_id is None else str(s.webhook_id),
        }


@dataclass(frozen=True)
class Webhook:
    id: UUID
    member_id: UUID
    url: str
    active: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "url": self.url, "active": self.active}


def area_json(area: Area | PolygonArea | None) -> dict[str, Any] | None:
    if area is None:
        return None
    if isinstance(area, PolygonArea):
        return {"polygon": [{"lat": lat, "lon": lon} for lat, lon in area.points]}
    return {"lat": area.lat, "lon": area.lon, "radius_m": area.radius_m}


# Guards -------------------------------------------------------------------------


def check_text(field: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidAlertField(field, "must be a string")
    if len(value) > limit:
        raise InvalidAlertField(field, f"at most {limit} characters")
    if _CONTROL.search(value) or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise InvalidAlertField(field, "control characters are not allowed")
    return value.strip()


def check_number(field: str, value: Any, low: float, high: float) -> float:
    # bool is an int; a 5,000-digit int is refused by the range, never converted to text.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidAlertField(field, "must be a number")
    if isinstance(value, int) and not low <= value <= high:
        raise InvalidAlertField(field, f"must be between {low:g} and {high:g}")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidAlertField(field, f"must be between {low:g} and {high:g}")
    return number


MAX_POLYGON_POINTS = 100
# A drawn area is a neighbourhood or a county, not a continent: at most this
# many degrees across (about 550 km north-south), like the circle's 50 km cap.
MAX_POLYGON_SPAN = 5.0


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_touch(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]
) -> bool:
    """Whether segment ab meets segment cd (crossing, touching or overlapping)."""
    d1, d2, d3, d4 = _cross(c, d, a), _cross(c, d, b), _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(a, c, d))
        or (d2 == 0 and _on_segment(b, c, d))
        or (d3 == 0 and _on_segment(c, a, b))
        or (d4 == 0 and _on_segment(d, a, b))
    )


def check_polygon(value: Any) -> PolygonArea:
    """Corners as [{lat, lon}, ...]: 3 to 100 distinct corners, edges that never
    cross or touch each other (the matcher's point-in-polygon reads a crossing
    polygon's inside differently than the map draws it)."""
    # The length first: ten thousand corners are refused before any is read.
    if not isinstance(value, list) or not 3 <= len(value) <= MAX_POLYGON_POINTS + 1:
        raise InvalidAlertField(
            "area.polygon", f"must be a list of 3 to {MAX_POLYGON_POINTS} corners"
        )
    points: list[tuple[float, float]] = []
    for corner in value:
        if not isinstance(corner, dict) or set(corner) != {"lat", "lon"}:
            raise InvalidAlertField("area.polygon", "each corner must be {lat, lon}")
        points.append(
            (
                check_number("area.polygon.lat", corner["lat"], -90, 90),
                check_number("area.polygon.lon", corner["lon"], -180, 180),
            )
        )
    if len(points) > 3 and points[0] == points[-1]:
        points.pop()  # closed the GeoJSON way: the last corner repeats the first
    if not 3 <= len(points) <= MAX_POLYGON_POINTS:
        raise InvalidAlertField(
            "area.polygon", f"must be a list of 3 to {MAX_POLYGON_POINTS} corners"
        )
    if len(set(points)) != len(points):
        raise InvalidAlertField("area.polygon", "a corner is repeated")
    lats = [lat for lat, _ in points]
    lons = [lon for _, lon in points]
    if max(lats) - min(lats) > MAX_POLYGON_SPAN or max(lons) - min(lons) > MAX_POLYGON_SPAN:
        raise InvalidAlertField(
            "area.polygon", f"must be at most {MAX_POLYGON_SPAN:g} degrees across"
        )
    # Planar (lon, lat) geometry, as the matcher uses it.
    xy = [(lon, lat) for lat, lon in points]
    n = len(xy)
    twice_area = sum(_cross((0.0, 0.0), xy[i], xy[(i + 1) % n]) for i in range(n))
    if abs(twice_area) < 1e-12:
        raise InvalidAlertField("area.polygon", "encloses no area")
    for i in range(n):
        a, b = xy[i], xy[(i + 1) % n]
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                # Neighbours share a corner; they must not fold back over each other.
                c, d = xy[j], xy[(j + 1) % n]
                shared, far = (b, d) if j == i + 1 else (a, c)
                other = a if j == i + 1 else b
                if _cross(shared, other, far) == 0 and (
                    _on_segment(far, shared, other) or _on_segment(other, shared, far)
                ):
                    raise InvalidAlertField("area.polygon", "its edges must not cross")
                continue
            if segments_touch(a, b, xy[j], xy[(j + 1) % n]):
                raise InvalidAlertField("area.polygon", "its edges must not cross")
    return PolygonArea(tuple(points))


def check_area(value: Any) -> Area | PolygonArea | None:
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"polygon"}:
        return check_polygon(value["polygon"])
    if not isinstance(value, dict) or set(value) != {"lat", "lon", "radius_m"}:
        raise InvalidAlertField("area", "must be {lat, lon, radius_m}, {polygon} or null")
    return Area(
        lat=check_number("area.lat", value["lat"], -90, 90),
        lon=check_number("area.lon", value["lon"], -180, 180),
        radius_m=check_number("area.radius_m", value["radius_m"], 1, MAX_RADIUS_M),
    )


def check_courthouses(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_COURTHOUSES:
        raise InvalidAlertField("courthouses", f"must be a list of at most {MAX_COURTHOUSES} codes")
    codes = []
    for code in value:
        if not isinstance(code, str) or not COURTHOUSE_CODE.fullmatch(code):
            raise InvalidAlertField("courthouses", "each must be a courthouse code (A-Z, 0-9)")
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def check_kinds(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > len(ALERT_KINDS):
        raise InvalidAlertField("kinds", "must be a list of report kinds")
    for kind in value:
        if kind not in ALERT_KINDS:
            raise InvalidAlertField("kinds", f"each must be one of {', '.join(ALERT_KINDS)}")
    return tuple(dict.fromkeys(value))


def check_min_status(value: Any) -> MinimumStatus:
    try:
        return MinimumStatus(value)
    except ValueError:
        raise InvalidAlertField(
            "min_status", "must be one of " + ", ".join(m.value for m in MinimumStatus)
        ) from None


_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def check_clock(field: str, value: Any) -> time:
    if not isinstance(value, str) or not _CLOCK.fullmatch(value):
        raise InvalidAlertField(field, "must be HH:MM (24 h)")
    return time(int(value[:2]), int(value[3:]))


def check_quiet_hours(value: Any) -> QuietHours | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"start", "end"}:
        raise InvalidAlertField("quiet_hours", "must be {start, end} or null")
    quiet = QuietHours(
        check_clock("quiet_hours.start", value["start"]),
        check_clock("quiet_hours.end", value["end"]),
    )
    if quiet.start == quiet.end:
        raise InvalidAlertField("quiet_hours", "start and end must differ")
    return quiet


def check_timezone(value: Any) -> str:
    if not isinstance(value, str) or value not in _ZONES:
        raise InvalidAlertField("timezone", "must be an IANA time zone such as America/New_York")
    ZoneInfo(value)
    return value


def check_uuid(field: str, value: Any) -> UUID:
    if not isinstance(value, str) or len(value) > 36:
        raise InvalidAlertField(field, "must be an id")
    try:
        return UUID(value)
    except ValueError:
        raise InvalidAlertField(field, "must be an id") from None


def check_subscription(body: Any) -> SubscriptionSpec:
    """A member's subscription as sent (JSON object), or InvalidAlertField."""
    if not isinstance(body, dict):
        raise InvalidAlertField("body", "must be a JSON object")
    known = {
        "label", "courthouses", "area", "kinds", "min_status", "quiet_hours", "timezone",
        "channel", "webhook_id",
    }  # fmt: skip
    if unknown := set(body) - known:
        raise InvalidAlertField(sorted(unknown)[0][:40], "unknown field")
    courthouses = check_courthouses(body.get("courthouses", []))
    area = check_area(body.get("area"))
    if not courthouses and area is None:
        raise InvalidAlertField("courthouses", "name at least one courthouse or an area")
    try:
        channel = Channel(body.get("channel", "push"))
    except ValueError:
        raise InvalidAlertField("channel", "must be webhook or push") from None
    webhook_id = body.get("webhook_id")
    if channel is Channel.WEBHOOK:
        webhook_id = check_uuid("webhook_id", webhook_id)
    elif webhook_id is not None:
        raise InvalidAlertField("webhook_id", "only for the webhook channel")
    return SubscriptionSpec(
        label=check_text("label", body.get("label", ""), MAX_LABEL),
        courthouses=courthouses,
        area=area,
        kinds=check_kinds(body.get("kinds", [])),
        min_status=check_min_status(body.get("min_status", MinimumStatus.ANY.value)),
        quiet_hours=check_quiet_hours(body.get("quiet_hours")),
        timezone=check_timezone(body.get("timezone", "UTC")),
        channel=channel,
        webhook_id=webhook_id,
    )


# Cloud metadata services answer on link-local addresses: a webhook there would
# hand an instance's credentials to whoever reads the delivery log.
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


def check_webhook_url(value: Any) -> str:
    """An http(s) URL without credentials; private addresses are allowed (docs/alerts.md)."""
    url = check_text("url", value, MAX_URL)
    if url != value or any(c.isspace() for c in url):
        raise InvalidAlertField("url", "must not contain spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidAlertField("url", "is not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidAlertField("url", "must start with https:// or http://")
    if not parts.hostname:
        raise InvalidAlertField("url", "must name a host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidAlertField("url", "must not carry credentials (use the signing secret)")
    if parts.fragment:
        raise InvalidAlertField("url", "must not have a #fragment")
    if port == 0:
        raise InvalidAlertField("url", "port must be 1-65535")
    try:
        address = ipaddress.ip_address(parts.hostname.strip("[]"))
    except ValueError:
        address = None
    if address is not None and any(address in net for net in _LINK_LOCAL):
        raise InvalidAlertField("url", "link-local addresses are refused (cloud metadata)")
    return url


@dataclass(frozen=True)
class PushSubscription:
    endpoint: str
    p256dh: str
    auth: str


def _b64url(field: str, value: Any, length: int) -> str:
    import base64
    import binascii

    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,200}={0,2}", value):
        raise InvalidAlertField(field, "must be base64url")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidAlertField(field, "must be base64url") from None
    if len(raw) != length:
        raise InvalidAlertField(field, f"must be {length} bytes")
    return value.rstrip("=")


def check_push_subscription(body: Any) -> PushSubscription:
    """A browser's PushSubscription.toJSON(): an https endpoint (http on this machine
    only, for development) and the P-256 key and auth secret it encrypts to."""
    if not isinstance(body, dict) or not isinstance(body.get("keys"), dict):
        raise InvalidAlertField("body", "must be {endpoint, keys: {p256dh, auth}}")
    endpoint = check_text("endpoint", body.get("endpoint"), MAX_URL)
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        raise InvalidAlertField("endpoint", "is not a URL") from None
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not (parts.scheme == "https" or local) or not parts.hostname or parts.username:
        raise InvalidAlertField("endpoint", "must be an https URL of a push service")
    p256dh = _b64url("keys.p256dh", body["keys"].get("p256dh"), 65)
    auth = _b64url("keys.auth", body["keys"].get("auth"), 16)
    return PushSubscription(endpoint, p256dh, auth)
