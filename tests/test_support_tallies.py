"""The caseload tallies (``support.models.tallies``): kept by a trigger as the cases change, so
they equal the cases' counts after every service; rebuilt after a load with triggers off; and
read by the provider manager's caseload per worker (issue 17)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from safer.casefile.models import CaseFile, ContactChannel
from support.models import (
    AdultSupportCase,
    CaseloadTally,
    ContactOutcome,
    CypCase,
    ExitOutcome,
    TallyMeasure,
)
from support.selectors.tallies import caseload_per_worker, caseload_tally_drift
from support.services.adult import (
    adult_support_case_allocate,
    adult_support_case_close,
    adult_support_case_open,
    adult_support_case_transfer,
)
from support.services.common import contact_attempt_record
from support.services.tallies import caseload_tally_rebuild
from support.workspace import caseload_per_worker_panel
from tests.factories import (
    CaseFileFactory,
    HouseholdFactory,
    PersonaWorld,
    SafeContactRulesFactory,
)
from tests.test_support_helpers import (
    SupportWorld,
    build_support_world,
    closure_reason,
    open_adult_case,
    open_cyp_case,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def _adult_case(sw: SupportWorld, n: int, *, allocate: bool = True) -> AdultSupportCase:
    """An adult case on a case file of its own (one open adult case per case file)."""
    household = HouseholdFactory(district=sw.world.extra["districts"]["ashford"])
    case_file = cast(
        CaseFile, CaseFileFactory(household=household, reference=f"SAFER-TEST-TALLY-{n}")
    )
    SafeContactRulesFactory(case_file=case_file)
    case = adult_support_case_open(
        case_file=case_file, opened_by=sw.world.spa_triage, provider=sw.world.organisations["adult"]
    )
    if allocate:
        case = adult_support_case_allocate(
            case=case, worker=sw.adult_worker, allocated_by=sw.adult_manager
        )
    return case


def _tallied(**filters: Any) -> dict[tuple[str, str, dt.date | None], int]:
    return {
        (t.kind, t.measure, t.due_on): t.n
        for t in CaseloadTally.objects.filter(**filters).order_by("kind", "measure", "due_on")
    }


def _visible_counts(sw: SupportWorld, today: dt.date) -> tuple[int, int, int]:
    """The worker's open, contact-overdue and review-overdue cases the manager sees."""
    n = contact = review = 0
    for model in (AdultSupportCase, CypCase):
        theirs = (
            model.objects.visible_to(sw.adult_manager)
            .open()
            .filter(allocated_worker=sw.adult_worker, provider=sw.adult_manager.organisation)
        )
        n += theirs.count()
        contact += theirs.filter(
            first_contact_at__isnull=True, first_contact_due_on__lt=today
        ).count()
        review += theirs.filter(review_due_on__lt=today).count()
    return n, contact, review


def test_every_service_leaves_the_tallies_equal_to_the_cases(sw: SupportWorld) -> None:
    assert caseload_tally_drift() == []
    waiting = open_adult_case(sw, allocate=False)
    assert not CaseloadTally.objects.exists()  # nobody's case yet
    case = adult_support_case_allocate(
        case=waiting, worker=sw.adult_worker, allocated_by=sw.adult_manager
    )
    assert case.first_contact_due_on is not None
    tallied = _tallied(worker=sw.adult_worker)
    assert tallied[("adult", TallyMeasure.OPEN, None)] == 1
    assert tallied[("adult", TallyMeasure.CONTACT_DUE, case.first_contact_due_on)] == 1
    assert caseload_tally_drift() == []

    cyp = open_cyp_case(sw)
    assert _tallied(worker=sw.cyp_worker)[("cyp", TallyMeasure.OPEN, None)] == 1

    # First contact made: its clock stops counting, the case still open.
    contact_attempt_record(
        case=case,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.CONTACTED,
        recorded_by=sw.adult_worker,
    )
    tallied = _tallied(worker=sw.adult_worker)
    assert tallied[("adult", TallyMeasure.OPEN, None)] == 1
    assert not [key for key in tallied if key[1] == TallyMeasure.CONTACT_DUE]
    assert caseload_tally_drift() == []

    # Handed over: the counts move from one worker to the other.
    case, _handover = adult_support_case_transfer(
        case=case, worker=sw.adult_colleague, transferred_by=sw.adult_manager, handover_note="Leave"
    )
    assert _tallied(worker=sw.adult_worker) == {}
    assert _tallied(worker=sw.adult_colleague)[("adult", TallyMeasure.OPEN, None)] == 1
    assert caseload_tally_drift() == []

    # Closed: nothing left to count; a row that falls to zero is deleted.
    adult_support_case_close(
        case=case,
        reason=closure_reason(),
        exit_outcome=ExitOutcome.UNPLANNED,
        closed_by=sw.adult_manager,
    )
    assert _tallied(worker=sw.adult_colleague) == {}
    assert not CaseloadTally.objects.filter(n=0).exists()
    assert caseload_tally_drift() == []
    assert CaseloadTally.objects.filter(kind="cyp").exists()

    # A write outside the services (the admin, a data fix) moves the counts as well.
    CypCase.objects.filter(pk=cyp.pk).update(status="closed", closed_at=timezone.now())
    assert not CaseloadTally.objects.exists()
    assert caseload_tally_drift() == []


