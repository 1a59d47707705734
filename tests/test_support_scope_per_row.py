"""The support cases' access check made row by row (issue 17): the same cases as before for
every persona, capped counts, and the manager's per-worker caseload paged."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from safer.access.grants import (
    granted_q,
    holders_for_organisation,
    holders_for_person,
    object_permission_grant,
    object_permission_revoke,
)
from safer.accounts.models import User
from safer.casefile.models import WORK_ON_CASEFILE, CaseFile, case_file_visible_q
from safer.paging import CappedCount, capped_counts, capped_counts_by
from support.models import AdultSupportCase, CypCase
from support.models.cases import READ_SUPPORT_NOTES
from support.selectors.caseload import team_overview, worker_caseload_for_manager
from support.services.adult import adult_support_case_allocate, adult_support_case_open
from support.workspace import caseload_per_worker_panel
from tests.factories import CaseFileFactory, HouseholdFactory, PersonaWorld, SafeContactRulesFactory
from tests.test_support_helpers import SupportWorld, build_support_world, open_cyp_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def _case_file(sw: SupportWorld, n: int) -> CaseFile:
    household = HouseholdFactory(district=sw.world.extra["districts"]["ashford"])
    case_file = cast(
        CaseFile, CaseFileFactory(household=household, reference=f"SAFER-TEST-ROW-{n}")
    )
    SafeContactRulesFactory(case_file=case_file)
    return case_file


def _everyone(sw: SupportWorld) -> dict[str, User]:
    people = dict(sw.world.personas)
    people.update(
        adult_colleague=sw.adult_colleague, cyp_manager=sw.cyp_manager, outsider=sw.outsider
    )
    return people


def _varied_cases(sw: SupportWorld) -> list[AdultSupportCase]:
    """Adult cases whose case files carry every kind of grant, and none."""
    adult = sw.world.organisations["adult"]
    cases = []
    for n in range(6):
        case = adult_support_case_open(
            case_file=_case_file(sw, n), opened_by=sw.world.spa_triage, provider=adult
        )
        if n in (1, 2, 3):
            case = adult_support_case_allocate(case=case, worker=sw.adult_worker, allocated_by=None)
        cases.append(case)
    # 0: the organisation's grant only; 1: allocated (worker and team grants); 2: allocated, the
    # organisation's grant withdrawn; 3: allocated, every grant withdrawn but one to a colleague;
    # 4: no grant at all; 5: the organisation's grant only, read shared with the CYP worker.
    object_permission_revoke(holder=adult, codename=WORK_ON_CASEFILE, obj=cases[2].case_file)
    for holder in (adult, sw.adult_worker, sw.adult_worker.team):
        assert holder is not None
        object_permission_revoke(holder=holder, codename=WORK_ON_CASEFILE, obj=cases[3].case_file)
    object_permission_grant(
        holder=sw.adult_colleague, codename=WORK_ON_CASEFILE, obj=cases[3].case_file
    )
    object_permission_revoke(holder=adult, codename=WORK_ON_CASEFILE, obj=cases[4].case_file)
    object_permission_grant(holder=sw.cyp_worker, codename=READ_SUPPORT_NOTES, obj=cases[5])
    return cases


def test_the_per_row_case_file_check_keeps_exactly_the_cases_of_the_in_sub_query(
    sw: SupportWorld,
) -> None:
    _varied_cases(sw)
    open_cyp_case(sw)
    for name, user in _everyone(sw).items():
        for model in (AdultSupportCase, CypCase):
            per_row = set(model.objects.filter(case_file_visible_q(user)).values_list("pk"))
            visible = CaseFile.objects.visible_to(user).values("pk")
            hashed = set(model.objects.filter(case_file_id__in=visible).values_list("pk"))
            assert per_row == hashed, (name, model.__name__)


def test_each_persona_sees_the_same_support_cases_as_the_rule_says(sw: SupportWorld) -> None:
    cases = _varied_cases(sw)
    people = _everyone(sw)
    index = {case.pk: n for n, case in enumerate(cases)}

    def seen(user: User, *, workable: bool = False) -> set[int]:
        rows = AdultSupportCase.objects
        queryset = rows.workable_by(user) if workable else rows.visible_to(user)
        return {index[pk] for pk in queryset.values_list("pk", flat=True)}

    # The manager: every case of the organisation whose case file an organisation holder
    # (itself, a team, a member) may work on: not 4, nor 2 and 3 since their grants went to
    # the worker, the team and a colleague — members, so those count.
    assert seen(people["provider_manager"]) == {0, 1, 2, 3, 5}
    # The worker: open cases allocated to them or their team, on case files they or their team
    # may work on.
    assert seen(people["adult_support_worker"]) == {1, 2}
    assert seen(people["adult_colleague"]) == set()
    # Shared to read with the CYP worker, but its case file is not theirs to see.
    assert seen(people["cyp_worker"]) == set()
    for name in ("spa_triage", "spa_manager", "contractor", "commissioner", "auditor", "outsider"):
        assert seen(people[name]) == set(), name
        assert seen(people[name], workable=True) == set(), name
    assert seen(people["provider_manager"], workable=True) == {0, 1, 2, 3, 5}


def test_per_row_grants_are_the_same_case_files(sw: SupportWorld) -> None:
    _varied_cases(sw)
    for user in _everyone(sw).values():
        for holders in (
            holders_for_person(user),
            holders_for_person(user, include_team=False, include_organisation=True),
            holders_for_organisation(user.organisation_id),
        ):
            granted = {
                per_row: set(
                    CaseFile.objects.filter(
                        granted_q(CaseFile, WORK_ON_CASEFILE, holders, per_row=per_row)
                    ).values_list("pk", flat=True)
                )
                for per_row in (False, True)
            }
            assert granted[True] == granted[False]


def test_capped_counts_stop_at_the_cap_in_one_statement(sw: SupportWorld) -> None:
    cases = _varied_cases(sw)
    everything = AdultSupportCase.objects.all()
    with CaptureQueriesContext(connection) as queries:
        counts = capped_counts(
            {
                "all": everything,
                "allocated": everything.filter(allocated_worker__isnull=False),
                "none": everything.none(),
            },
            cap=4,
        )
    # One counting statement, after the plan settings (``capped_plan``) in a savepoint here.
    statements = [q["sql"] for q in queries.captured_queries]
    assert [sql for sql in statements if "count(*)" in sql] == statements[-2:-1]
    assert "set_config('jit', 'off', true)" in statements[-3]
    assert counts == {
        "all": CappedCount(4, more=True),
        "allocated": CappedCount(3),
        "none": CappedCount(0),
    }
    assert str(counts["all"]) == "4+"
    assert str(counts["allocated"]) == "3"
    assert str(counts["all"] + counts["allocated"]) == "7+"
    assert not counts["none"]
    assert len(cases) == 6


def test_counts_by_value_planned_once_are_the_per_value_counts(
    sw: SupportWorld, django_assert_num_queries: Any
) -> None:
    """``capped_counts_by`` counts every value of every group in one statement, each group's
    count a sub-query correlated to the value: the counts equal those of the per-value
    querysets, capped alike, for every persona's ``visible_to``."""
    _varied_cases(sw)
    statuses = ["awaiting_allocation", "allocated", "closed", "no-such-status"]
    for key, user in _everyone(sw).items():
        groups = {
            model.__name__: (model.objects.visible_to(user), "status", statuses)
            for model in (AdultSupportCase, CypCase)
        }
        expected = {
            name: capped_counts({v: own.filter(status=v) for v in statuses}, cap=2)
            for name, (own, _field, _values) in groups.items()
        }
        with CaptureQueriesContext(connection) as statements:
            got = capped_counts_by(groups, cap=2)
        counting = [q for q in statements.captured_queries if "unnest(" in q["sql"]]
        assert len(counting) <= 1  # both groups, every value (none for a user who sees none)
        assert got == expected, key
    # A group with nothing to read (``none()``) counts nothing, and costs no statement.
    with django_assert_num_queries(0):
        nothing = capped_counts_by(
            {"none": (AdultSupportCase.objects.none(), "status", statuses)}, cap=2
        )
    assert nothing == {"none": dict.fromkeys(statuses, CappedCount(0))}


