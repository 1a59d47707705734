"""The public referral form, walked page by page as a referrer would."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals import ratelimit
from referrals.models import (
    NotificationKind,
    Referral,
    ReferralDraft,
    ReferralNotification,
    ReferralSource,
    ReferralStatus,
    RiskLevel,
)
from referrals.selectors import district_page_of
from referrals.services.drafts import SESSION_KEY
from referrals.services.notifications import referral_notifications_create
from referrals.tasks import referral_notifications_send_task
from referrals.views.public import SUBMITTED_REFERENCE
from safer.casefile.models import (
    CaseEvent,
    ContactChannel,
    HouseholdRole,
    Perpetrator,
    Person,
    SafeContactRules,
)
from safer.outbox.models import OutboxMessage
from tests.referrals_support import geography

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The counters live in the shared Redis and outlast a test run.
    for limit in (ratelimit.FORM_POSTS, ratelimit.SUBMISSIONS):
        ratelimit.reset(limit, "127.0.0.1")


def url(slug: str) -> str:
    return reverse("refer:question", kwargs={"slug": slug})


def post(client: Client, path: str, data: dict[str, Any], expect: str | None = None) -> str:
    """Post one page; assert it moved on (302) and return where to."""
    response = client.post(path, data)
    assert response.status_code == 302, (path, response.status_code, _errors(response))
    if expect is not None:
        assert response["Location"] == expect, (path, response["Location"])
    return response["Location"]


def _errors(response: Any) -> str:
    content = response.content.decode()
    start = content.find("govuk-error-summary__list")
    return content[start : start + 800] if start >= 0 else content[:300]


def start(client: Client) -> None:
    assert client.get(reverse("refer:start")).status_code == 200
    post(client, reverse("refer:start"), {}, expect=url("who"))


PROFESSIONAL = {"referral_type": "professional"}
REFERRER = {
    "name": "Pat Referrer",
    "organisation": "Kent Police",
    "agency_type": "police",
    "role": "DA officer",
    "email": "pat.referrer@police.example.org",
    "phone": "01632 960000",
}
CONSENT_YES = {
    "consent_given": "yes",
    "consent_date_0": "3",
    "consent_date_1": "1",
    "consent_date_2": "2026",
    "consent_method": "phone",
}
SURVIVOR = {
    "given_name": "Alex",
    "family_name": "Example",
    "date_of_birth_0": "14",
    "date_of_birth_1": "6",
    "date_of_birth_2": "1988",
    "sex": "female",
    "gender_identity": "",
    "trans_status": "no",
    "ethnicity": "white_british",
    "disability": "",
    "sexual_orientation": "prefer_not",
    "religion": "none",
    "preferred_language": "English",
    "interpreter_needed": "no",
    "no_recourse_to_public_funds": "no",
}
ADDRESS = {
    "address_line_1": "1 Fictional Road",
    "address_line_2": "",
    "town": "Maidstone",
    "postcode": "me15 6aa",
}
HOUSING = {
    "tenure": "council",
    "tenancy_holder": "survivor",
    "landlord_name": "Maidstone Borough Council",
    "landlord_contact": "01632 960001",
}
SAFE_CONTACT = {
    "safe_channels": ["phone"],
    "phone": "07700 900123",
    "email": "",
    "voicemail_safe": "no",
    "text_safe": "no",
    "safe_times": "Weekdays 10am to 12pm",
    "alternative_contact": "",
    "organisation_name_may_be_used": "no",
    "notes": "",
}
RISK = {
    "dash_completed": "yes",
    "dash_score": "15",
    "dash_date_0": "2",
    "dash_date_1": "1",
    "dash_date_2": "2026",
    "marac_referred": "no",
    "other_risks": ["stalking"],
}
URGENCY_NO = {"urgent": "no", "urgency_reason": ""}


def walk_professional(
    client: Client,
    *,
    children: list[dict[str, Any]] | None = None,
    perpetrator: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
    consent: dict[str, Any] | None = None,
    survivor: dict[str, Any] | None = None,
    urgency: dict[str, Any] | None = None,
) -> None:
    start(client)
    post(client, url("who"), PROFESSIONAL, expect=url("referrer"))
    post(client, url("referrer"), REFERRER, expect=url("consent"))
    post(client, url("consent"), consent or CONSENT_YES, expect=url("survivor"))
    post(client, url("survivor"), survivor or SURVIVOR, expect=url("address"))
    post(client, url("address"), ADDRESS, expect=url("district"))
    district_page = client.get(url("district"))
    maidstone = geography()["maidstone"]
    # The district is pre-selected from the outward code ME15.
    assert f'value="{maidstone.pk}" checked' in district_page.content.decode()
    post(client, url("district"), {"district": str(maidstone.pk)}, expect=url("housing"))
    post(client, url("housing"), HOUSING, expect=url("safe-contact"))
    post(client, url("safe-contact"), SAFE_CONTACT, expect=url("children"))
    if children:
        post(client, url("children"), {"any": "yes"}, expect=reverse("refer:children-list"))
        assert client.get(reverse("refer:children-list"))["Location"] == reverse(
            "refer:children-add"
        )
        for index, child in enumerate(children):
            post(
                client, reverse("refer:children-add"), child, expect=reverse("refer:children-list")
            )
            more = "yes" if index < len(children) - 1 else "no"
            post(client, reverse("refer:children-list"), {"add_another": more})
    else:
        post(client, url("children"), {"any": "no"}, expect=url("adults"))
    post(client, url("adults"), {"any": "no"}, expect=url("perpetrator"))
    if perpetrator:
        post(client, url("perpetrator"), {"known": "yes"}, expect=url("perpetrator-details"))
        post(client, url("perpetrator-details"), perpetrator, expect=url("risk"))
    else:
        post(client, url("perpetrator"), {"known": "no"}, expect=url("risk"))
    post(client, url("risk"), RISK, expect=url("request"))
    post(client, url("request"), request or {"services": ["security_works"]}, expect=url("urgency"))
    post(client, url("urgency"), urgency or URGENCY_NO, expect=reverse("refer:check"))


def submit(client: Client) -> Referral:
    check = client.get(reverse("refer:check"))
    assert check.status_code == 200
    post(client, reverse("refer:check"), {}, expect=reverse("refer:confirmation"))
    return Referral.objects.get(reference=client.session[SUBMITTED_REFERENCE])


def test_professional_referral_with_children_and_perpetrator_creates_every_record(
    client: Client,
) -> None:
    geography()
    child_a = {
        "given_name": "Sam",
        "family_name": "Example",
        "date_of_birth_0": "1",
        "date_of_birth_1": "2",
        "date_of_birth_2": "2018",
        "age": "",
        "sex": "male",
        "lives_at_address": "yes",
    }
    child_b = {"given_name": "Jo", "family_name": "Example", "age": "4", "lives_at_address": "yes"}
    perpetrator = {
        "name": "Chris Harm",
        "relationship": "ex_partner",
        "lives_at_address": "no",
        "has_keys": "yes",
        "whereabouts_known": "not_known",
        "bail_or_court_orders": "Non-molestation order",
        "police_reference": "46/12345/26",
    }
    walk_professional(
        client,
        children=[child_a, child_b],
        perpetrator=perpetrator,
        request={"services": ["security_works", "adult_support"], "children": ["1"]},
    )
    check = client.get(reverse("refer:check")).content.decode()
    assert "Sam Example, born 1 February 2018" in check
    assert "Jo Example, aged 4" in check
    referral = submit(client)

    assert referral.source == ReferralSource.PROFESSIONAL
    assert referral.status == ReferralStatus.RECEIVED
    assert referral.reference.startswith(f"SAFER-{timezone.localdate().year}-")
    assert referral.referrer_email == "pat.referrer@police.example.org"
    assert referral.consent_given
    assert referral.consent_date == dt.date(2026, 1, 3)
    assert referral.requests_security_works
    assert referral.requests_adult_support
    assert referral.dash_score == 15
    assert referral.risk_level == RiskLevel.HIGH  # 15 >= 14 under the default bands
    assert referral.other_risks == ["stalking"]
    assert referral.sla_due_at is not None
    case_file = referral.case_file
    assert case_file.reference == referral.reference
    assert case_file.authority.code == "kent"
    assert case_file.household.postcode == "ME15 6AA"
    assert case_file.household.district.name == "Maidstone"
    assert case_file.household.tenure == "council"
    survivor = case_file.survivor
    assert (survivor.given_name, survivor.family_name) == ("Alex", "Example")
    assert survivor.date_of_birth == dt.date(1988, 6, 14)
    assert survivor.ethnicity == "white_british"
    assert survivor.is_trans is False
    children = Person.objects.filter(
        household=case_file.household, household_role=HouseholdRole.CHILD
    ).order_by("given_name")
    assert [c.given_name for c in children] == ["Jo", "Sam"]
    assert children[0].stated_age == 4
    assert children[1].date_of_birth == dt.date(2018, 2, 1)
    assert list(referral.children_for_support.all()) == [children[0]]
    rules = SafeContactRules.objects.get(case_file=case_file)
    assert rules.safe_channels == [ContactChannel.PHONE]
    assert rules.voicemail_safe is False
    assert rules.organisation_name_may_be_used is False
    harm = Perpetrator.objects.get(case_file=case_file)
    assert harm.has_keys is True
    assert harm.lives_at_address is False
    assert harm.whereabouts_known is None
    assert CaseEvent.objects.filter(case_file=case_file, kind="referral_received").count() == 1
    # The draft is gone; the confirmation shows the reference and nothing about the person.
    assert not ReferralDraft.objects.exists()
    confirmation = client.get(reverse("refer:confirmation")).content.decode()
    assert referral.reference in confirmation
    for private in ("Alex", "Example", "Fictional Road", "ME15"):
        assert private not in confirmation
    # The acknowledgement went to the referrer, with the reference only.
    message = OutboxMessage.objects.get(kwargs__referral_id=str(referral.id))
    # What the worker does with the outbox row (run in-process here).
    assert referral_notifications_send_task(**message.kwargs) == 1
    assert referral_notifications_send_task(**message.kwargs) == 0  # sent once only
    ack = ReferralNotification.objects.get(kind=NotificationKind.ACKNOWLEDGEMENT)
    assert ack.recipient == "pat.referrer@police.example.org"
    sent = [m for m in mail.outbox if m.to == ["pat.referrer@police.example.org"]]
    assert len(sent) == 1
    assert referral.reference in sent[0].subject
    for private in ("Alex", "Example", "Fictional", "ME15", "Maidstone", "07700"):
        assert private not in f"{sent[0].subject} {sent[0].body}"


def test_self_referral_without_perpetrator_details(client: Client) -> None:
    geography()
    start(client)
    post(client, url("who"), {"referral_type": "self"}, expect=url("consent"))
    consent_page = client.get(url("consent")).content.decode()
    assert "Do you agree to us using these details" in consent_page
    assert "safeguarding_override_reason" not in consent_page
    post(client, url("consent"), {"consent_given": "yes"}, expect=url("survivor"))
    post(client, url("survivor"), SURVIVOR, expect=url("address"))
    post(client, url("address"), ADDRESS, expect=url("district"))
    maidstone = geography()["maidstone"]
    post(client, url("district"), {"district": str(maidstone.pk)}, expect=url("housing"))
    post(client, url("housing"), {**HOUSING, "tenure": "owner_occupier", "landlord_name": ""})
    post(
        client,
        url("safe-contact"),
        {**SAFE_CONTACT, "safe_channels": ["email"], "email": "alex@example.org", "phone": ""},
    )
    post(client, url("children"), {"any": "no"})
    post(client, url("adults"), {"any": "no"})
    post(client, url("perpetrator"), {"known": "no"}, expect=url("risk"))
    post(client, url("risk"), {"dash_completed": "no", "marac_referred": "not_known"})
    post(client, url("request"), {"services": ["adult_support"]})
    post(client, url("urgency"), {"urgent": "yes", "urgency_reason": "He is out next week"})
    referral = submit(client)
    assert referral.source == ReferralSource.SELF
    assert referral.referrer_name == ""
    assert referral.referrer_email == ""
    assert referral.consent_given
    assert referral.consent_method == "self_referral"
    assert referral.urgent
    assert referral.urgency_reason == "He is out next week"
    assert referral.risk_level == RiskLevel.NOT_ASSESSED
    assert not Perpetrator.objects.filter(case_file=referral.case_file).exists()
    # Nothing is ever sent to the survivor, even to an address marked safe.
    referral_notifications_create(referral_id=str(referral.id))
    assert not ReferralNotification.objects.filter(kind=NotificationKind.ACKNOWLEDGEMENT).exists()


def test_no_consent_is_refused_with_an_explanation_and_nothing_is_stored(client: Client) -> None:
    geography()
    start(client)
    post(client, url("who"), PROFESSIONAL)
    post(client, url("referrer"), REFERRER)
    refused = post(
        client,
        url("consent"),
        {"consent_given": "no", "safeguarding_override_reason": ""},
        expect=reverse("refer:no-consent"),
    )
    page = client.get(refused).content.decode()
    assert "We cannot accept a referral without consent" in page
    # The refusal blocks the rest of the form.
    assert client.get(url("survivor"))["Location"] == url("consent")
    assert not Referral.objects.exists()


def test_no_consent_with_a_safeguarding_reason_is_accepted_and_flagged(client: Client) -> None:
    geography()
    walk_professional(
        client,
        consent={
            "consent_given": "no",
            "safeguarding_override_reason": "Children at immediate risk; police request.",
        },
    )
    referral = submit(client)
    assert referral.consent_given is False
    assert referral.safeguarding_override_reason.startswith("Children at immediate risk")
    assert referral.case_file.safeguarding_flag is True


def test_validation_errors_keep_what_was_typed(client: Client) -> None:
    geography()
    start(client)
    post(client, url("who"), PROFESSIONAL)
    post(client, url("referrer"), REFERRER)
    post(client, url("consent"), CONSENT_YES)
    bad = {**SURVIVOR, "family_name": "", "date_of_birth_1": "Febtober"}
    response = client.post(url("survivor"), bad)
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page
    assert "<title>Error: " in page
    assert 'href="#id_family_name"' in page
    assert "Enter last name" in page
    assert "Date of birth must be a real date" in page
    assert 'value="Alex"' in page  # what was typed is still there
    assert 'value="Febtober"' in page
    assert "no-store" in response["Cache-Control"]
    assert "govuk-exit-this-page" in page


def test_postcode_must_be_a_uk_postcode_and_outside_area_is_not_eligible(client: Client) -> None:
    geography()
    start(client)
    post(client, url("who"), PROFESSIONAL)
    post(client, url("referrer"), REFERRER)
    post(client, url("consent"), CONSENT_YES)
    post(client, url("survivor"), SURVIVOR)
    response = client.post(url("address"), {**ADDRESS, "postcode": "12345"})
    assert "Enter a real postcode" in response.content.decode()
    post(client, url("address"), {**ADDRESS, "postcode": "SW1A 1AA"}, expect=url("district"))
    page = client.get(url("district")).content.decode()
    assert " checked" not in page  # SW1A is in no district: nothing pre-selected
    # An answer that is none of the page's choices (a tampered or stale form) is refused.
    refused = client.post(url("district"), {"district": str(uuid.uuid4())})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    post(client, url("district"), {"district": "outside"}, expect=reverse("refer:not-eligible"))
    assert client.get(url("housing"))["Location"] == url("district")


def test_every_page_is_no_store_and_shows_exit_this_page(client: Client) -> None:
    geography()
    response = client.get(reverse("refer:start"))
    page = response.content.decode()
    assert "Shift" in page
    assert "Exit this page" in page
    assert "no-store" in response["Cache-Control"]
    start(client)
    response = client.get(url("who"))
    assert "no-store" in response["Cache-Control"]
    assert "govuk-exit-this-page" in response.content.decode()


def test_skipping_ahead_goes_back_to_the_first_unanswered_page(client: Client) -> None:
    geography()
    start(client)
    assert client.get(url("risk"))["Location"] == url("who")


def test_without_a_draft_the_form_says_answers_were_deleted(client: Client) -> None:
    response = client.get(url("who"))
    assert response["Location"] == reverse("refer:session-ended")


def test_stored_draft_is_encrypted(client: Client) -> None:
    geography()
    start(client)
    post(client, url("who"), PROFESSIONAL)
    post(client, url("referrer"), REFERRER)
    post(client, url("consent"), CONSENT_YES)
    post(client, url("survivor"), {**SURVIVOR, "given_name": "Zebedee", "family_name": "Quux"})
    draft = ReferralDraft.objects.get(pk=client.session[SESSION_KEY])
    token = bytes(draft.token)
    assert b"Zebedee" not in token
    assert b"Quux" not in token
    assert b"Pat Referrer" not in token
    # ... and the session holds only the draft's id.
    from django.contrib.sessions.models import Session

    session = Session.objects.get(session_key=client.session.session_key)
    assert "Zebedee" not in session.session_data


def test_honeypot_rejects_the_post(client: Client) -> None:
    geography()
    start(client)
    response = client.post(url("who"), {**PROFESSIONAL, "website": "http://spam.example"})
    assert response.status_code == 400
    assert not ReferralDraft.objects.exists()


def test_a_page_changing_its_own_fields_leaves_the_other_pages_as_they_were() -> None:
    """Page forms share their fields' answer lists between copies (issue 17): a page that
    relabels a question, changes a message or offers other answers changes only itself."""
    from referrals.forms import public as pf

    relabelled = pf.AnyPeopleForm(label="Any children?", error="Say if there are children")
    plain = pf.AnyPeopleForm()
    assert relabelled.fields["any"].label == "Any children?"
    assert plain.fields["any"].label == "Are there any?"
    assert plain.fields["any"].error_messages["required"] != "Say if there are children"
    first: Any = pf.RequestForm(children=[("0", "Sam")]).fields["children"]
    second: Any = pf.RequestForm(children=[("0", "Kim"), ("1", "Lou")]).fields["children"]
    declared: Any = pf.RequestForm.base_fields["children"]
    assert list(first.choices) == [("0", "Sam")]
    assert list(second.choices) == [("0", "Kim"), ("1", "Lou")]
    assert list(declared.choices) == []
    pf.DistrictForm(page=district_page_of([]))
    district: Any = pf.DistrictForm.base_fields["district"]
    assert list(district.choices) == []
    assert pf.SurvivorForm().fields["sex"].widget is not pf.SurvivorForm().fields["sex"].widget
