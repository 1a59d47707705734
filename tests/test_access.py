"""The access model: who sees which case file, the seam, grants and break-glass."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from safer.access.grants import granted_q, holders_for_person
from safer.access.seams import get_for_user_or_404
from safer.access.services import (
    BREAK_GLASS_DURATION,
    AccessGrantError,
    BreakGlassRefused,
    casefile_access_grant,
    casefile_access_revoke,
    casefile_break_glass_open,
)
from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import (
    VIEW_CASEFILE_ADDRESS,
    WORK_ON_CASEFILE,
    CaseEvent,
    CaseFile,
    Household,
    Perpetrator,
    Person,
)
from safer.casefile.selectors import casefile_access_for, casefile_get_for_user
from tests.factories import (
    CaseFileFactory,
    ExpiredBreakGlassGrantFactory,
    PersonaWorld,
    TeamFactory,
    UserFactory,
)

REASON = "Police called: the survivor reported a break-in tonight"

# Which of the three world case files each persona sees (docs/security.md, "What each role sees").
EXPECTED_VISIBLE = {
    "referrer": set(),
    "spa_triage": {"own", "other_org"},
    "spa_manager": {"own", "other_org"},
    "contractor": {"own"},
    "adult_support_worker": {"own"},
    "cyp_worker": {"own"},
    "provider_manager": {"own"},
    "commissioner": set(),
    "auditor": set(),
    "system_admin": set(),
    "outsider": {"other_org"},
    "medway_spa_triage": {"other_authority"},
    "medway_spa_manager": {"other_authority"},
}


def _visible(world: PersonaWorld, persona: str) -> set[str]:
    ids = set(CaseFile.objects.visible_to(world.personas[persona]).values_list("id", flat=True))
    return {scope for scope, case in world.cases.items() if case.id in ids}


def test_each_persona_sees_exactly_the_case_files_of_its_rule(world: PersonaWorld) -> None:
    seen = {persona: _visible(world, persona) for persona in EXPECTED_VISIBLE}
    assert seen == EXPECTED_VISIBLE


@pytest.mark.django_db
def test_anonymous_sees_no_case_file() -> None:
    CaseFileFactory.create()
    assert not CaseFile.objects.visible_to(AnonymousUser()).exists()


def test_deactivated_user_sees_nothing(world: PersonaWorld) -> None:
    spa_triage = world.spa_triage
    spa_triage.is_active = False
    spa_triage.save(update_fields=["is_active"])
    assert not CaseFile.objects.visible_to(spa_triage).exists()


def test_commissioner_gets_no_person_level_record(world: PersonaWorld) -> None:
    commissioner = world.commissioner
    for model in (CaseFile, Household, Person, Perpetrator):
        assert not model.objects.visible_to(commissioner).exists(), model
    for case_file in world.cases.values():
        with pytest.raises(Http404):
            casefile_get_for_user(user=commissioner, case_file_id=case_file.id)
    assert not AccessLog.objects.filter(user=commissioner).exists()


def test_medway_spa_staff_cannot_see_kent_cases_nor_kent_staff_medway(
    world: PersonaWorld,
) -> None:
    for persona, case_file in (
        ("medway_spa_triage", world.own_case),
        ("medway_spa_manager", world.other_org_case),
        ("spa_triage", world.other_authority_case),
    ):
        with pytest.raises(Http404):
            casefile_get_for_user(user=world.personas[persona], case_file_id=case_file.id)


def test_seam_gives_the_same_404_for_missing_and_not_yours(world: PersonaWorld) -> None:
    worker = world.adult_support_worker
    with pytest.raises(Http404) as missing:
        casefile_get_for_user(user=worker, case_file_id=uuid.uuid4())
    with pytest.raises(Http404) as not_yours:
        casefile_get_for_user(user=worker, case_file_id=world.other_org_case.id)
    with pytest.raises(Http404) as malformed:
        casefile_get_for_user(user=worker, case_file_id="not-a-uuid")
    assert str(missing.value) == str(not_yours.value) == str(malformed.value)
    assert not AccessLog.objects.filter(user=worker).exists()


def test_viewing_a_case_writes_exactly_one_access_log_row(world: PersonaWorld) -> None:
    worker = world.adult_support_worker
    case_file = casefile_get_for_user(user=worker, case_file_id=world.own_case.id)
    assert case_file == world.own_case
    rows = AccessLog.objects.filter(user=worker)
    assert rows.count() == 1
    row = rows.get()
    assert (row.action, row.record_type, row.record_id) == (
        AccessAction.VIEW,
        "casefile.casefile",
        str(world.own_case.id),
    )
    assert row.reason == ""


def test_get_for_user_or_404_needs_a_scoped_queryset_and_hides_bad_ids(
    world: PersonaWorld,
) -> None:
    scoped = CaseFile.objects.visible_to(world.cyp_worker)
    assert get_for_user_or_404(scoped, world.own_case.id) == world.own_case
    for pk in (world.other_org_case.id, uuid.uuid4(), "1; drop table", None):
        with pytest.raises(Http404):
            get_for_user_or_404(scoped, pk)


# --- Scoping by authority ----------------------------------------------------------------------


def test_an_authority_the_organisation_does_not_serve_grants_nothing(world: PersonaWorld) -> None:
    # Assigned Medway, but the adult provider works only for Kent: still only Kent's cases.
    worker = world.adult_support_worker
    worker.authorities.add(world.medway)
    casefile_access_grant(
        case_file=world.own_case, permission=WORK_ON_CASEFILE, granted_by=None, user=worker
    )
    assert _visible(world, "adult_support_worker") == {"own"}


def test_organisation_losing_an_authority_withdraws_it_from_its_staff(
    world: PersonaWorld,
) -> None:
    world.organisations["spa"].authorities.remove(world.kent)
    assert _visible(world, "spa_triage") == set()
    assert _visible(world, "medway_spa_triage") == {"other_authority"}


def test_user_without_an_organisation_sees_nothing(world: PersonaWorld) -> None:
    loner = UserFactory.create(organisation=None, roles=["spa_triage"], authorities=[world.kent])
    assert not CaseFile.objects.visible_to(loner).exists()


# --- Grants ------------------------------------------------------------------------------------


def test_grant_and_revoke_are_audited_and_idempotent(world: PersonaWorld) -> None:
    worker, manager = world.outsider, world.spa_manager
    case_file = world.own_case
    assert casefile_access_grant(
        case_file=case_file, permission=WORK_ON_CASEFILE, granted_by=manager, user=worker
    )
    assert not casefile_access_grant(
        case_file=case_file, permission="casefile.work_on_casefile", granted_by=manager, user=worker
    )
    assert case_file in CaseFile.objects.visible_to(worker)
    assert casefile_access_revoke(
        case_file=case_file, permission=WORK_ON_CASEFILE, revoked_by=manager, user=worker
    )
    assert not casefile_access_revoke(
        case_file=case_file, permission=WORK_ON_CASEFILE, revoked_by=manager, user=worker
    )
    assert case_file not in CaseFile.objects.visible_to(worker)
    events = list(
        CaseEvent.objects.filter(case_file=case_file, actor=manager).values_list("kind", "data")
    )
    expected_data = {
        "permission": WORK_ON_CASEFILE,
        "holder_type": "user",
        "holder_id": str(worker.id),
    }
    assert events == [("access_granted", expected_data), ("access_revoked", expected_data)]


def test_team_grant_follows_team_membership(world: PersonaWorld) -> None:
    worker = world.adult_support_worker
    assert _visible(world, "adult_support_worker") == {"own"}
    worker.team = TeamFactory.create(
        organisation=world.organisations["adult"], name="West Kent adults"
    )
    worker.save(update_fields=["team"])
    assert _visible(world, "adult_support_worker") == set()


def test_support_worker_does_not_see_cases_held_by_the_whole_organisation(
    world: PersonaWorld,
) -> None:
    # Waiting for allocation: the provider holds it, its managers see it, its workers do not.
    case_file = CaseFileFactory.create(household__district=world.extra["districts"]["ashford"])
    casefile_access_grant(
        case_file=case_file,
        permission=WORK_ON_CASEFILE,
        granted_by=None,
        organisation=world.organisations["adult"],
    )
    assert case_file in CaseFile.objects.visible_to(world.provider_manager)
    assert case_file not in CaseFile.objects.visible_to(world.adult_support_worker)


def test_grant_to_a_holder_outside_the_case_authority_is_refused(world: PersonaWorld) -> None:
    with pytest.raises(AccessGrantError):
        casefile_access_grant(
            case_file=world.other_authority_case,
            permission=WORK_ON_CASEFILE,
            granted_by=None,
            team=world.teams["adult"],
        )
    assert (
        not CaseEvent.objects.filter(
            case_file=world.other_authority_case, kind="access_granted", actor=None
        )
        .exclude(data__holder_id=str(world.teams["medway_support"].id))
        .exists()
    )


@pytest.mark.parametrize(
    ("permission", "holders"),
    [
        ("delete_casefile", "user"),
        (WORK_ON_CASEFILE, "none"),
        (WORK_ON_CASEFILE, "two"),
    ],
)
def test_grant_rejects_unknown_permissions_and_ambiguous_holders(
    world: PersonaWorld, permission: str, holders: str
) -> None:
    kwargs: dict[str, Any] = {}
    if holders in ("user", "two"):
        kwargs["user"] = world.outsider
    if holders == "two":
        kwargs["team"] = world.teams["outsider"]
    with pytest.raises(AccessGrantError):
        casefile_access_grant(
            case_file=world.own_case, permission=permission, granted_by=None, **kwargs
        )


def test_contractor_loses_the_address_when_the_grant_is_revoked(world: PersonaWorld) -> None:
    contractor, case_file = world.contractor, world.own_case
    assert casefile_access_for(user=contractor, case_file=case_file).can_see_address
    assert Household.objects.visible_to(contractor).filter(pk=case_file.household_id).exists()
    casefile_access_revoke(
        case_file=case_file,
        permission=VIEW_CASEFILE_ADDRESS,
        revoked_by=None,
        organisation=world.organisations["contractor"],
    )
    assert not casefile_access_for(user=contractor, case_file=case_file).can_see_address
    assert not Household.objects.visible_to(contractor).exists()
    # Still on the job (work_on_casefile), only the address is gone.
    assert case_file in CaseFile.objects.visible_to(contractor)


def test_only_spa_staff_see_the_perpetrator(world: PersonaWorld) -> None:
    for persona in EXPECTED_VISIBLE:
        sees = Perpetrator.objects.visible_to(world.personas[persona]).exists()
        assert sees == persona.startswith(("spa_", "medway_spa_")), persona


def test_support_worker_sees_no_address_without_an_address_grant(world: PersonaWorld) -> None:
    worker = world.adult_support_worker
    assert not casefile_access_for(user=worker, case_file=world.own_case).can_see_address
    casefile_access_grant(
        case_file=world.own_case,
        permission=VIEW_CASEFILE_ADDRESS,
        granted_by=None,
        team=world.teams["adult"],
    )
    assert casefile_access_for(user=worker, case_file=world.own_case).can_see_address


def test_granted_q_with_no_holders_matches_nothing(world: PersonaWorld) -> None:
    from safer.access.grants import NOBODY

    assert not CaseFile.objects.filter(granted_q(CaseFile, WORK_ON_CASEFILE, NOBODY)).exists()
    holders = holders_for_person(world.cyp_worker)
    assert list(CaseFile.objects.filter(granted_q(CaseFile, WORK_ON_CASEFILE, holders))) == [
        world.own_case
    ]


# --- Break-glass -------------------------------------------------------------------------------


def test_break_glass_opens_an_out_of_scope_case_for_an_hour_and_logs_the_reason(
    world: PersonaWorld,
) -> None:
    manager, case_file = world.medway_spa_manager, world.own_case
    with pytest.raises(Http404):
        casefile_get_for_user(user=manager, case_file_id=case_file.id)

    grant = casefile_break_glass_open(user=manager, case_file=case_file, reason=REASON)

    assert grant is not None
    assert grant.expires_at - grant.opened_at == BREAK_GLASS_DURATION
    log = AccessLog.objects.get(user=manager, action=AccessAction.BREAK_GLASS)
    assert (log.record_id, log.reason) == (str(case_file.id), REASON)
    event = CaseEvent.objects.get(case_file=case_file, kind="break_glass_opened")
    assert REASON not in event.summary  # the reason is for the auditor, not the case timeline

    casefile_get_for_user(user=manager, case_file_id=case_file.id)
    view = AccessLog.objects.get(user=manager, action=AccessAction.VIEW)
    assert view.reason == "Under break-glass"
    access = casefile_access_for(user=manager, case_file=case_file)
    assert access.break_glass == grant
    assert access.can_see_perpetrator

    with time_machine.travel(grant.expires_at + dt.timedelta(seconds=1)):
        with pytest.raises(Http404):
            casefile_get_for_user(user=manager, case_file_id=case_file.id)
        assert not casefile_access_for(user=manager, case_file=case_file).can_see_address


def test_break_glass_is_for_spa_managers_only(world: PersonaWorld) -> None:
    for persona in ("spa_triage", "medway_spa_triage", "provider_manager", "auditor"):
        with pytest.raises(BreakGlassRefused):
            casefile_break_glass_open(
                user=world.personas[persona], case_file=world.other_authority_case, reason=REASON
            )
    assert not AccessLog.objects.filter(action=AccessAction.BREAK_GLASS).exists()


def test_break_glass_needs_a_real_reason(world: PersonaWorld) -> None:
    with pytest.raises(BreakGlassRefused, match="at least"):
        casefile_break_glass_open(
            user=world.medway_spa_manager, case_file=world.own_case, reason="   urgent     "
        )


def test_break_glass_on_a_case_already_in_scope_does_nothing(world: PersonaWorld) -> None:
    assert (
        casefile_break_glass_open(user=world.spa_manager, case_file=world.own_case, reason=REASON)
        is None
    )
    assert not AccessLog.objects.filter(action=AccessAction.BREAK_GLASS).exists()


def test_break_glass_never_crosses_into_an_authority_the_organisation_does_not_serve(
    world: PersonaWorld,
) -> None:
    world.organisations["spa"].authorities.remove(world.medway)
    with pytest.raises(BreakGlassRefused, match="does not work for"):
        casefile_break_glass_open(
            user=world.spa_manager, case_file=world.other_authority_case, reason=REASON
        )


def test_an_expired_break_glass_grants_nothing(world: PersonaWorld) -> None:
    ExpiredBreakGlassGrantFactory.create(user=world.medway_spa_manager, case_file=world.own_case)
    assert _visible(world, "medway_spa_manager") == {"other_authority"}


def test_break_glass_ends_when_the_manager_role_is_removed(world: PersonaWorld) -> None:
    manager = world.medway_spa_manager
    casefile_break_glass_open(user=manager, case_file=world.own_case, reason=REASON)
    assert "own" in _visible(world, "medway_spa_manager")
    manager.groups.clear()
    assert _visible(world, "medway_spa_manager") == set()
