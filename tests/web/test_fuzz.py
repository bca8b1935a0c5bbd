"""Property-based fuzz run over every endpoint of the app, against real uvicorn and PostgreSQL.

Hypothesis generates requests to every (path, method) of ``web.app.routes()``
(taken from the same table as the OpenAPI document, so a new route is fuzzed
the day it is added): hostile bodies, headers, query strings and path
segments, and ``/ws/live`` sessions with a random ``?since`` and random client
frames. Values include control characters, NUL, lone surrogates, huge and deep
values, 4,301-digit integers and calendar edges (year 1, 9999, +14:00, W53,
Feb 29). Each request is checked for two things the product must never do:

- answer a server error: a 5xx, or a connection dropped without an answer;
- answer something other than 2xx after storing an event: the number of rows
  in ``courtwatch_events`` is read before and after each request.

Failures are collected rather than raised at the first one, so the run prints
every failing endpoint with an example input; then it asserts both counts are
0 and that every projection caught up with the log after the run.

The run is repeatable (``derandomize=True``) and writes no ``.hypothesis``
folder (``database=None``). ``COURTWATCH_FUZZ_EXAMPLES`` scales it (default
5,200 HTTP requests + 240 websocket sessions, ~60-90 s on 2 cores).
"""

from __future__ import annotations

import functools
import json
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import connect

from courtwatch.infrastructure import event_log
from courtwatch.services import Services
from projections import runner
from projections.transparency_log import store
from tests.conftest import ServerThread
from tests.members.tokens import member_token
from web import openapi
from web.app import routes

HTTP_EXAMPLES = int(os.environ.get("COURTWATCH_FUZZ_EXAMPLES", "5200"))
WS_EXAMPLES = max(HTTP_EXAMPLES // 20, 20)
# A request that takes longer than this has hung, as far as a phone is concerned.
REQUEST_TIMEOUT = 15.0

pytestmark = pytest.mark.timeout(900)


# -- Hostile values -------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text put into a body verbatim: what ``json.dumps`` cannot or will not write."""

    text: str


HUGE = "9" * 4301  # one past Python's int-to-str limit (4,300 digits)
DEEP_ARRAY = Raw("[" * 1_100 + "]" * 1_100)  # past the json module's recursion limit
DEEP_OBJECT = Raw('{"a":' * 1_100 + "1" + "}" * 1_100)
CALENDAR_EDGES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00+00:00",
    "0001-01-01",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999+00:00",
    "9999-12-31",
    "1999-12-31T23:59:59-05:00",
    "2026-W53",
    "2026-W53-7",
    "2028-02-29T12:00:00-05:00",
    "2027-02-29T12:00:00-05:00",
    "2026-11-23T10:00:00+14:00",
    "2026-11-23T10:00:00-12:00",
    "2026-11-23T10:00:00",
    "2026-11-23T10:00:00Z",
    "2026-03-08T02:30:00-05:00",
    "2026-11-01T01:30:00-04:00",
    "2100-12-31T23:59:59+00:00",
    "2026-11-23T24:00:00+00:00",
    "2026-11-23T10:00:00+24:00",
    "+002026-11-23",
    "20261123T100000Z",
]
HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "NYC\r\nSet-Cookie: x=1",
    "\t",
    "\x1b[31m",
    "\x7f",
    "\u0085",
    "\u2028",
    "\u200b",
    "\ufeff",
    "\ud800",
    "\udfff",
    "a\udc80b",
    "\U0010ffff",
    "\N{SUPERSCRIPT TWO}",
    "\N{ARABIC-INDIC DIGIT ONE}",
    "\N{FULLWIDTH DIGIT ONE}",
    "\N{DEVANAGARI DIGIT SEVEN}",
    "1\N{COMBINING ACUTE ACCENT}",
    "NYĀ",
    "é",
    "../../../etc/passwd",
    "%00",
    "%",
    "%zz",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "J. Doe DOB 1990-01-02 A#123456789",
    "A" * 121,
    "x" * 5_000,
    HUGE,
    "-" + HUGE,
    "1e999999",
    "NaN",
    "Infinity",
    "-0",
    "0x10",
    "1_000",
    "true",
    "null",
    *CALENDAR_EDGES,
]
EDGE_NUMBERS: list[Any] = [
    0,
    -1,
    1,
    100,
    101,
    2**31,
    2**53 + 1,
    2**63,
    -(2**63) - 1,
    10**300,
    Raw(HUGE),
    Raw("-" + HUGE),
    Raw("1e400"),
    Raw("-1e400"),
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    1e308,
    -0.0,
    5e-324,
    40.712345678901,
    -74.00567,
    90.0000001,
]