def test_counts_by_a_lookup_that_rewrites_the_value_are_counted_value_by_value(
    sw: SupportWorld,
) -> None:
    """A lookup whose SQL does not hold the value as one parameter (``startswith`` sends
    ``value%``) cannot be correlated to ``unnest``: that group falls back to one capped count
    per value, and the counts are the same."""
    _varied_cases(sw)
    prefixes = ["await", "alloc", "clos", "nothing"]
    own = AdultSupportCase.objects.visible_to(sw.adult_manager)
    with CaptureQueriesContext(connection) as statements:
        got = capped_counts_by({"adult": (own, "status__startswith", prefixes)}, cap=2)
    assert not [q for q in statements.captured_queries if "unnest(" in q["sql"]]
    expected = capped_counts({p: own.filter(status__startswith=p) for p in prefixes}, cap=2)
    assert got == {"adult": expected}
    assert str(got["adult"]["await"]) == "2"
    assert str(got["adult"]["alloc"]) == "2+"


def test_the_team_page_counts_what_the_manager_sees(
    sw: SupportWorld, django_assert_max_num_queries: Any
) -> None:
    _varied_cases(sw)
    with django_assert_max_num_queries(20):
        (adult,) = team_overview(user=sw.adult_manager, params=QueryDict())
    by_label = {label: str(n) for label, n in adult.counts}
    assert by_label == {
        "Waiting for allocation": "2",
        "Allocated": "3",
        "In contact": "0",
        "Active support": "0",
        "Closed": "0",
    }
    assert str(adult.waiting_count) == "2"
    assert str(adult.total_open) == "5"
    with django_assert_max_num_queries(12):
        panel = caseload_per_worker_panel(sw.adult_manager)
    assert [(row.text, row.cells[0]) for row in panel.rows] == [(sw.adult_worker.full_name, "3")]


