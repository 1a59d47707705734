"""Support's demo data on the named demo cases, through the services, so every support journey
can start at once: a child's case waiting for the CYP provider manager to allocate, a child's
case and an adult case already with a worker (each team has a second worker to transfer to),
and an adult case waiting for allocation. Idempotent: a case is opened only when its person has
none."""

from __future__ import annotations

from collections.abc import Iterator

from safer.casefile.models import HouseholdRole, Person
from safer.demo import EAST_ADULTS, YOUNG_PEOPLE, DemoContext, demo_seeder
from support.models import AdultSupportCase, CypCase
from support.services.adult import adult_support_case_open
from support.services.cyp import cyp_case_open

# (case file, child's given name, allocated to the worker with this demo key, or "" to wait)
CYP_CASES = [
    ("SAFER-DEMO-0003", "Kit", ""),
    ("SAFER-DEMO-0003", "Lou", "cyp_worker"),
    ("SAFER-DEMO-0001", "Sam", "cyp_worker"),
]
# (case file, allocated to, or "" to wait)
ADULT_CASES = [("SAFER-DEMO-0001", "adult_support_worker"), ("SAFER-DEMO-0002", "")]


@demo_seeder
def support_demo(context: DemoContext) -> Iterator[str]:
    opened_by = context.users["spa_manager"]
    made = 0
    for reference, given_name, worker in CYP_CASES:
        case_file = context.case_files[reference]
        child = Person.objects.get(
            household_id=case_file.household_id,
            household_role=HouseholdRole.CHILD,
            given_name=given_name,
        )
        if CypCase.objects.filter(child=child).exists():
            continue
        cyp_case_open(
            case_file=case_file,
            child=child,
            opened_by=opened_by,
            worker=context.users[worker] if worker else None,
            team=context.teams[YOUNG_PEOPLE] if worker else None,
        )
        made += 1
    for reference, worker in ADULT_CASES:
        case_file = context.case_files[reference]
        if AdultSupportCase.objects.filter(case_file=case_file).exists():
            continue
        adult_support_case_open(
            case_file=case_file,
            opened_by=opened_by,
            worker=context.users[worker] if worker else None,
            team=context.teams[EAST_ADULTS] if worker else None,
        )
        made += 1
    waiting = CypCase.objects.filter(
        case_file__reference__startswith="SAFER-DEMO-", allocated_worker__isnull=True
    ).count()
    yield (
        f"Support: {len(CYP_CASES)} children's and {len(ADULT_CASES)} adult cases on the demo "
        f"case files ({made} opened); {waiting} child's case waiting for allocation."
    )
