"""The case-file pages: list, detail and break-glass, through the access seam."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import CaseFile
from tests.factories import (
    CaseFileFactory,
    PersonaWorld,
    SafeContactRulesFactory,
)
from tests.helpers import sign_in

REASON = "Police called: the survivor reported a break-in tonight"


def _without_nonces(content: bytes) -> bytes:
    """The page minus what differs on every response (CSP nonce, masked CSRF token)."""
    content = re.sub(rb'nonce="[^"]*"', b"", content)
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def _detail(case_file: CaseFile) -> str:
    return reverse("casefile:detail", kwargs={"case_file_id": case_file.id})


def test_case_page_shows_safe_contact_rules_first(client: Client, world: PersonaWorld) -> None:
    sign_in(client, world.adult_support_worker)
    response = client.get(_detail(world.own_case))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Do not leave voicemail." in html
    assert "Do not send text messages." in html
    # The rules come before anything else about the case.
    assert html.index("Do not leave voicemail.") < html.index(world.own_case.reference + "</h1>")


def test_case_page_without_safe_contact_rules_says_do_not_contact(
    client: Client, world: PersonaWorld
) -> None:
    case_file = CaseFileFactory.create(household__district=world.extra["districts"]["ashford"])
    sign_in(client, world.spa_triage)
    html = client.get(_detail(case_file)).content.decode()
    assert "Do not contact the survivor until they are." in html


def test_spa_sees_address_and_perpetrator_support_worker_sees_neither(
    client: Client, world: PersonaWorld
) -> None:
    household = world.own_case.household
    perpetrator = world.own_case.perpetrators.get()

    sign_in(client, world.spa_triage)
    html = client.get(_detail(world.own_case)).content.decode()
    assert household.address_line_1 in html
    assert perpetrator.name in html

    worker = Client()
    sign_in(worker, world.adult_support_worker)
    html = worker.get(_detail(world.own_case)).content.decode()
    assert world.own_case.survivor.given_name in html
    assert household.address_line_1 not in html
    assert household.postcode not in html
    assert perpetrator.name not in html
    assert "you do not have access to this address" in html


def test_viewing_the_case_page_writes_exactly_one_access_log_row(
    client: Client, world: PersonaWorld
) -> None:
    sign_in(client, world.cyp_worker)
    before = AccessLog.objects.count()
    assert client.get(_detail(world.own_case)).status_code == 200
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.latest("id")
    assert (row.user, row.action, row.record_id) == (
        world.cyp_worker,
        AccessAction.VIEW,
        str(world.own_case.id),
    )
    assert row.source_ip == "127.0.0.1"


def test_not_yours_and_missing_are_the_same_404(client: Client, world: PersonaWorld) -> None:
    sign_in(client, world.adult_support_worker)
    not_yours = client.get(_detail(world.other_org_case))
    missing = client.get("/cases/00000000-0000-4000-8000-000000000000/")
    assert not_yours.status_code == missing.status_code == 404
    assert _without_nonces(not_yours.content) == _without_nonces(missing.content)
    assert not AccessLog.objects.filter(user=world.adult_support_worker).exists()


@pytest.mark.parametrize(
    "persona", ["contractor", "commissioner", "auditor", "system_admin", "referrer"]
)
def test_roles_without_case_files_are_refused_before_any_lookup(
    client: Client, world: PersonaWorld, persona: str
) -> None:
    sign_in(client, world.personas[persona])
    assert client.get(reverse("casefile:list")).status_code == 403
    assert client.get(_detail(world.own_case)).status_code == 403
    assert client.get(reverse("casefile:break-glass")).status_code == 403
    assert not AccessLog.objects.filter(user=world.personas[persona]).exists()


def test_anonymous_is_sent_to_sign_in(client: Client, world: PersonaWorld) -> None:
    response = client.get(_detail(world.own_case))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_list_shows_only_visible_cases_and_logs_each_row_shown(
    client: Client, world: PersonaWorld
) -> None:
    sign_in(client, world.provider_manager)
    response = client.get(reverse("casefile:list"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [world.own_case]
    html = response.content.decode()
    assert world.other_org_case.reference not in html
    assert world.other_authority_case.reference not in html
    rows = AccessLog.objects.filter(user=world.provider_manager, action=AccessAction.SEARCH)
    assert list(rows.values_list("record_id", flat=True)) == [str(world.own_case.id)]


def test_list_query_count_does_not_grow_with_the_page(
    client: Client, world: PersonaWorld, django_assert_max_num_queries: object
) -> None:
    ashford = world.extra["districts"]["ashford"]
    for _ in range(30):
        SafeContactRulesFactory.create(
            case_file=CaseFileFactory.create(household__district=ashford)
        )
    sign_in(client, world.spa_triage)
    # 16: the capped count runs in a transaction of its own (its plan settings, and
    # pghistory's context for it).
    with django_assert_max_num_queries(16):  # type: ignore[operator]
        response = client.get(reverse("casefile:list"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 25
    assert client.get(reverse("casefile:list"), {"page": 2}).context["page"].number == 2


def test_list_filters_by_reference_and_status(client: Client, world: PersonaWorld) -> None:
    sign_in(client, world.spa_triage)
    response = client.get(reverse("casefile:list"), {"reference": "other-org", "status": "open"})
    assert list(response.context["page"].object_list) == [world.other_org_case]
    response = client.get(reverse("casefile:list"), {"status": "closed"})
    assert list(response.context["page"].object_list) == []


def test_break_glass_form_opens_the_case_and_the_page_says_so(
    client: Client, world: PersonaWorld
) -> None:
    manager = world.medway_spa_manager
    sign_in(client, manager)
    assert client.get(_detail(world.own_case)).status_code == 404

    form = client.get(reverse("casefile:break-glass"))
    assert form.status_code == 200
    response = client.post(
        reverse("casefile:break-glass"),
        {"reference": world.own_case.reference.lower(), "reason": REASON},
    )
    assert response.status_code == 302
    assert response["Location"] == _detail(world.own_case)

    page = client.get(_detail(world.own_case))
    assert page.status_code == 200
    assert "You opened this case outside your scope" in page.content.decode()
    log = AccessLog.objects.filter(user=manager).order_by("id")
    assert list(log.values_list("action", "reason")) == [
        (AccessAction.BREAK_GLASS, REASON),
        (AccessAction.VIEW, "Under break-glass"),
    ]


def test_break_glass_form_shows_errors_without_logging(client: Client, world: PersonaWorld) -> None:
    sign_in(client, world.medway_spa_manager)
    too_short = client.post(
        reverse("casefile:break-glass"), {"reference": world.own_case.reference, "reason": "now"}
    )
    assert too_short.status_code == 200
    assert "The reason must be at least" in too_short.content.decode()
    unknown = client.post(
        reverse("casefile:break-glass"), {"reference": "SAFER-0000-000000", "reason": REASON}
    )
    assert "No case file has this reference" in unknown.content.decode()
    assert not AccessLog.objects.filter(action=AccessAction.BREAK_GLASS).exists()


def test_break_glass_is_refused_to_spa_triage(client: Client, world: PersonaWorld) -> None:
    sign_in(client, world.medway_spa_triage)
    response = client.post(
        reverse("casefile:break-glass"), {"reference": world.own_case.reference, "reason": REASON}
    )
    assert response.status_code == 403
    assert not AccessLog.objects.filter(action=AccessAction.BREAK_GLASS).exists()
