"""Small SVG charts drawn on the server: no chart library, no script, readable on a phone.

Each chart is a ``viewBox`` drawing 320 units wide shown at the page's width,
so on a 390-pixel phone one unit is about one pixel and the 13-unit labels
stay legible. Every chart carries a <title> and an aria-label, and the page
shows the same numbers in a table next to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from markupsafe import Markup

WIDTH = 320
PALETTE = {
    "courthouse_arrest": "#a4000f",
    "sighting": "#d97706",
    "call_in": "#6d28d9",
    "watch_shift": "#0b5cad",
    "watched": "#0b5cad",
}


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _svg(height: float, title: str, body: str, description: str = "") -> Markup:
    label = escape(title)
    desc = f"<desc>{escape(description)}</desc>" if description else ""
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif"><title>{label}</title>{desc}{body}</svg>'
    )


def bars(rows: Sequence[tuple[str, float]], *, title: str, colour: str = "#0b5cad") -> Markup:
    """Horizontal bars, one per row: the label above its bar, the value at its end."""
    step, top = 34, 4
    peak = max((value for _, value in rows), default=0) or 1
    parts = []
    for i, (label, value) in enumerate(rows):
        y = top + i * step
        length = (WIDTH - 60) * value / peak
        parts.append(
            f'<text x="0" y="{y + 12}" font-size="13" fill="#1b1b1b">{escape(label)}</text>'
            f'<rect x="0" y="{y + 16}" width="{max(length, 1.5):.1f}" height="12" rx="2" '
            f'fill="{colour}"/>'
            f'<text x="{length + 5:.1f}" y="{y + 27}" font-size="13" fill="#1b1b1b">'
            f"{_number(value)}</text>"
        )
    return _svg(top + max(len(rows), 1) * step, title, "".join(parts))


def columns(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    legend: dict[str, str],
    stacked: bool = True,
) -> Markup:
    """Columns per period day, the series stacked, with a legend underneath."""
    left, top, plot_h = 30, 8, 150
    count = max(len(labels), 1)
    slot = (WIDTH - left) / count
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 10}" font-size="11" text-anchor="end">{_number(peak)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="11" text-anchor="end">0</text>',
    ]
    for i, label in enumerate(labels):
        base: float = top + plot_h
        x = left + i * slot + slot * 0.15
        for name, values in series.items():
            h = plot_h * values[i] / peak
            if h > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{slot * 0.7:.1f}" '
                    f'height="{h:.1f}" fill="{PALETTE.get(name, "#555")}">'
                    f"<title>{escape(label)}: {_number(values[i])} {escape(legend[name])}</title></rect>"
                )
                base -= h
        # Label every day of a week, every fifth of a month.
        if count <= 8 or i % 5 == 0:
            parts.append(
                f'<text x="{left + (i + 0.5) * slot:.1f}" y="{top + plot_h + 15}" font-size="11" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    y: float = top + plot_h + 34
    x = float(left)
    for name, text in legend.items():
        if x + 15 + 7 * len(text) > WIDTH:  # wrap the legend on narrow charts
            x, y = float(left), y + 17
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10}" width="11" height="11" fill="{PALETTE.get(name, "#555")}"/>'
            f'<text x="{x + 15:.1f}" y="{y}" font-size="12">{escape(text)}</text>'
        )
        x += 22 + 7 * len(text)
    return _svg(y + 8, title, "".join(parts))


def weekly(
    points: Sequence[tuple[date, float]],
    *,
    title: str,
    description: str,
    label: Callable[[date], str],
    colour: str = "#a4000f",
) -> Markup:
    """One column per week, its value on top: the last weeks of one figure.

    ``points`` are (week's Monday, value), oldest first, as a courthouse's or
    a jurisdiction's trend gives them. ``description`` says every value in
    words (the <desc> a screen reader reads); ``label`` names a week under its
    column. Every third week is labelled so 12 labels never overlap at 390 px.
    """
    left, top, plot_h = 6, 18, 130
    count = max(len(points), 1)
    slot = (WIDTH - left) / count
    peak = max((value for _, value in points), default=0) or 1
    base = top + plot_h
    parts = [f'<line x1="{left}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#999"/>']
    for i, (monday, value) in enumerate(points):
        h = plot_h * value / peak
        centre = left + (i + 0.5) * slot
        shown = escape(label(monday))
        parts.append(
            f'<rect x="{left + i * slot + slot * 0.15:.1f}" y="{base - h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{max(h, 0):.1f}" fill="{colour}">'
            f"<title>{shown}: {_number(value)}</title></rect>"
            f'<text x="{centre:.1f}" y="{base - h - 4:.1f}" font-size="11" '
            f'text-anchor="middle" fill="#1b1b1b">{_number(value)}</text>'
        )
        if (count - 1 - i) % 3 == 0:  # the latest week always labelled
            # The last label ends at the right edge rather than being cut by it.
            x, anchor = (WIDTH - 3, "end") if i == count - 1 else (centre, "middle")
            parts.append(
                f'<text x="{x:.1f}" y="{base + 15}" font-size="11" '
                f'text-anchor="{anchor}" fill="#1b1b1b">{shown}</text>'
            )
    return _svg(base + 22, title, "".join(parts), description)
