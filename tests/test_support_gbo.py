"""Goal-Based Outcomes against hand-worked examples (domain.md §8).

Child A, threshold 2.45:
    goal 1: start 2, review 4, end 7  → change +5   (improved: 5 ≥ 2.45)
    goal 2: start 3,           end 4  → change +1   (not improved)
    goal 3: start 5, review 6         → no end score: excluded, counted as "start only"
    mean change over goals with both = (5 + 1) / 2 = 3.00 → the child improved.
Child B:
    goal 1: start 6, end 5 → -1; goal 2: start 1, end 4 → +3; mean (-1 + 3) / 2 = 1.00 → not.
Child C: one goal with only a start score → mean None, not counted either way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest
from django.db import IntegrityError, transaction

from safer.casefile.models import Person
from support.exceptions import InvalidRecord
from support.models import CypCase, GboGoal, GboScore, SupportPolicy
from support.selectors.gbo import gbo_cases_annotated, gbo_goals_annotated, gbo_outcome_for_case
from support.services.cyp import cyp_case_allocate, cyp_case_open
from support.services.gbo import gbo_goal_add, gbo_score_record
from tests.factories import ChildFactory, PersonaWorld
from tests.test_support_helpers import SupportWorld, build_support_world, days_ago, open_cyp_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def _goal_with_scores(
    sw: SupportWorld, case: CypCase, scores: list[tuple[str, int]], *, description: str = "Goal"
) -> GboGoal:
    goal = gbo_goal_add(
        case=case, description=description, agreed_on=days_ago(60), created_by=sw.cyp_worker
    )
    for offset, (time_point, score) in enumerate(scores):
        gbo_score_record(
            goal=goal,
            time_point=time_point,
            score=score,
            rated_by="child",
            scored_on=days_ago(60 - offset * 10),
            recorded_by=sw.cyp_worker,
        )
    return goal


def _another_child_case(sw: SupportWorld, name: str) -> CypCase:
    child = cast(Person, ChildFactory(household=sw.case_file.household, given_name=name))
    case = cyp_case_open(
        case_file=sw.case_file,
        child=child,
        opened_by=sw.world.spa_triage,
        provider=sw.world.organisations["cyp"],
    )
    return cyp_case_allocate(case=case, worker=sw.cyp_worker, allocated_by=sw.cyp_manager)


@pytest.fixture
def three_children(sw: SupportWorld) -> dict[str, CypCase]:
    a = open_cyp_case(sw)
    _goal_with_scores(sw, a, [("start", 2), ("review", 4), ("end", 7)])
    _goal_with_scores(sw, a, [("start", 3), ("end", 4)])
    _goal_with_scores(sw, a, [("start", 5), ("review", 6)])
    b = _another_child_case(sw, "Bea")
    _goal_with_scores(sw, b, [("start", 6), ("end", 5)])
    _goal_with_scores(sw, b, [("start", 1), ("end", 4)])
    c = _another_child_case(sw, "Cal")
    _goal_with_scores(sw, c, [("start", 4)])
    return {"a": a, "b": b, "c": c}


def test_change_per_goal_is_end_minus_start(three_children: dict[str, CypCase]) -> None:
    goals = gbo_goals_annotated(GboGoal.objects.filter(cyp_case=three_children["a"]))
    rows = {
        g.number: (g.start_score, g.end_score, g.change, g.review_count)  # type: ignore[attr-defined]
        for g in goals
    }
    assert rows == {1: (2, 7, 5, 1), 2: (3, 4, 1, 0), 3: (5, None, None, 1)}


def test_mean_change_per_child_excludes_goals_without_an_end_score(
    three_children: dict[str, CypCase],
) -> None:
    rows = {
        case.pk: case
        for case in gbo_cases_annotated(
            CypCase.objects.filter(pk__in=[c.pk for c in three_children.values()])
        )
    }
    a, b, c = (rows[three_children[k].pk] for k in "abc")
    assert (a.gbo_goals_with_both, a.gbo_goals_start_only, a.gbo_total_change) == (2, 1, 6)
    assert a.gbo_mean_change == Decimal("3")
    assert (b.gbo_goals_with_both, b.gbo_goals_start_only, b.gbo_mean_change) == (
        2,
        0,
        Decimal("1"),
    )
    assert (c.gbo_goals_with_both, c.gbo_goals_start_only, c.gbo_mean_change) == (0, 1, None)


def test_improved_children_are_a_filter_at_the_threshold(
    three_children: dict[str, CypCase],
) -> None:
    cases = gbo_cases_annotated(
        CypCase.objects.filter(pk__in=[c.pk for c in three_children.values()])
    )
    improved = set(cases.filter(gbo_mean_change__gte=Decimal("2.45")).values_list("pk", flat=True))
    assert improved == {three_children["a"].pk}


def test_outcome_for_case_marks_goals_and_child(three_children: dict[str, CypCase]) -> None:
    outcome = gbo_outcome_for_case(case=three_children["a"])
    assert [(g.start, g.end, g.change, g.improved) for g in outcome.goals] == [
        (2, 7, 5, True),
        (3, 4, 1, False),
        (5, None, None, None),
    ]
    assert [s.score for s in outcome.goals[0].scores] == [2, 4, 7]
    assert (outcome.goals_with_both, outcome.goals_start_only) == (2, 1)
    assert outcome.mean_change == Decimal("3")
    assert outcome.improved is True
    assert gbo_outcome_for_case(case=three_children["b"]).improved is False
    assert gbo_outcome_for_case(case=three_children["c"]).improved is None


def test_threshold_is_configurable_data(three_children: dict[str, CypCase]) -> None:
    SupportPolicy.objects.filter(authority__isnull=True).update(gbo_reliable_change=Decimal("1"))
    outcome = gbo_outcome_for_case(case=three_children["b"])
    assert outcome.threshold == Decimal("1")
    assert outcome.improved is True  # a mean of exactly the threshold counts


def test_at_most_three_goals(sw: SupportWorld) -> None:
    case = open_cyp_case(sw)
    for n in range(3):
        gbo_goal_add(
            case=case, description=f"Goal {n}", agreed_on=days_ago(1), created_by=sw.cyp_worker
        )
    with pytest.raises(InvalidRecord, match="at most 3 goals"):
        gbo_goal_add(
            case=case, description="Fourth", agreed_on=days_ago(1), created_by=sw.cyp_worker
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        GboGoal.objects.create(
            cyp_case=case,
            number=4,
            description="Around the service",
            agreed_on=days_ago(1),
            created_by=sw.cyp_worker,
        )


def test_scores_follow_the_start_review_end_order(sw: SupportWorld) -> None:
    case = open_cyp_case(sw)
    goal = gbo_goal_add(
        case=case, description="Sleep better", agreed_on=days_ago(30), created_by=sw.cyp_worker
    )

    def score(time_point: str, value: int, when: dt.date) -> GboScore:
        return gbo_score_record(
            goal=goal,
            time_point=time_point,
            score=value,
            rated_by="child",
            scored_on=when,
            recorded_by=sw.cyp_worker,
        )

    with pytest.raises(InvalidRecord, match="start score first"):
        score("end", 6, days_ago(1))
    score("start", 2, days_ago(20))
    with pytest.raises(InvalidRecord, match="already has a start score"):
        score("start", 3, days_ago(19))
    with pytest.raises(InvalidRecord, match="before the start score"):
        score("review", 3, days_ago(25))
    with pytest.raises(InvalidRecord, match="from 0 to 10"):
        score("review", 11, days_ago(10))
    score("review", 4, days_ago(10))
    score("end", 6, days_ago(1))
    with pytest.raises(InvalidRecord, match="already has its end score"):
        score("review", 7, days_ago(0))


def test_case_figures_join_each_goal_to_its_own_scores(
    three_children: dict[str, CypCase],
) -> None:
    """No sub-select over the whole score table (issue 17): one pass over the cases' goals."""
    cases = gbo_cases_annotated(
        CypCase.objects.filter(pk__in=[c.pk for c in three_children.values()])
    )
    sql = str(cases.query)
    assert "SELECT" not in sql.split(" FROM ", 1)[1]  # no sub-select anywhere
    # The goals once, then the start score and the end score, each joined on its goal.
    assert sql.count('LEFT OUTER JOIN "support_gbogoal"') == 1
    assert sql.count('LEFT OUTER JOIN "support_gboscore"') == 2
    totals = {c.pk: (c.gbo_goals_with_both, c.gbo_total_change) for c in cases}
    assert totals == {
        three_children["a"].pk: (2, 6),
        three_children["b"].pk: (2, 2),
        three_children["c"].pk: (0, None),
    }
