"""Bar charts as inline SVG, rendered on the server: no script, nothing to load, and the
page's strict CSP holds (presentation attributes, never ``style``).

Every chart is drawn on a 360-unit-wide ``viewBox`` and scales to its container, so
its text stays 12 px or more on a 360 px phone and grows on a desktop. Text and axes
use ``currentColor`` so they follow the light or dark theme; each chart is an ``img``
with a title and a description that says the figures in words for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH = 360
BAR = "#0b5cad"
ACCENT = "#d9822b"
FONT = 'font-family="system-ui, sans-serif"'


def _frame(chart_id: str, title: str, summary: str, height: int, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" preserveAspectRatio="xMidYMin meet"'
        f' aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" {FONT}>'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(summary)}</desc>'
        f"{body}</svg>"
    )


def _label(text: str, limit: int = 15) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def horizontal_bars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    empty: str = "No data",
) -> Markup:
    """One labelled bar per row, value written after it: readable whatever the count;
    ``empty`` is written instead when there are no rows."""
    row_height, top = 30, 8
    label_width, value_width = 132, 48
    bar_space = WIDTH - label_width - value_width
    height = top * 2 + row_height * max(len(rows), 1)
    peak = max((value for _, value in rows), default=0) or 1
    parts = []
    for i, (name, value) in enumerate(rows):
        y = top + i * row_height
        width = max(0.0, bar_space * value / peak)
        shown = f"{value:g}{unit}"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 20}" text-anchor="end" font-size="15"'
            f' fill="currentColor">{escape(_label(name))}</text>'
            f'<rect x="{label_width}" y="{y + 6}" width="{width:.1f}" height="18" rx="2"'
            f' fill="{BAR}"/>'
            f'<text x="{label_width + width + 4:.1f}" y="{y + 20}" font-size="15"'
            f' fill="currentColor">{escape(shown)}</text>'
        )
    if not rows:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{top + 18}" text-anchor="middle" font-size="15"'
            f' fill="currentColor">{escape(empty)}</text>'
        )
    summary = "; ".join(f"{name}: {value:g}{unit}" for name, value in rows) or empty
    return _frame(chart_id, title, summary, height, "".join(parts))


def daily_bars(
    chart_id: str, title: str, days: Sequence[tuple[str, int]], *, highlight_last: bool = True
) -> Markup:
    """A column per day (``YYYY-MM-DD``, value), the peak written on the axis, the first
    and last days under it."""
    height, left, right, top, bottom = 200, 40, 8, 14, 30
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max((v for _, v in days), default=0)
    scale = peak or 1
    slot = plot_w / max(len(days), 1)
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" y2="{top + plot_h}"'
        f' stroke="currentColor" stroke-width="1"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"'
        f' stroke="currentColor" stroke-width="1"/>',
        f'<text x="{left - 4}" y="{top + 5}" text-anchor="end" font-size="14"'
        f' fill="currentColor">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="14"'
        f' fill="currentColor">0</text>',
    ]
    for i, (_, value) in enumerate(days):
        bar_h = plot_h * value / scale
        colour = ACCENT if highlight_last and i == len(days) - 1 else BAR
        parts.append(
            f'<rect x="{left + i * slot + slot * 0.15:.1f}" y="{top + plot_h - bar_h:.1f}"'
            f' width="{slot * 0.7:.1f}" height="{bar_h:.1f}" fill="{colour}"/>'
        )
    if days:
        parts.append(
            f'<text x="{left}" y="{height - 8}" font-size="14" fill="currentColor">'
            f"{escape(days[0][0][5:])}</text>"
            f'<text x="{WIDTH - right}" y="{height - 8}" text-anchor="end" font-size="14"'
            f' fill="currentColor">{escape(days[-1][0][5:])}</text>'
        )
    summary = ", ".join(f"{day}: {value}" for day, value in days)
    return _frame(chart_id, title, summary, height, "".join(parts))
