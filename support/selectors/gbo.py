"""Goal-Based Outcomes, computed from the stored scores (domain.md §8, "GBO improvement").

- A goal's change is its end score - its start score; a goal without both has no change.
- A child's change is the mean change over their goals with both scores; goals with only a start
  score are left out of it and counted separately (``goals_start_only``).
- Improved: a change at or above the reliable-change threshold (``SupportPolicy``, default 2.45).

The per-child figures are one SQL query over any set of cases (``gbo_cases_annotated``), so
reporting can count "children with GBO improvement at exit" with a filter, not a loop.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    FilteredRelation,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, NullIf

from support.models import CypCase, GboGoal, GboScore, GboTimePoint, SupportCaseQuerySet
from support.selectors.config import support_policy_for

START, REVIEW, END = GboTimePoint.START, GboTimePoint.REVIEW, GboTimePoint.END
MEAN: DecimalField[Decimal, Decimal] = DecimalField(max_digits=8, decimal_places=4)


def gbo_threshold(*, authority_id: uuid.UUID | None) -> Decimal:
    return Decimal(support_policy_for(authority_id=authority_id).gbo_reliable_change)


def gbo_goals_annotated(goals: QuerySet[GboGoal]) -> QuerySet[GboGoal]:
    """Each goal with ``start_score``, ``end_score``, ``review_count`` and ``change``
    (end - start; NULL unless both exist). At most one start and one end score per goal is a
    database constraint, so ``Max`` picks *the* score."""
    return goals.annotate(
        start_score=Max("scores__score", filter=Q(scores__time_point=START)),
        end_score=Max("scores__score", filter=Q(scores__time_point=END)),
        review_count=Count("scores", filter=Q(scores__time_point=REVIEW)),
    ).annotate(change=F("end_score") - F("start_score"))


def gbo_cases_annotated(cases: SupportCaseQuerySet) -> SupportCaseQuerySet:
    """Each CYP case with ``gbo_goals_with_both``, ``gbo_goals_start_only``,
    ``gbo_total_change`` and ``gbo_mean_change`` (NULL when no goal has both scores).

    Filter with ``gbo_mean_change__gte=threshold`` for the children who improved.

    Conditional aggregation over one join, case → goal → its start score and its end score
    (each joined on the goal and its time point: ``gbo_score_goal_point_idx``). A goal has at
    most one start and one end score (a database constraint), so each goal is one row and
    nothing needs DISTINCT. The cost follows the cases asked about, not the score table: the
    earlier ``goal IN (SELECT goal_id FROM gboscore …)`` hashed every score in the table, and
    past ``work_mem`` re-scanned it per row (issue 17).
    """
    has_start = Q(gbo_start__isnull=False)
    has_end = Q(gbo_end__isnull=False)
    both = has_start & has_end
    return (
        cases.alias(
            gbo_start=FilteredRelation(
                "gbo_goals__scores", condition=Q(gbo_goals__scores__time_point=START)
            ),
            gbo_end=FilteredRelation(
                "gbo_goals__scores", condition=Q(gbo_goals__scores__time_point=END)
            ),
        )
        .annotate(
            gbo_goals_with_both=Count("gbo_goals", filter=both),
            gbo_goals_start_only=Count("gbo_goals", filter=has_start & ~has_end),
            gbo_total_change=Sum(F("gbo_end__score") - F("gbo_start__score"), filter=both),
        )
        .annotate(
            gbo_mean_change=Cast(F("gbo_total_change"), MEAN)
            / Cast(NullIf(F("gbo_goals_with_both"), 0), MEAN)
        )
    )


@dataclass(frozen=True)
class ScorePoint:
    time_point: str
    score: int
    scored_on: dt.date
    rated_by: str


@dataclass(frozen=True)
class GoalOutcome:
    goal: GboGoal
    start: int | None
    end: int | None
    change: int | None
    improved: bool | None  # None until the goal has both scores
    scores: tuple[ScorePoint, ...]

    @property
    def reviews(self) -> tuple[ScorePoint, ...]:
        return tuple(p for p in self.scores if p.time_point == REVIEW)


@dataclass(frozen=True)
class ChildOutcome:
    goals: tuple[GoalOutcome, ...]
    goals_with_both: int
    goals_start_only: int
    mean_change: Decimal | None
    threshold: Decimal

    @property
    def improved(self) -> bool | None:
        """None while no goal has both scores (the child is not counted either way)."""
        if self.mean_change is None:
            return None
        return self.mean_change >= self.threshold


def gbo_outcome_for_case(*, case: CypCase) -> ChildOutcome:
    """The goals, their scores and changes, and the child's mean change (three queries)."""
    threshold = gbo_threshold(authority_id=case.authority_id)
    goals = list(gbo_goals_annotated(GboGoal.objects.filter(cyp_case=case)).order_by("number"))
    points: dict[uuid.UUID, list[ScorePoint]] = {goal.pk: [] for goal in goals}
    for score in GboScore.objects.filter(goal__cyp_case=case).order_by("scored_on", "recorded_at"):
        points[score.goal_id].append(
            ScorePoint(score.time_point, score.score, score.scored_on, score.rated_by)
        )
    outcomes = tuple(
        GoalOutcome(
            goal=goal,
            start=goal.start_score,  # type: ignore[attr-defined]
            end=goal.end_score,  # type: ignore[attr-defined]
            change=goal.change,  # type: ignore[attr-defined]
            improved=None if goal.change is None else goal.change >= threshold,  # type: ignore[attr-defined]
            scores=tuple(points[goal.pk]),
        )
        for goal in goals
    )
    summary = gbo_cases_annotated(CypCase.objects.filter(pk=case.pk)).values(
        "gbo_goals_with_both", "gbo_goals_start_only", "gbo_mean_change"
    )[0]
    return ChildOutcome(
        goals=outcomes,
        goals_with_both=summary["gbo_goals_with_both"],
        goals_start_only=summary["gbo_goals_start_only"],
        mean_change=summary["gbo_mean_change"],
        threshold=threshold,
    )
