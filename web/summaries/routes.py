"""Summary pages: `/summaries`, `/summaries/week/2026-W47` and its .csv and .json.

A page shows the latest *published* revision of a summary when there is one
(that is what a coordinator cites), and otherwise the figures computed now,
marked provisional. ``?courthouse=CODE`` narrows it to one courthouse and
``?revision=ID`` shows an older revision. Charts are server-drawn SVG
(web/svg_charts.py); the heatmap is folium with every asset served from here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import folium
from folium.plugins import HeatMap
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from courtwatch.services import Services
from projections.trends import periods, publishing, summaries
from web import query
from web.reports.pages import _context, templates
from web.summaries import plain_words, svg_charts, weekly
from web.summaries.outlines import outlines_config

LEAFLET = "/static/vendor/leaflet-1.9.4/dist"
HEAT_JS = "/static/vendor/leaflet.heat-0.2.0/dist/leaflet-heat.js"
KINDS = ("courthouse_arrest", "sighting", "call_in", "watch_shift")
TOP = 10


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def load(services: Services, period: periods.Period, courthouse: str | None,
         revision: int | None) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """The summary to show, and whether it is a published one."""
    if revision is not None:
        found = publishing.get(services.database, revision)
        if found and (found.period, found.key, found.courthouse) == (
            period.kind,
            period.key,
            courthouse,
        ):
            return found.as_document(), True
        raise LookupError(revision)
    published = publishing.revisions(services.database, period.kind, period.key, courthouse)
    if published:
        return published[0].as_document(), True
    zone = summaries.trend_zone(services.database, services.settings.timezone)
    return summaries.compute(services.database, period, zone=zone, courthouse=courthouse), False


def heatmap(services: Services, summary: dict[str, Any], lang: str = "en") -> dict[str, Markup]:
    """A folium heatmap of the period's reports per courthouse, with local assets only."""
    places = {c.code: c for c in services.app.courthouses()}
    points = [
        [places[row["code"]].lat, places[row["code"]].lon,
         row["courthouse_arrest"] + row["sighting"] + row["call_in"]]
        for row in summary["figures"]["courthouses"]
        if row["code"] in places and row["courthouse_arrest"] + row["sighting"] + row["call_in"]
    ]  # fmt: skip
    tiles = services.settings.tile_url
    fmap = folium.Map(location=[38.5, -96.0], zoom_start=3, tiles=None, prefer_canvas=True)
    # Per instance, never on the class: folium's defaults are CDN links.
    fmap.default_js = [("leaflet", f"{LEAFLET}/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{LEAFLET}/leaflet.css")]
    if tiles:
        folium.TileLayer(tiles, attr=services.settings.tile_attribution or " ").add_to(fmap)
    if points:
        layer = HeatMap(points, radius=22, blur=18, min_opacity=0.35)
        layer.default_js = [("leaflet-heat.js", HEAT_JS)]
        layer.add_to(fmap)
        # At most zoom 7: one courthouse's points span nothing, and fitting them
        # zoomed in to street level, where the heat and the outlines vanish.
        fmap.fit_bounds([[min(p[0] for p in points), min(p[1] for p in points)],
                         [max(p[0] for p in points), max(p[1] for p in points)]],
                        max_zoom=7)  # fmt: skip
    root = fmap.get_root()
    root.render()
    return {
        "head": Markup(root.header.render()),  # type: ignore[attr-defined]
        "body": Markup(root.html.render()),  # type: ignore[attr-defined]
        "script": Markup(root.script.render()),  # type: ignore[attr-defined]
        # For js/summary-outlines.js, which draws the live map's outlines under the heat.
        "outlines": Markup(outlines_config(fmap.get_name(), tiles is not None, lang)),
    }


