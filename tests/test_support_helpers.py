"""Helpers shared by the support tests (no tests here): the persona world's support side.

``world.own_case`` (Kent) is the household every test works on: the adult support team and the
CYP worker already hold ``work_on_casefile`` there. Cases are opened and moved only through the
services, as the application does.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import cast

from django.apps import apps as django_apps
from django.utils import timezone

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import CaseFile, HouseholdRole, Person
from support.models import AdultSupportCase, ClosureReason, CypCase
from support.services.adult import adult_support_case_allocate, adult_support_case_open
from support.services.cyp import cyp_case_allocate, cyp_case_open
from tests.factories import PersonaWorld, TeamFactory, UserFactory


def reference_data() -> None:
    """Put back the seeded reference data if a transactional test elsewhere flushed it."""
    importlib.import_module("support.migrations.0002_seed_reference_data").seed(django_apps, None)


@dataclass
class SupportWorld:
    world: PersonaWorld
    adult_worker: User
    adult_colleague: User
    cyp_worker: User
    cyp_manager: User
    adult_manager: User
    outsider: User
    child: Person  # the one child of the household in the persona world

    @property
    def case_file(self) -> CaseFile:
        return self.world.own_case


def build_support_world(world: PersonaWorld) -> SupportWorld:
    reference_data()
    kent = world.kent
    adult_colleague = cast(
        User,
        UserFactory(
            email="adult-colleague@example.org",
            full_name="Adult Colleague",
            organisation=world.organisations["adult"],
            team=TeamFactory(organisation=world.organisations["adult"], name="West Kent adults"),
            roles=[Role.ADULT_SUPPORT_WORKER],
            authorities=[kent],
        ),
    )
    cyp_manager = cast(
        User,
        UserFactory(
            email="cyp-manager@example.org",
            full_name="Cyp Manager",
            organisation=world.organisations["cyp"],
            roles=[Role.PROVIDER_MANAGER],
            authorities=[kent],
        ),
    )
    return SupportWorld(
        world=world,
        adult_worker=world.adult_support_worker,
        adult_colleague=adult_colleague,
        cyp_worker=world.cyp_worker,
        cyp_manager=cyp_manager,
        adult_manager=world.provider_manager,
        outsider=world.outsider,
        child=Person.objects.get(
            household_id=world.own_case.household_id, household_role=HouseholdRole.CHILD
        ),
    )


def open_adult_case(sw: SupportWorld, *, allocate: bool = True) -> AdultSupportCase:
    case = adult_support_case_open(
        case_file=sw.case_file,
        opened_by=sw.world.spa_triage,
        provider=sw.world.organisations["adult"],
    )
    if allocate:
        case = adult_support_case_allocate(
            case=case, worker=sw.adult_worker, allocated_by=sw.adult_manager
        )
    return case


def open_cyp_case(sw: SupportWorld, *, allocate: bool = True) -> CypCase:
    case = cyp_case_open(
        case_file=sw.case_file,
        child=sw.child,
        opened_by=sw.world.spa_triage,
        provider=sw.world.organisations["cyp"],
    )
    if allocate:
        case = cyp_case_allocate(case=case, worker=sw.cyp_worker, allocated_by=sw.cyp_manager)
    return case


def closure_reason(code: str = "no_longer_needed") -> ClosureReason:
    return ClosureReason.objects.get(code=code)


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def date_fields(name: str, day: dt.date) -> dict[str, str]:
    """A date as a GOV.UK date input posts it: three boxes, day, month and year."""
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}
