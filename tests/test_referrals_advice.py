"""Information-and-advice-only contacts: the service, the pages, who may see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals.exceptions import ReferralError
from referrals.models import AdviceContact
from referrals.selectors import AdviceFilters, advice_contacts
from referrals.services import advice_contact_record
from safer.accounts.roles import Role
from safer.organisations.models import CommissioningAuthority, District
from tests.helpers import sign_in
from tests.referrals_support import geography, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker() -> Any:
    return staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)


@pytest.fixture
def medway_worker() -> Any:
    return staff("morgan@medway.example.org", Role.SPA_TRIAGE, authorities=("medway",))


def kent() -> CommissioningAuthority:
    geography()
    return CommissioningAuthority.objects.get(code="kent")


def record(user: Any, **overrides: Any) -> AdviceContact:
    values: dict[str, Any] = {
        "authority": kent(),
        "contacted_on": timezone.localdate(),
        "caller_type": "professional",
        "agency_type": "police",
        "method": "phone",
        "topics": ["scheme_eligibility", "how_to_refer"],
    }
    values.update(overrides)
    return advice_contact_record(user=user, **values)


def test_an_advice_contact_is_recorded_with_categories_only(worker: Any) -> None:
    maidstone = geography()["maidstone"]
    contact = record(
        worker,
        district=maidstone,
        signposted_to=["national_helpline", "police", "police"],
        duration_minutes=20,
        note="Asked whether a private tenant can have works fitted",
    )
    assert contact.recorded_by == worker
    assert contact.signposted_to == ["national_helpline", "police"]
    history = apps.get_model("referrals", "AdviceContactEvent").objects.filter(pgh_obj=contact)
    assert history.count() == 1  # pghistory keeps the change, attributed to the worker
    names = {f.name for f in AdviceContact._meta.get_fields()}
    for personal in ("name", "given_name", "phone", "email", "address_line_1", "date_of_birth"):
        assert personal not in names


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"note": "Call her back on 07700 900 123"}, "contact details"),
        ({"note": "reply to someone@example.org"}, "contact details"),
        ({"topics": []}, "at least one topic"),
        ({"agency_type": ""}, "kind of agency"),
        ({"contacted_on": timezone.localdate() + dt.timedelta(days=2)}, "future"),
        ({"duration_minutes": 0}, "minutes"),
    ],
)
def test_advice_contact_refusals(worker: Any, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ReferralError, match=message):
        record(worker, **overrides)
    assert not AdviceContact.objects.exists()


def test_a_friend_calling_has_no_agency_type(worker: Any) -> None:
    contact = record(worker, caller_type="friend_or_family", agency_type="police")
    assert contact.agency_type == ""


def test_staff_cannot_record_for_another_authority_or_a_district_outside_it(
    worker: Any, medway_worker: Any
) -> None:
    medway = CommissioningAuthority.objects.get(code="medway")
    with pytest.raises(ReferralError, match="cannot record"):
        record(worker, authority=medway)
    with pytest.raises(ReferralError, match="not in the chosen area"):
        record(worker, district=District.objects.get(code="medway"))
    contractor = staff("carl@locks.example.org", Role.CONTRACTOR)
    with pytest.raises(ReferralError, match="cannot record"):
        record(contractor)


def test_list_is_only_the_users_authorities_and_filters_by_month_and_district(
    worker: Any, medway_worker: Any
) -> None:
    maidstone = District.objects.get(code="maidstone")
    medway = CommissioningAuthority.objects.get(code="medway")
    in_may = record(worker, contacted_on=dt.date(2025, 5, 31), district=maidstone)
    in_june = record(worker, contacted_on=dt.date(2025, 6, 1))
    theirs = record(medway_worker, authority=medway, contacted_on=dt.date(2025, 5, 2))
    assert set(advice_contacts(user=worker, filters=AdviceFilters())) == {in_may, in_june}
    assert list(advice_contacts(user=medway_worker, filters=AdviceFilters())) == [theirs]
    may = AdviceFilters(month=dt.date(2025, 5, 1))
    assert list(advice_contacts(user=worker, filters=may)) == [in_may]
    in_district = AdviceFilters(district_id=maidstone.pk)
    assert list(advice_contacts(user=worker, filters=in_district)) == [in_may]
    commissioner = staff("connie@council.example.org", Role.COMMISSIONER)
    assert not advice_contacts(user=commissioner, filters=AdviceFilters()).exists()


def test_list_page_is_paginated_filtered_and_its_queries_do_not_grow(
    client: Client, worker: Any, medway_worker: Any, django_assert_max_num_queries: Any
) -> None:
    medway = CommissioningAuthority.objects.get(code="medway")
    for day in range(1, 31):
        record(worker, contacted_on=dt.date(2025, 4, day))
    record(worker, contacted_on=dt.date(2025, 5, 3), note="May call about locks")
    record(medway_worker, authority=medway, contacted_on=dt.date(2025, 4, 2), note="Medway's")
    sign_in(client, worker)
    url = reverse("referrals:advice-list")
    with django_assert_max_num_queries(15):
        page = client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "31 contacts" in content
    assert "Medway&#x27;s" not in content
    assert "Professional (Police)" in content
    with django_assert_max_num_queries(15):
        april = client.get(url, {"month": "2025-04"})
    assert "30 contacts" in april.content.decode()
    with django_assert_max_num_queries(15):
        client.get(url, {"month": "2025-04", "page": "2"})


def test_create_page_records_a_contact_and_shows_errors(client: Client, worker: Any) -> None:
    sign_in(client, worker)
    url = reverse("referrals:advice-create")
    page = client.get(url).content.decode()
    assert "do not enter names or contact details" in page
    empty = client.post(url, {})
    assert empty.status_code == 400
    assert "Select at least one topic" in empty.content.decode()
    today = timezone.localdate()
    response = client.post(
        url,
        {
            "authority": str(kent().pk),
            "district": "",
            "contacted_on_0": str(today.day),
            "contacted_on_1": str(today.month),
            "contacted_on_2": str(today.year),
            "caller_type": "survivor",
            "agency_type": "",
            "method": "phone",
            "topics": ["safety_planning", "home_security"],
            "signposted_to": ["national_helpline"],
            "duration_minutes": "15",
            "note": "",
        },
    )
    assert response.status_code == 302
    contact = AdviceContact.objects.get()
    assert contact.caller_type == "survivor"
    assert contact.topics == ["home_security", "safety_planning"]
    assert contact.recorded_by == worker


def test_advice_pages_refuse_other_roles_and_anonymous(client: Client) -> None:
    geography()
    for name in ("advice-list", "advice-create"):
        response = client.get(reverse(f"referrals:{name}"))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    for role in (Role.REFERRER, Role.COMMISSIONER, Role.ADULT_SUPPORT_WORKER):
        sign_in(client, staff(f"{role.value}@example.org", role))
        assert client.get(reverse("referrals:advice-list")).status_code == 403
        assert client.post(reverse("referrals:advice-create"), {}).status_code == 403