def charts(summary: dict[str, Any], t: Any) -> dict[str, Markup]:
    figures = summary["figures"]
    daily = figures["daily"]
    labels = [
        datetime.fromisoformat(d["day"]).strftime("%a" if len(daily) <= 7 else "%d") for d in daily
    ]
    legend = {k: t(f"summary.series.{k}") for k in ("courthouse_arrest", "sighting", "call_in")}
    top = figures["courthouses"][:TOP]
    roles = figures["breakdown"].get("courthouse_arrest", {}).get("role", {})
    return {
        "daily": svg_charts.columns(
            labels, {k: [d[k] for d in daily] for k in legend}, title=t("summary.chart.daily"),
            legend=legend,
        ),
        "watched": svg_charts.columns(
            labels, {"watched": [d["watched_hours"] for d in daily]},
            title=t("summary.chart.watched"), legend={"watched": t("summary.series.watched")},
        ),
        "courthouses": svg_charts.bars(
            [(r["code"] or t("summary.no_courthouse"), r["courthouse_arrest"]) for r in top],
            title=t("summary.chart.courthouses"), colour=svg_charts.PALETTE["courthouse_arrest"],
        ),
        "roles": svg_charts.bars(
            sorted(((t(f"role.{k}"), v) for k, v in roles.items()), key=lambda kv: -kv[1]),
            title=t("summary.chart.roles"), colour="#6d28d9",
        ),
    }  # fmt: skip


def _scope(request: Request) -> tuple[periods.Period, str | None, int | None, str]:
    key, _, suffix = request.path_params["key"].partition(".")
    period = periods.parse(request.path_params["period"], key)
    params = request.query_params
    courthouse = query.courthouse_code("courthouse", params.get("courthouse"))
    revision = query.optional_ascii_int("revision", params.get("revision"))
    return period, courthouse, revision, suffix


def _filename(period: periods.Period, courthouse: str | None) -> str:
    """A download's name: ASCII letters, digits and dashes only, so any code fits a header."""
    name = f"courtwatch-{period.kind}-{period.key}" + (f"-{courthouse}" if courthouse else "")
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


async def summary_page(request: Request) -> Response:
    try:
        period, courthouse, revision, suffix = _scope(request)
    except periods.BadPeriod as error:
        return PlainTextResponse(str(error), status_code=404)
    services = _services(request)
    try:
        summary, published = await run_in_threadpool(load, services, period, courthouse, revision)
    except LookupError:
        return PlainTextResponse("no such revision of this summary", status_code=404)
    name = _filename(period, courthouse)
    if suffix == "json":
        return Response(summaries.canonical_json(summary), media_type="application/json",
                        headers={"content-disposition": f'inline; filename="{name}.json"'})  # fmt: skip
    if suffix == "csv":
        return Response(summaries.to_csv(summary), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{name}.csv"'})  # fmt: skip
    if suffix:
        return PlainTextResponse("download as .csv or .json", status_code=404)
    context = _context(request)
    history = await run_in_threadpool(
        publishing.revisions, services.database, period.kind, period.key, courthouse
    )
    names = {c.code: c.name for c in services.app.courthouses()}
    t = context["t"]
    context.update(
        trend=await run_in_threadpool(weekly.trend, services, period, courthouse, t),
        label=plain_words.period_label(period, t),
        rate=plain_words.arrests_per_watched_hours(
            summary["figures"]["totals"]["courthouse_arrest"]["n"],
            summary["figures"]["watched_seconds"]["n"], t),
    )  # fmt: skip
    context.update(
        summary=summary, published=published, period=period, courthouse=courthouse,
        names=names, charts=charts(summary, context["t"]), history=history,
        map=await run_in_threadpool(heatmap, services, summary, context["lang"]), kinds=KINDS, top=TOP,
        query="?" + urlencode({"courthouse": courthouse}) if courthouse else "",
    )  # fmt: skip
    return templates.TemplateResponse(request, "summaries.html", context)


async def index(request: Request) -> Response:
    services = _services(request)
    published = await run_in_threadpool(publishing.index, services.database)
    zone = ZoneInfo(services.settings.timezone)
    now = datetime.now(UTC)
    recent = [
        period
        for kind in periods.PERIOD_KINDS
        for period in (periods.current(kind, now, zone), periods.last_complete(kind, now, zone))
    ]
    context = _context(request, published=published, recent=recent)
    return templates.TemplateResponse(request, "summaries_index.html", context)
