"""A line chart as a hand-written SVG: admitted requests per second over a run, with the limits drawn.

Hand-written rather than matplotlib: the chart is a few lines and labels, an SVG is text (a re-run
shows as a readable diff, not a new binary), renders in any Markdown viewer, and the bench adds no
dependency to the lock that CI installs on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 56, 170, 36, 44
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[float, float]]


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = max(span, 1e-9) / ticks
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def line_chart(
    title: str, series: Sequence[Series], limits: Sequence[tuple[str, float]], x_label: str, y_label: str
) -> str:
    """The SVG text: one polyline per series, one dashed horizontal line per limit."""
    xs = [x for s in series for x, _ in s.points] or [0.0, 1.0]
    ys = [y for s in series for _, y in s.points] + [value for _, value in limits] or [1.0]
    x_max, y_max = max(max(xs), 1.0), max(max(ys), 1.0) * 1.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + x / x_max * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - y / y_max * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="20" font-size="14">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="black"/>',
    ]
    step = _nice_step(x_max)
    tick = 0.0
    while tick <= x_max + 1e-9:
        out.append(f'<text x="{px(tick):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{tick:g}</text>')
        tick += step
    step = _nice_step(y_max)
    tick = 0.0
    while tick <= y_max + 1e-9:
        out.append(f'<text x="{LEFT - 6}" y="{py(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        out.append(
            f'<line x1="{LEFT}" y1="{py(tick):.1f}" x2="{LEFT + plot_w}" y2="{py(tick):.1f}" stroke="#eee"/>'
        )
        tick += step
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="14" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2})">{escape(y_label)}</text>'
    )
    for label, value in limits:
        y = py(value)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" '
            'stroke="#888" stroke-dasharray="6 4"/>'
        )
        out.append(f'<text x="{LEFT + plot_w + 8}" y="{y + 4:.1f}" fill="#555">{escape(label)}</text>')
    for index, line in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in line.points)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
        y = TOP + plot_h - 16 * (len(series) - index)
        out.append(f'<rect x="{LEFT + plot_w + 8}" y="{y - 9}" width="12" height="3" fill="{colour}"/>')
        out.append(f'<text x="{LEFT + plot_w + 24}" y="{y - 4}">{escape(line.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