# Every character, lone surrogates included (Hypothesis leaves them out by default).
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(ANY_CHARACTER, max_size=24),
    st.text(st.characters(max_codepoint=0x7F), max_size=24),
)
hostile_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(EDGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
hostile_json = st.recursive(
    hostile_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(hostile_text, inner, max_size=4),
        st.sampled_from([DEEP_ARRAY, DEEP_OBJECT]),
    ),
    max_leaves=8,
)


def to_json(value: Any) -> str:
    """JSON text of ``value``, with ``Raw`` pieces verbatim and lone surrogates escaped."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{to_json(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**4000:
        return str(value)  # pragma: no cover - generated ints stay far below the limit
    return json.dumps(value)  # ensure_ascii: a lone surrogate becomes "\ud800"


def percent(text: str) -> str:
    """Percent-encode UTF-8, lone surrogates as the (invalid) bytes they would be."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


# -- The world the fuzzer works in ------------------------------------------------------------


def recent(minutes: float = 30) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


TEMPLATES: dict[str, dict[str, Any]] = {
    "courthouse_arrest": {
        "kind": "courthouse_arrest",
        "courthouse_code": "NYC",
        "place": "hallway",
        "agents_count": 3,
        "agency": "ice_ero",
        "warrant": "administrative",
        "person_role": "witness",
        "outcome": "detained",
    },
    "sighting": {"kind": "sighting", "courthouse_code": "BOS", "agents_count": 2},
    "call_in": {"kind": "call_in", "courthouse_code": "NYV", "letter_date": "2026-11-01"},
    "watch_shift": {"kind": "watch_shift", "courthouse_code": "BOS"},
}


@dataclass
class World:
    """Real reports, tokens and a checkpoint, so generated requests also reach deep code."""

    reports: dict[str, tuple[str, str]] = field(default_factory=dict)  # kind -> (id, token)
    verifier: str = ""
    coordinator: str = ""

    @property
    def ids(self) -> list[str]:
        return [report_id for report_id, _ in self.reports.values()]

    @property
    def tokens(self) -> list[str]:
        return [token for _, token in self.reports.values()]


def make_world(http: httpx.Client, services: Services) -> World:
    world = World()
    world.verifier = member_token(services, "fuzz-verifier", "responder")
    world.coordinator = member_token(services, "fuzz-coordinator", "coordinator")
    for kind, template in TEMPLATES.items():
        answer = http.post(
            "/api/reports",
            json={**template, "observed_at": recent()},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert answer.status_code == 201, answer.text
        world.reports[kind] = (answer.json()["id"], answer.json()["author_token"])
    wait_for_projections(services, timeout=30)
    # Signed by the signing process (the web process never signs), so proofs
    # and evidence downloads have a checkpoint to answer from.
    assert store.publish_checkpoint(services.database, services.settings) is not None
    return world


def wait_for_projections(services: Services, timeout: float) -> list[str]:
    """Wait until every projection has processed the whole log; name those that did not."""
    head = event_log.head(services.database)
    deadline = time.monotonic() + timeout
    while True:
        behind = [
            f"{spec.projection.__name__} at {position} of {head}"
            for spec in runner.all_projections()
            if (position := runner.position_of(services.database, spec)) < head
        ]
        if not behind or time.monotonic() > deadline:
            return behind
        time.sleep(0.05)


# -- Generated requests -----------------------------------------------------------------------


@dataclass
class Call:
    method: str
    template: str  # the route's path, e.g. /api/reports/{report_id}/amend
    path: str  # percent-encoded
    query: str  # percent-encoded, may be malformed on purpose
    headers: dict[str, bytes]
    body: bytes | None

    def describe(self) -> str:
        body = "" if self.body is None else f" body={self.body[:160]!r}"
        if self.body is not None and len(self.body) > 160:
            body += f"...({len(self.body)} bytes)"
        query = f"?{self.query[:160]}" if self.query else ""
        headers = {k: v[:60] for k, v in self.headers.items()}
        return f"{self.method} {self.path[:160]}{query} headers={headers}{body}"


OPERATIONS = openapi.documented_operations(routes())
DOCUMENT = openapi.document(routes())


def known_query_names(template: str, method: str) -> list[str]:
    parameters = DOCUMENT["paths"][template][method.lower()].get("parameters", [])
    return [p["name"] for p in parameters if p["in"] == "query"]


header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
).map(str.strip)
header_value = st.one_of(
    header_text,
    st.sampled_from(["x" * 8_000, "é" * 4_000, ", ".join(["es"] * 2_000), "es", "en-US,en;q=0.5"]),
)