def test_the_managers_view_of_a_worker_is_paged(
    sw: SupportWorld, django_assert_max_num_queries: Any
) -> None:
    cases = [c for c in _varied_cases(sw) if c.allocated_worker_id]
    pages = []
    for n in (1, 2):
        with django_assert_max_num_queries(12):
            worker, page = worker_caseload_for_manager(
                manager=sw.adult_manager,
                worker_id=sw.adult_worker.pk,
                params=QueryDict(f"page={n}"),
                per_page=2,
            )
        pages.append(page)
    assert worker == sw.adult_worker
    assert [len(p) for p in pages] == [2, 1]
    assert [p.has_next for p in pages] == [True, False]
    seen = [row.case.pk for p in pages for row in p]
    assert sorted(seen) == sorted(c.pk for c in cases)
    assert len(set(seen)) == 3


def test_address_checks_row_by_row_keep_the_same_case_files(sw: SupportWorld) -> None:
    """``address_visible_to(per_row=True)`` and ``case_file_address_visible_q`` (a contractor's
    job page and postcode search) keep exactly the case files of the hashed ``IN``."""
    from safer.casefile.models import VIEW_CASEFILE_ADDRESS, case_file_address_visible_q

    cases = _varied_cases(sw)
    contractor = sw.world.organisations["contractor"]
    # 0: work and address grants to the contractor; 1: the address alone (no work grant);
    # 2: work alone; 3: both, to the contractor's member directly.
    for n, codenames in (
        (0, (WORK_ON_CASEFILE, VIEW_CASEFILE_ADDRESS)),
        (1, (VIEW_CASEFILE_ADDRESS,)),
        (2, (WORK_ON_CASEFILE,)),
    ):
        for codename in codenames:
            object_permission_grant(holder=contractor, codename=codename, obj=cases[n].case_file)
    member = sw.world.personas["contractor"]
    for codename in (WORK_ON_CASEFILE, VIEW_CASEFILE_ADDRESS):
        object_permission_grant(holder=member, codename=codename, obj=cases[3].case_file)
    seen_somewhere = set()
    for name, user in _everyone(sw).items():
        hashed = set(CaseFile.objects.address_visible_to(user).values_list("pk", flat=True))
        per_row = set(
            CaseFile.objects.address_visible_to(user, per_row=True).values_list("pk", flat=True)
        )
        by_case = set(
            AdultSupportCase.objects.filter(case_file_address_visible_q(user)).values_list(
                "case_file_id", flat=True
            )
        )
        assert per_row == hashed, name
        visible = {
            flag: set(CaseFile.objects.visible_to(user, per_row=flag).values_list("pk", flat=True))
            for flag in (False, True)
        }
        assert visible[True] == visible[False], name
        assert by_case == {c.case_file_id for c in cases} & hashed, name
        seen_somewhere |= hashed
    contractor_sees = set(
        CaseFile.objects.address_visible_to(member, per_row=True).values_list("pk", flat=True)
    )
    ours = {c.case_file_id for c in cases}
    # Both grants needed: the work grant (visible at all) and the address grant.
    assert contractor_sees & ours == {cases[0].case_file_id, cases[3].case_file_id}
    assert seen_somewhere  # the SPA staff see every address of their scope
