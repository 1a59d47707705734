"""The GBO chart: each goal's scores over time, as plain SVG geometry for the template.

No JavaScript and no inline styles (the CSP allows neither): the template draws lines and marks
from these numbers with SVG presentation attributes. Goals differ by line pattern and mark shape
as well as colour, so the chart does not rely on colour alone; the data table under it carries
the same figures for screen readers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from support.selectors.gbo import ChildOutcome

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 24, 16, 48
# GOV.UK palette: blue, orange, green; patterns solid, dashed, dotted.
STYLES = (("#1d70b8", "", "circle"), ("#f47738", "8 4", "square"), ("#00703c", "2 4", "ring"))


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    score: int
    label: str  # "Start 3/10 on 2 May 2026"

    @property
    def corner_x(self) -> float:  # a square mark's top-left corner
        return round(self.x - 6, 1)

    @property
    def corner_y(self) -> float:
        return round(self.y - 6, 1)


@dataclass(frozen=True)
class Series:
    number: int
    colour: str
    dash: str
    shape: str
    points: str  # "x1,y1 x2,y2" for a polyline
    marks: tuple[Mark, ...]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    anchor: str = "middle"  # SVG text-anchor: the date labels at the ends stay inside the chart


@dataclass(frozen=True)
class GboChart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    series: tuple[Series, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    threshold_note: str


def gbo_chart(outcome: ChildOutcome) -> GboChart | None:
    """None when no goal has a score yet (the page says so instead of drawing an empty chart)."""
    dates = [p.scored_on for g in outcome.goals for p in g.scores]
    if not dates:
        return None
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        if first == last:
            return LEFT + plot_w / 2
        return round(LEFT + plot_w * (day - first).days / span, 1)

    def y(score: int) -> float:
        return round(TOP + plot_h * (10 - score) / 10, 1)

    series = []
    for index, goal in enumerate(outcome.goals):
        if not goal.scores:
            continue
        colour, dash, shape = STYLES[index % len(STYLES)]
        marks = tuple(
            Mark(
                x=x(p.scored_on),
                y=y(p.score),
                score=p.score,
                label=f"{p.time_point.title()} {p.score}/10 on {p.scored_on:%-d %b %Y}",
            )
            for p in goal.scores
        )
        series.append(
            Series(
                number=goal.goal.number,
                colour=colour,
                dash=dash,
                shape=shape,
                points=" ".join(f"{m.x},{m.y}" for m in marks),
                marks=marks,
            )
        )
    x_ticks: tuple[Tick, ...] = (Tick(x(first), f"{first:%-d %b %Y}"),)
    if last != first:
        x_ticks = (
            Tick(x(first), f"{first:%-d %b %Y}", "start"),
            Tick(x(last), f"{last:%-d %b %Y}", "end"),
        )
    return GboChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=HEIGHT - BOTTOM,
        series=tuple(series),
        y_ticks=tuple(Tick(y(s), str(s)) for s in range(0, 11, 2)),
        x_ticks=x_ticks,
        threshold_note=f"Improvement means a change of at least {outcome.threshold} points.",
    )
