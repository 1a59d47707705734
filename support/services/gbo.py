"""Goal-Based Outcomes: up to three goals per child, each scored 0-10 at the start, at reviews
and at the end. Scores are stored as given; every change is computed in ``selectors.gbo``."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from safer.accounts.models import User
from support.exceptions import InvalidRecord
from support.models import (
    GBO_MAX_GOALS,
    CypCase,
    GboGoal,
    GboScore,
    GboTimePoint,
    GoalOwner,
    RatedBy,
)
from support.selectors.config import support_policy_for
from support.services import common


@transaction.atomic
def gbo_goal_add(
    *,
    case: CypCase,
    description: str,
    agreed_on: dt.date,
    created_by: User,
    owner: str = GoalOwner.CHILD,
) -> GboGoal:
    """Add a goal agreed with the child (or parent or carer). At most three per child: the case
    row is locked so two workers adding at once cannot both take the last place, and the
    database refuses a fourth number anyway."""
    locked = common.lock(case)
    common.check_allocated(locked, attempted="given a goal")
    if not description.strip():
        raise InvalidRecord("Write the goal in the child's words.")
    if owner not in GoalOwner.values:
        raise InvalidRecord("Say whose goal it is.")
    common.not_in_future(agreed_on, "The date a goal was agreed")
    taken = set(GboGoal.objects.filter(cyp_case=locked).values_list("number", flat=True))
    free = [n for n in range(1, GBO_MAX_GOALS + 1) if n not in taken]
    if not free:
        raise InvalidRecord(f"A child can have at most {GBO_MAX_GOALS} goals.")
    goal = GboGoal.objects.create(
        cyp_case=locked,
        number=free[0],
        description=description.strip()[:300],
        owner=owner,
        agreed_on=agreed_on,
        created_by=created_by,
    )
    common.event(
        locked,
        "gbo_goal_added",
        f"Goal {goal.number} agreed ({goal.get_owner_display().lower()})",
        actor=created_by,
        goal_id=str(goal.pk),
        number=goal.number,
    )
    return goal


@transaction.atomic
def gbo_score_record(
    *,
    goal: GboGoal,
    time_point: str,
    score: int,
    rated_by: str,
    scored_on: dt.date,
    recorded_by: User,
) -> GboScore:
    """Record a rating. One start score first; reviews and one end score after it, never before
    it in time; nothing after the end score. A review score sets the case's next review date."""
    locked = common.lock(goal.cyp_case)
    common.check_allocated(locked, attempted="given a goal score")
    if time_point not in GboTimePoint.values:
        raise InvalidRecord("Choose start, review or end.")
    if rated_by not in RatedBy.values:
        raise InvalidRecord("Say who gave the score.")
    if not 0 <= score <= 10:
        raise InvalidRecord("A goal score is from 0 to 10.")
    common.not_in_future(scored_on, "A score")
    scores = {s.time_point: s for s in GboScore.objects.filter(goal=goal).order_by("scored_on")}
    start = scores.get(GboTimePoint.START)
    if time_point == GboTimePoint.START:
        if start is not None:
            raise InvalidRecord(f"Goal {goal.number} already has a start score.")
    else:
        if start is None:
            raise InvalidRecord(f"Record goal {goal.number}'s start score first.")
        if scored_on < start.scored_on:
            raise InvalidRecord("A score cannot be dated before the start score.")
        if GboTimePoint.END in scores:
            raise InvalidRecord(f"Goal {goal.number} already has its end score.")
    recorded = GboScore.objects.create(
        goal=goal,
        time_point=time_point,
        score=score,
        rated_by=rated_by,
        scored_on=scored_on,
        recorded_by=recorded_by,
    )
    if time_point == GboTimePoint.REVIEW:
        weeks = support_policy_for(authority_id=locked.authority_id).review_interval_weeks
        locked.review_due_on = scored_on + dt.timedelta(weeks=weeks)
        common.save(locked, "review_due_on")
        common.next_due_refresh(locked)
    common.event(
        locked,
        "gbo_score",
        f"Goal {goal.number} scored {score}/10 at {recorded.get_time_point_display().lower()} "
        f"(by the {recorded.get_rated_by_display().lower()})",
        actor=recorded_by,
        goal_id=str(goal.pk),
        time_point=time_point,
        score=score,
    )
    return recorded
