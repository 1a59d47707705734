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
    chart_id: str = "",
    description: str = "",
) -> str:
    """An SVG bar chart. ``describedby`` names the id of the table holding the same figures.

    The chart is one image to assistive technology (``role="img"``): its ``<title>`` names it
    and its ``<desc>`` says what it shows and where the figures are (the table), each read
    through ``aria-labelledby``/``aria-describedby`` when ``chart_id`` gives them ids.
    """
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    values = [b.value for b in bars if b.value is not None]
    top = max([*values, target or 0, maximum or 0, 1.0])
    step = plot_w / max(len(bars), 1)
    bar_w = min(48.0, step * 0.6)
    description = description or _describe(bars, target_label)
    title_id, desc_id = (f"{chart_id}-title", f"{chart_id}-desc") if chart_id else ("", "")
    labelling = (
        f' aria-labelledby="{_attr(title_id)}"' if chart_id else f' aria-label="{_attr(title)}"'
    )
    described = " ".join(i for i in (desc_id, describedby) if i)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img"{labelling}'
        + (f' aria-describedby="{_attr(described)}"' if described else "")
        + f' font-family="{FONT}" font-size="12">',
        f"<title{_id(title_id)}>{escape(title)}</title>",
        f"<desc{_id(desc_id)}>{escape(description)}</desc>",
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


def _describe(bars: Sequence[Bar], target_label: str) -> str:
    """A sentence a screen reader can use: what the bars are and every figure, in order."""
    if not bars:
        return "Bar chart with no figures."
    figures = "; ".join(f"{bar.label}: {bar.display}" for bar in bars)
    line = f" A line marks {target_label}." if target_label else ""
    return f"Bar chart, {len(bars)} bars. {figures}.{line} The same figures are in the table."


def _id(value: str) -> str:
    return f' id="{_attr(value)}"' if value else ""


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