@functools.cache
def _below(n: int) -> st.SearchStrategy[int]:
    return st.integers(0, n - 1)


def pick(draw: st.DrawFn, options: Sequence[Any]) -> Any:
    """One of ``options``. Strategies are built once per size: building them per draw
    (and Hypothesis validating each new one) cost more than sending the request."""
    return options[draw(_below(len(options)))]


def chance(draw: st.DrawFn, one_in: int) -> bool:
    return draw(_below(one_in)) == 0


def latin1(text: str) -> bytes:
    return text.encode("latin-1")


YEARS = ["0001", "1999", "2000", "2026", "2100", "2101", "9999"]
PERIOD_KEYS = ["-11-23", "-02-29", "-12-31", "-01-01", "-W01", "-W52", "-W53", "-W54", "-W00",
               "-12", "-13"]  # fmt: skip
STATIC = [
    "js/live-map.js",
    "vendor/leaflet-1.9.4/dist/leaflet.js",
    "..%2f..%2fpyproject.toml",
    "%2e%2e/%2e%2e/pyproject.toml",
]
QUERY_VALUES = ["0", "1", "3", "18", "NYC", "es", "-74.5,40.4,-73.5,41.0", "2026-11-23T00:00:00Z"]
MALFORMED_ESCAPES = ["%zz", "%", "%00", "%ED%A0%80", "%FF%FE", "a+b", "a&b=", "=="]
REPORT_FIELDS = ["place", "agents_count", "taken_to", "office", "ended_at", "outcome", "agency"]
CONTENT_TYPES = [
    "application/json",
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    None,
]
RAW_BODIES = [
    b"",
    b"{",
    b"[]",
    b"null",
    b'"\\ud800"',
    b"\xff\xfe\x00",
    b'{"a":1,"a":2}',
    b"NaN",
    ("[" * 60_000 + "]" * 60_000).encode(),  # over the body limit: 413
    ("[" * 5_000 + "]" * 5_000).encode(),  # under it: the json module's recursion limit
    b'{"token":"x","changes":' + b"[" * 1_100 + b"]" * 1_100 + b"}",
    ('{"a":' * 60_000 + "1" + "}" * 60_000).encode(),
    b'{"token":' + HUGE.encode() + b"}",
    b'{"changes":{"agents_count":' + HUGE.encode() + b'},"token":"x"}',
    b'{"outcome":{"lat":40}}',
    b'{"token":123,"outcome":{"outcome":"released"}}',
    b"x" * (64 * 1024 + 1),
    b'{"reason":"' + b"a" * (64 * 1024) + b'"}',
]


def path_segment(draw: st.DrawFn, name: str, world: World) -> str:
    hostile = draw(hostile_text)
    if name == "report_id":
        choice = pick(draw, [*world.ids, *world.ids, str(uuid.uuid4()), "not-a-uuid", None])
        return percent(hostile) if choice is None else choice
    if name == "kind":
        return percent(pick(draw, [*TEMPLATES, hostile]))
    if name == "period":
        return percent(pick(draw, ["day", "week", "month", "year", hostile]))
    if name == "key":
        key = pick(draw, YEARS) + pick(draw, PERIOD_KEYS) if not chance(draw, 8) else hostile
        return percent(key + pick(draw, ["", "", ".json", ".csv", ".xml", ".json.csv"]))
    if name == "path":
        return pick(draw, [*STATIC, percent(hostile)])
    if name == "fips":  # a real county, so the bodies behind it are reached too
        return pick(draw, ["36061", "34013", percent(hostile)])
    return percent(hostile)


