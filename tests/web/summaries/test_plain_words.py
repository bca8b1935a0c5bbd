"""Figures in plain words and the 12-week chart, without a server (pure and fast)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from projections.trends import periods
from web.i18n import translator
from web.summaries import plain_words, weekly

EN, ES = translator("en"), translator("es")
HOUR = 3600


@pytest.mark.parametrize(
    ("arrests", "seconds", "english", "spanish"),
    [
        (3, 36 * HOUR, "about 1 arrest per 12 watched hours (3 arrests in 36 watched hours)",
         "aproximadamente 1 arresto por cada 12 horas observadas (3 arrestos en 36 horas observadas)"),
        (1, 12 * HOUR, "about 1 arrest per 12 watched hours (1 arrest in 12 watched hours)",
         "aproximadamente 1 arresto por cada 12 horas observadas (1 arresto en 12 horas observadas)"),
        (7, 1000 * HOUR, "about 1 arrest per 140 watched hours (7 arrests in 1,000 watched hours)",
         "aproximadamente 1 arresto por cada 140 horas observadas (7 arrestos en 1,000 horas observadas)"),
        (2, 3 * HOUR, "about 1 arrest per 2 watched hours (2 arrests in 3.0 watched hours)",
         "aproximadamente 1 arresto por cada 2 horas observadas (2 arrestos en 3.0 horas observadas)"),
        (4, 2 * HOUR, "about 2 arrests per watched hour (4 arrests in 2.0 watched hours)",
         "aproximadamente 2 arrestos por hora observada (4 arrestos en 2.0 horas observadas)"),
        (5, 4 * HOUR, "about 1 arrest per watched hour (5 arrests in 4.0 watched hours)",
         "aproximadamente 1 arresto por hora observada (5 arrestos en 4.0 horas observadas)"),
        (0, 20 * HOUR, "no arrests in 20 watched hours", "ningún arresto en 20 horas observadas"),
        (3, 0, "no watched hours recorded, so no rate: nothing to divide by",
         "no hay horas observadas registradas, así que no hay tasa: nada entre qué dividir"),
        (0, 0, "no watched hours recorded, so no rate: nothing to divide by",
         "no hay horas observadas registradas, así que no hay tasa: nada entre qué dividir"),
    ],
)  # fmt: skip
def test_arrests_per_watched_hours_in_plain_words(
    arrests: int, seconds: int, english: str, spanish: str
) -> None:
    assert plain_words.arrests_per_watched_hours(arrests, seconds, EN) == english
    assert plain_words.arrests_per_watched_hours(arrests, seconds, ES) == spanish


def test_a_table_cell_says_the_rate_short() -> None:
    assert plain_words.short_rate(3, 36 * HOUR, EN) == "≈ 1 per 12 h"
    assert plain_words.short_rate(3, 36 * HOUR, ES) == "≈ 1 cada 12 h"
    assert plain_words.short_rate(4, 2 * HOUR, EN) == "≈ 2 per h"
    assert plain_words.short_rate(0, 2 * HOUR, EN) == "0"
    assert plain_words.short_rate(2, 0, ES) == "—"


def test_rounding_keeps_two_significant_digits_and_never_says_zero() -> None:
    assert [plain_words.round_plainly(v) for v in (0.2, 1.4, 9.6, 12.4, 123, 1_234, 98_765)] == [
        1, 1, 10, 12, 120, 1_200, 99_000,
    ]  # fmt: skip


def test_periods_are_named_as_people_say_them() -> None:
    week = periods.parse("week", "2026-W47")
    assert plain_words.period_label(week, EN) == "week of 16 Nov 2026"
    assert plain_words.period_label(week, ES) == "semana del 16 nov 2026"
    assert plain_words.period_label(periods.parse("day", "2026-11-23"), ES) == "23 nov 2026"
    assert plain_words.period_label(periods.parse("month", "2026-09"), EN) == "September 2026"
    assert plain_words.period_label(periods.parse("month", "2026-09"), ES) == "septiembre de 2026"


def test_the_twelve_week_chart_says_its_values_to_a_screen_reader() -> None:
    first = date(2026, 8, 31)
    points = [(first + timedelta(weeks=i), float(i % 5)) for i in range(12)]
    svg = str(weekly.chart("Arrests per week", points, EN, colour="#a4000f"))
    assert 'role="img"' in svg and 'aria-label="Arrests per week"' in svg
    desc = re.search(r"<desc>(.*?)</desc>", svg)
    assert desc is not None
    assert desc[1].startswith("Arrests per week, 31 Aug 2026 to 16 Nov 2026: 31 Aug 2026 0,")
    assert svg.count("<rect") == 12
    # Every third week labelled, the latest included: four labels fit 390 px.
    labels = re.findall(
        r'text-anchor="(?:middle|end)" fill="#1b1b1b">([0-9]+ [A-Za-z]+)</text>', svg
    )
    assert labels == ["14 Sep", "5 Oct", "26 Oct", "16 Nov"]
    # A name with markup in it is text, never markup.
    hostile = str(weekly.chart("<script>x</script>", points, EN, colour="#000"))
    assert "<script>" not in hostile
    assert str(weekly.chart("Empty", [], EN, colour="#000")).count("<rect") == 0
