"""The system administrator keeps the reference data in the admin (issue 5: the schedule of
rates), through the role's group permissions granted by a data migration, and nothing more."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from tests.factories import PersonaWorld
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

REFERENCE_DATA_CHANGELISTS = [
    "/admin/security_works/measure/",
    "/admin/security_works/slapolicy/",
    "/admin/referrals/declinereason/",
    "/admin/referrals/riskquestionnaire/",
    "/admin/referrals/riskpolicy/",
    "/admin/referrals/spapolicy/",
    "/admin/support/needsarea/",
    "/admin/support/closurereason/",
    "/admin/support/supportpolicy/",
    "/admin/reporting/returntemplate/",
    "/admin/reporting/returnsection/",
    "/admin/reporting/kpidefinition/",
    "/admin/reporting/kpicontracttarget/",
    "/admin/reporting/ageband/",
    "/admin/reporting/reportingpolicy/",
    "/admin/organisations/contract/",
    "/admin/organisations/contractextension/",
    "/admin/dataprotection/retentionrule/",
]


@pytest.fixture
def admin_client(client: Client, world: PersonaWorld) -> Client:
    return sign_in(client, world.system_admin)  # with a verified second factor, as /admin/ needs


@pytest.mark.parametrize("url", REFERENCE_DATA_CHANGELISTS)
def test_system_admin_can_open_each_reference_data_changelist(
    admin_client: Client, url: str
) -> None:
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/security_works/measure/add/",
        "/admin/reporting/ageband/add/",
        "/admin/organisations/contractextension/add/",
    ],
)
def test_system_admin_can_add_reference_data(admin_client: Client, url: str) -> None:
    assert admin_client.get(url).status_code == 200


def test_system_admin_group_holds_no_case_person_or_audit_permission() -> None:
    group = Group.objects.get(name=ROLE_GROUP_NAMES[Role.SYSTEM_ADMIN])
    apps = set(group.permissions.values_list("content_type__app_label", flat=True))
    assert apps == {
        "security_works",
        "referrals",
        "support",
        "reporting",
        "organisations",
        "dataprotection",
    }
    models = set(group.permissions.values_list("content_type__model", flat=True))
    assert not models & {
        "casefile",
        "person",
        "household",
        "referral",
        "securityjob",
        "adultsupportcase",
        "cypcase",
        "accesslog",
        "authevent",
        "reportrun",
        "retentionrun",
        "subjectaccessrequest",
        "legalhold",
    }
    # Delete only on rows nothing is built from: never the schedule of rates or a template.
    deletable = set(
        group.permissions.filter(codename__startswith="delete_").values_list(
            "content_type__model", flat=True
        )
    )
    assert deletable == {"categorymapping", "kpicontracttarget", "ageband"}


@pytest.mark.parametrize(
    "url", ["/admin/audit/accesslog/", "/admin/casefile/casefile/", "/admin/reporting/reportrun/"]
)
def test_system_admin_still_cannot_open_audit_or_case_tables(
    admin_client: Client, url: str
) -> None:
    assert admin_client.get(url).status_code in {403, 404}


def test_other_roles_get_no_reference_data_admin(client: Client, world: PersonaWorld) -> None:
    commissioner: User = world.commissioner
    commissioner.is_staff = True  # even if someone ticks "staff" by mistake
    commissioner.save(update_fields=["is_staff"])
    sign_in(client, commissioner)
    assert client.get("/admin/security_works/measure/").status_code == 403