def query_string(draw: st.DrawFn, names: list[str]) -> str:
    pairs: list[str] = []
    for _ in range(draw(_below(5))):
        name = pick(draw, [*names, *names, "lang", "x", ""])
        if chance(draw, 3):
            name = percent(draw(hostile_text))
        kind = draw(_below(3))
        if kind == 0:
            value = percent(draw(hostile_text))
        else:
            value = pick(draw, QUERY_VALUES if kind == 1 else MALFORMED_ESCAPES)
        pairs.append(f"{name}={value}")
    return "&".join(pairs)


def mutate(draw: st.DrawFn, template: dict[str, Any], extra_names: list[str]) -> dict[str, Any]:
    body = dict(template)
    for _ in range(draw(_below(4))):
        names = [*body, *extra_names, "kind", "lat", "lon", "observed_at", "client_key"]
        name = pick(draw, names) if not chance(draw, 6) else draw(hostile_text)
        if chance(draw, 6):
            body.pop(name, None)
        else:
            body[name] = draw(hostile_json)
    return body


def json_body(draw: st.DrawFn, template: str, world: World) -> Any:
    """A body built from what the endpoint takes, with some fields made hostile."""
    token = pick(draw, [*world.tokens, "wrong-token"])
    kind = pick(draw, list(TEMPLATES))
    report = {**TEMPLATES[kind], "observed_at": recent(draw(_below(600)) + 1)}
    if template == "/api/reports":
        return mutate(draw, report, REPORT_FIELDS)
    if template.endswith("/amend"):
        changes = mutate(draw, {}, [*REPORT_FIELDS, "courthouse_code", "observed_at", "lat"])
        if chance(draw, 3):  # a plausible new time: amending it once answered 500 after storing
            changes["observed_at"] = recent(draw(_below(120)))
        return mutate(draw, {"token": token, "changes": changes}, [])
    if template.endswith("/outcome"):
        outcome = mutate(draw, {"outcome": "released"}, ["taken_to", "lat", "office"])
        return mutate(draw, {"token": token, "outcome": outcome}, [])
    if template.endswith("/end"):
        ended = pick(draw, [recent(1), *CALENDAR_EDGES])
        return mutate(draw, {"token": token, "ended_at": ended}, [])
    if template.endswith("/dispute"):
        return mutate(draw, {"reason": "wrong courthouse"}, [])
    if template.endswith("/corroborate"):
        return mutate(draw, {"client_key": uuid.uuid4().hex}, [])
    if template == "/api/courthouses":
        place = {"code": "FZ1", "name": "Fuzz court", "kind": "state", "lat": 40.0, "lon": -74.0}
        return mutate(draw, place, ["street", "city", "state", "zip"])
    return draw(hostile_json)


def body_bytes(draw: st.DrawFn, template: str, method: str, world: World) -> bytes | None:
    choice = draw(_below(10))
    if method == "GET" and choice < 8:
        return None
    if choice <= 6:
        return to_json(json_body(draw, template, world)).encode("utf-8", "surrogatepass")
    return pick(draw, RAW_BODIES)  # type: ignore[no-any-return]


def form_body(draw: st.DrawFn) -> bytes:
    kind = pick(draw, list(TEMPLATES))
    fields = {name: str(value) for name, value in TEMPLATES[kind].items() if isinstance(value, str)}
    fields["observed_at"] = pick(draw, ["2026-11-23T10:00", *CALENDAR_EDGES])
    fields["client_key"] = uuid.uuid4().hex
    for _ in range(draw(_below(4))):
        fields[pick(draw, [*fields, "taken_to", "office"])] = draw(hostile_text)
    return "&".join(f"{percent(k)}={percent(v)}" for k, v in fields.items()).encode()


