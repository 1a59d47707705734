"""Every object-permission grant comes from ``safer.access.services``: other apps (support's case
sharing) call its generic grant and revoke, which refuse what they must not store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

from safer.access.grants import holds_directly
from safer.access.services import AccessGrantError, object_access_grant, object_access_revoke
from support.models import READ_SUPPORT_NOTES
from support.services.sharing import ShareBasis, support_case_share, support_case_unshare
from tests.factories import PersonaWorld
from tests.test_support_helpers import SupportWorld, build_support_world, open_adult_case

pytestmark = pytest.mark.django_db

WRITERS = {"object_permission_grant", "object_permission_revoke", "assign_perm", "remove_perm"}


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def test_sharing_grants_and_revokes_through_the_access_services(sw: SupportWorld) -> None:
    adult = open_adult_case(sw)
    assert support_case_share(
        case=adult, user=sw.cyp_worker, shared_by=sw.adult_worker, basis=ShareBasis.CONSENT
    )
    assert holds_directly(sw.cyp_worker, READ_SUPPORT_NOTES, adult)
    assert not object_access_grant(obj=adult, codename=READ_SUPPORT_NOTES, user=sw.cyp_worker)
    assert support_case_unshare(case=adult, user=sw.cyp_worker, withdrawn_by=sw.adult_worker)
    assert not holds_directly(sw.cyp_worker, READ_SUPPORT_NOTES, adult)
    assert not object_access_revoke(obj=adult, codename=READ_SUPPORT_NOTES, user=sw.cyp_worker)


def test_generic_grant_refuses_a_permission_the_record_does_not_declare(sw: SupportWorld) -> None:
    adult = open_adult_case(sw)
    with pytest.raises(AccessGrantError):
        object_access_grant(obj=adult, codename="change_adultsupportcase", user=sw.cyp_worker)


def test_generic_grant_refuses_the_case_file(sw: SupportWorld) -> None:
    # Case-file access has its own audited service (casefile_access_grant).
    with pytest.raises(AccessGrantError):
        object_access_grant(obj=sw.case_file, codename="work_on_casefile", user=sw.cyp_worker)


def test_generic_grant_refuses_a_holder_outside_the_records_authority(
    sw: SupportWorld, world: PersonaWorld
) -> None:
    adult = open_adult_case(sw)
    medway_worker = world.medway_spa_triage
    medway_worker.organisation = world.organisations["medway_support"]
    medway_worker.save(update_fields=["organisation"])
    with pytest.raises(AccessGrantError):
        object_access_grant(obj=adult, codename=READ_SUPPORT_NOTES, user=medway_worker)
    assert not holds_directly(medway_worker, READ_SUPPORT_NOTES, adult)


def test_generic_grant_refuses_a_record_whose_authority_cannot_be_found(
    sw: SupportWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deny by default: no authority to check the holder against means no grant at all.
    adult = open_adult_case(sw)
    monkeypatch.setattr("safer.audit.scoping.record_authority_id", lambda record: None)
    with pytest.raises(AccessGrantError, match="no single commissioning authority"):
        object_access_grant(obj=adult, codename=READ_SUPPORT_NOTES, user=sw.cyp_worker)
    assert not holds_directly(sw.cyp_worker, READ_SUPPORT_NOTES, adult)


def test_no_module_outside_safer_access_writes_object_permissions() -> None:
    base = Path(settings.BASE_DIR)
    offenders = []
    for package in ("safer", "referrals", "security_works", "support", "reporting"):
        for path in (base / package).rglob("*.py"):
            if path.is_relative_to(base / "safer" / "access") or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and {a.name for a in node.names} & WRITERS:
                    offenders.append(str(path.relative_to(base)))
    assert offenders == []
