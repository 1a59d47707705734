"""Bar charts as plain SVG markup, for the dashboard pages and the PDFs alike.

Presentation attributes only (no ``style``, no script: the CSP allows neither). Text is real SVG
text, never an image of text; every chart sits next to a table with the same figures, which is
what screen readers are pointed to. A hidden ("<5") value is drawn as no bar with its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 24, 56
BAR = "#1d70b8"
TARGET = "#d4351c"
AXIS = "#505a5f"
FONT = "DejaVu Sans, Arial, sans-serif"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: hidden or not available (no bar)
    display: str  # what is written above the bar, e.g. "12", "<5", "£1,200.00"


def bar_chart(
    *,
    title: str,
    bars: Sequence[Bar],
    target: float | None = None,
    target_label: str = "",
    maximum: float | None = None,
    describedby: str = "",
) -> str:
    """An SVG bar chart. ``describedby`` names the id of the table holding the same figures."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    values = [b.value for b in bars if b.value is not None]
    top = max([*values, target or 0, maximum or 0, 1.0])
    step = plot_w / max(len(bars), 1)
    bar_w = min(48.0, step * 0.6)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{_attr(title)}"'
        + (f' aria-describedby="{_attr(describedby)}"' if describedby else "")
        + f' font-family="{FONT}" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        f'stroke="{AXIS}" stroke-width="1"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{AXIS}" '
        'stroke-width="1"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" fill="{AXIS}">'
        f"{escape(_short(top))}</text>",
        f'<text x="{LEFT - 6}" y="{TOP + plot_h + 4}" text-anchor="end" fill="{AXIS}">0</text>',
    ]
    for index, bar in enumerate(bars):
        centre = LEFT + step * index + step / 2
        if bar.value is not None and bar.value > 0:
            height = plot_h * bar.value / top
            parts.append(
                f'<rect x="{centre - bar_w / 2:.1f}" y="{TOP + plot_h - height:.1f}" '
                f'width="{bar_w:.1f}" height="{height:.1f}" fill="{BAR}"/>'
            )
            label_y = TOP + plot_h - height - 4
        else:
            label_y = TOP + plot_h - 4
        parts.append(
            f'<text x="{centre:.1f}" y="{label_y:.1f}" text-anchor="middle" fill="#0b0c0c">'
            f"{escape(bar.display)}</text>"
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
            f'fill="#0b0c0c">{escape(_fit(bar.label, step))}</text>'
        )
    if target is not None:
        y = TOP + plot_h - plot_h * target / top
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{TARGET}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" text-anchor="end" fill="{TARGET}">'
            f"{escape(target_label or f'Target {target:g}')}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _fit(label: str, width: float) -> str:
    """A label short enough for its bar's slot (the table beside the chart has it in full)."""
    label = label.split(" (")[0]
    room = max(4, int(width / 6.5))
    return label if len(label) <= room else label[: room - 1].rstrip() + "…"


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}m"
    if value >= 10_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"