@st.composite
def calls(draw: st.DrawFn, world: World) -> Call:
    template, method = pick(draw, OPERATIONS)
    path = template
    for name in ("report_id", "kind", "period", "key", "path"):
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", path_segment(draw, name, world))
    headers: dict[str, bytes] = {}
    content_type = pick(draw, CONTENT_TYPES)
    body: bytes | None
    if template == "/new/{kind}" and method == "POST" and not chance(draw, 4):
        body = form_body(draw)
        content_type = pick(draw, ["application/x-www-form-urlencoded", content_type])
    else:
        body = body_bytes(draw, template, method, world)
    if content_type and body is not None:
        headers["content-type"] = latin1(content_type)
    auth = pick(draw, [None, None, f"Bearer {world.verifier}", f"Bearer {world.coordinator}",
                       "Bearer nope", "Basic Zm9vOmJhcg==", "bearer"])  # fmt: skip
    if auth is not None:
        headers["authorization"] = latin1(auth)
    # Most writes carry a fresh key, so many reach the domain and store an event.
    if method == "POST" and not chance(draw, 5):
        headers["idempotency-key"] = latin1(uuid.uuid4().hex)
    for name in ("idempotency-key", "accept-language", "origin", "host", "x-forwarded-for"):
        if chance(draw, 6):
            headers[name] = latin1(draw(header_value))
    if "host" in headers and not headers["host"]:
        del headers["host"]
    query = query_string(draw, known_query_names(template, method))
    return Call(method, template, path, query, headers, body)


# -- Websocket sessions -----------------------------------------------------------------------


@dataclass
class Session:
    since: str | None
    frames: list[str | bytes]
    headers: dict[str, str]

    def describe(self) -> str:
        frames = [f[:40] for f in self.frames[:3]]
        return (
            f"WS /ws/live?since={(self.since or '')[:40]!r} frames={frames} headers={self.headers}"
        )


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    since = draw(
        st.none()
        | st.integers(0, 10**6).map(str)
        | st.sampled_from(["18446744073709551616", HUGE, "-1", "%zz", "%00", "%ED%A0%80"])
        | hostile_text.map(percent)
    )
    frame = st.one_of(
        hostile_text.filter(
            lambda t: t == t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        ),
        st.binary(max_size=64),
        st.sampled_from(
            ['{"type":"subscribe"}', "x" * 70_000, b"\x00" * 70_000, to_json(DEEP_ARRAY)]
        ),
    )
    headers = {}
    if draw(st.booleans()):
        headers["Origin"] = draw(
            st.sampled_from(["http://evil.example", "null", "http://127.0.0.1"])
        )
    if draw(st.booleans()):
        headers["Accept-Language"] = draw(header_text.filter(bool) | st.just("es"))
    return Session(since, draw(st.lists(frame, max_size=5)), headers)


# -- The run ----------------------------------------------------------------------------------


@dataclass
class Tally:
    sent: int = 0
    unsendable: int = 0
    ws_sessions: int = 0
    ws_frames: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    per_route: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    server_errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    stored_on_error: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def report(self) -> str:
        lines = [
            f"fuzz: {self.sent} HTTP requests + {self.ws_sessions} websocket sessions "
            f"({self.ws_frames} client frames) = {self.sent + self.ws_sessions} generated requests"
            f" ({self.unsendable} refused by the client library, not counted)",
            f"fuzz: answers by status {dict(sorted(self.statuses.items()))}",
            f"fuzz: server errors (5xx or dropped): {sum(map(len, self.server_errors.values()))}",
            f"fuzz: non-2xx answers that changed the database: "
            f"{sum(map(len, self.stored_on_error.values()))}",
        ]
        for title, found in (("SERVER ERROR", self.server_errors), ("STORED ON ERROR", self.stored_on_error)):  # fmt: skip
            for route, examples in sorted(found.items()):
                lines.append(f"  {title} {route}: {len(examples)}")
                lines += [f"      e.g. {example}" for example in examples[:3]]
        return "\n".join(lines)


