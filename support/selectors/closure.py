"""What a planned ending still needs: the exit measures not yet recorded, in words a worker can
act on. Read by the closure services (the rule) and by the closure page (said up front)."""

from __future__ import annotations

from support.models import (
    AdultSupportCase,
    CypCase,
    GboScore,
    GboTimePoint,
    GoalStatus,
    OutcomeMeasure,
    SupportGoal,
    TimePoint,
)


def adult_exit_measures_missing(*, case: AdultSupportCase) -> list[str]:
    """The outcome measures at exit, and a final status for every goal still "Working on it"."""
    missing: list[str] = []
    if not OutcomeMeasure.objects.filter(adult_case=case, time_point=TimePoint.CLOSE).exists():
        missing.append("the outcome measures at exit")
    open_goals = SupportGoal.objects.filter(adult_case=case, status=GoalStatus.OPEN).order_by(
        "created_on", "id"
    )
    for goal in open_goals.only("description"):
        missing.append(
            f"a final status for the goal “{goal.description}” (it is still "
            f"“{GoalStatus.OPEN.label}”: mark it achieved or no longer a goal)"
        )
    return missing


def cyp_exit_measures_missing(*, case: CypCase) -> list[str]:
    """An end score for every goal (GBO); a case with no goal at all has no outcome to show."""
    goals = list(case.gbo_goals.order_by("number").only("number", "description"))
    if not goals:
        return ["at least one goal (GBO) with its start and end scores"]
    scored = set(
        GboScore.objects.filter(goal__in=goals, time_point=GboTimePoint.END).values_list(
            "goal_id", flat=True
        )
    )
    return [
        f"an end score for goal {goal.number} “{goal.description}”"
        for goal in goals
        if goal.pk not in scored
    ]