def test_a_load_with_the_triggers_off_is_found_and_rebuilt(sw: SupportWorld) -> None:
    open_adult_case(sw)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # as the bench loads
        try:
            _adult_case(sw, 1)
        finally:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    drift = caseload_tally_drift()
    assert {(d.measure, d.tallied, d.counted) for d in drift} >= {(TallyMeasure.OPEN, 1, 2)}
    assert caseload_tally_rebuild() == CaseloadTally.objects.count()
    assert caseload_tally_drift() == []
    assert _tallied(worker=sw.adult_worker)[("adult", TallyMeasure.OPEN, None)] == 2
    assert caseload_tally_rebuild() == CaseloadTally.objects.count()  # safe to run twice
    assert caseload_tally_drift() == []


def test_the_panel_shows_what_the_manager_would_count_case_by_case(
    sw: SupportWorld, django_assert_num_queries: Any
) -> None:
    """Days later, the clocks have run out: the overdue counts follow the day the page is
    read, and equal the counts of the cases the manager sees, read one by one."""
    open_adult_case(sw)
    contacted = _adult_case(sw, 1)
    contact_attempt_record(
        case=contacted,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.CONTACTED,
        recorded_by=sw.adult_worker,
    )
    _adult_case(sw, 2, allocate=False)  # waiting: nobody's
    with time_machine.travel(timezone.now() + dt.timedelta(days=400)):
        today = timezone.localdate()
        n, contact, review = _visible_counts(sw, today)
        assert (n, contact) == (2, 1)
        assert review >= 1
        with django_assert_num_queries(2):  # the manager's authorities, and the tallies
            panel = caseload_per_worker_panel(sw.adult_manager)
        assert [(row.text, list(row.cells)) for row in panel.rows] == [
            (sw.adult_worker.full_name, [str(n), str(contact), str(review)])
        ]
        assert [str(c.value) for c in panel.counts] == ["1", str(contact)]


def test_only_the_organisations_manager_reads_its_caseload_per_worker(sw: SupportWorld) -> None:
    open_adult_case(sw)
    assert [w.name for w in caseload_per_worker(user=sw.adult_manager)] == [
        sw.adult_worker.full_name
    ]
    personas = sw.world.personas
    for user in (sw.adult_worker, sw.cyp_manager, sw.world.spa_triage, personas["commissioner"]):
        assert caseload_per_worker(user=user) == [], user


def test_the_check_command_finds_drift_and_rebuilds(sw: SupportWorld) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    open_adult_case(sw)
    out = StringIO()
    call_command("caseload_tally_check", stdout=out)
    assert "No drift." in out.getvalue()
    CaseloadTally.objects.filter(measure=TallyMeasure.OPEN).update(n=5)
    with pytest.raises(CommandError, match="1 tally row"):
        call_command("caseload_tally_check", stdout=StringIO())
    call_command("caseload_tally_check", "--rebuild", stdout=StringIO())
    call_command("caseload_tally_check", stdout=out)
    assert caseload_tally_drift() == []


def test_the_nightly_repair_rebuilds_drifted_tallies_with_a_warning(
    sw: SupportWorld, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from safer.celery import app
    from support.tasks import caseload_tally_repair_task

    assert app.conf.beat_schedule["support-caseload-tally-repair"]["task"] == (
        caseload_tally_repair_task.name
    )
    open_adult_case(sw)
    assert caseload_tally_repair_task() == 0  # nothing to do, nothing written
    CaseloadTally.objects.filter(measure=TallyMeasure.OPEN).delete()
    with caplog.at_level(logging.WARNING, logger="support.services.tallies"):
        assert caseload_tally_repair_task() == 1
    assert "rebuilt" in caplog.text
    assert caseload_tally_drift() == []
    assert caseload_tally_repair_task() == 0  # twice is harmless