def count_events(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM courtwatch_events").fetchone()
    assert row is not None
    return int(row[0])


def send(http: httpx.Client, call: Call) -> httpx.Response:
    url = httpx.URL(
        http.base_url.join(call.path).copy_with(query=call.query.encode("latin-1") or None)
    )
    return http.request(call.method, url, headers=call.headers, content=call.body)


def run_http(http: httpx.Client, conn: psycopg.Connection[Any], world: World, tally: Tally) -> None:
    @settings(
        max_examples=HTTP_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(calls(world))
    def one(call: Call) -> None:
        route = f"{call.method} {call.template}"
        before = count_events(conn)
        clock = time.monotonic()
        try:
            response = send(http, call)
            tally.seconds[route] += time.monotonic() - clock
        except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL):
            tally.unsendable += 1
            return
        except httpx.TransportError as dropped:
            tally.sent += 1
            tally.per_route[route] += 1
            tally.server_errors[route].append(f"{type(dropped).__name__} for {call.describe()}")
            return
        tally.sent += 1
        tally.per_route[route] += 1
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors[route].append(f"{response.status_code} for {call.describe()}")
        if not 200 <= response.status_code < 300 and count_events(conn) != before:
            tally.stored_on_error[route].append(f"{response.status_code} for {call.describe()}")

    one()


def run_websocket(base: str, tally: Tally) -> None:
    @settings(
        max_examples=WS_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(sessions())
    def one(session: Session) -> None:
        route = "WS /ws/live"
        uri = base + "/ws/live" + (f"?since={session.since}" if session.since is not None else "")
        try:
            ws = connect(uri, additional_headers=session.headers, open_timeout=REQUEST_TIMEOUT,
                         compression=None, max_size=None, max_queue=None, close_timeout=5)  # fmt: skip
        except InvalidURI:
            tally.unsendable += 1
            return
        except InvalidStatus as refused:
            tally.ws_sessions += 1
            tally.per_route[route] += 1
            status = refused.response.status_code
            tally.statuses[status] += 1
            if status >= 500:
                tally.server_errors[route].append(f"{status} for {session.describe()}")
            return
        except (InvalidHandshake, OSError, TimeoutError) as dropped:
            tally.ws_sessions += 1
            tally.per_route[route] += 1
            tally.server_errors[route].append(f"{dropped!r} for {session.describe()}")
            return
        tally.ws_sessions += 1
        tally.per_route[route] += 1
        tally.statuses[101] += 1
        with ws:
            try:
                first = json.loads(ws.recv(timeout=REQUEST_TIMEOUT))
                if first.get("type") not in ("snapshot", "resume"):
                    raise AssertionError(f"first frame {first!r}")
                for frame in session.frames:
                    ws.send(frame)
                    tally.ws_frames += 1
                # Still serving after the client's frames: a ping is answered. (max_queue=None
                # above: a client that stops reading the catch-up frames would not see the pong.)
                if not ws.ping().wait(REQUEST_TIMEOUT):
                    # The server may have closed the connection meanwhile (a frame
                    # over its size limit gets 1009): a close frame with a reason is
                    # an answer here too, as below; only silence is a failure.
                    received = ws.protocol.close_rcvd
                    if received is None or received.code in (1006, 1011):
                        raise TimeoutError("no pong")
            except ConnectionClosed as closed:
                # A close frame with a reason is an answer; 1006 (no close frame) or 1011 is not.
                code = closed.rcvd.code if closed.rcvd else 1006
                if code in (1006, 1011):
                    tally.server_errors[route].append(f"closed {code} for {session.describe()}")
            except (TimeoutError, AssertionError, OSError) as failed:
                tally.server_errors[route].append(f"{failed!r} for {session.describe()}")

    one()


def test_fuzz_every_endpoint(live_server: ServerThread, services: Services) -> None:
    started = time.monotonic()
    tally = Tally()
    limits = httpx.Limits(max_keepalive_connections=4)
    with (
        httpx.Client(base_url=live_server.url, timeout=REQUEST_TIMEOUT, limits=limits) as http,
        psycopg.connect(services.database.url, autocommit=True) as conn,
    ):
        world = make_world(http, services)
        run_http(http, conn, world, tally)
        run_websocket(live_server.url.replace("http://", "ws://"), tally)
        behind = wait_for_projections(services, timeout=30)
    elapsed = time.monotonic() - started
    print()
    print(tally.report())
    print(f"fuzz: projections behind the log after the run: {behind or 'none'}")
    print(f"fuzz: {elapsed:.1f} s; requests per route: {dict(sorted(tally.per_route.items()))}")
    slowest = [(route, round(s, 1)) for route, s in tally.seconds.most_common(8)]
    print(f"fuzz: seconds spent answering, slowest routes: {slowest}")

    assert tally.sent + tally.ws_sessions >= HTTP_EXAMPLES * 0.95, "too few requests were sent"
    missed = {f"{m} {p}" for p, m in OPERATIONS} - set(tally.per_route) - {"GET /ws/live"}
    assert not missed, f"never fuzzed: {missed}"
    assert tally.per_route["WS /ws/live"] > 0
    assert not tally.server_errors, tally.report()
    assert not tally.stored_on_error, tally.report()
    assert not behind, f"projections stopped: {behind}"
