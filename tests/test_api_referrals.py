"""Referral intake through the partner API: the public form's rules, idempotency, status."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

import pytest

from referrals import flow
from referrals.api.adapter import SECTION_OF_STEP
from referrals.api.serializers import REFERRAL_EXAMPLE
from referrals.models import Referral, ReferralMatch, ReferralSource, ReferralStatus
from safer.api.models import ApiClient, IdempotencyRecord, Scope
from safer.casefile.models import Perpetrator
from safer.organisations.models import CommissioningAuthority, Organisation, OrganisationKind
from tests.api_support import RELAXED_LIMITS, api, error_shape, issue
from tests.referrals_support import geography, make_referral

SUBMIT = "/api/v1/referrals/"


@pytest.fixture(autouse=True)
def _relaxed_limits(settings) -> None:
    settings.SAFER_API_RATE_LIMITS = RELAXED_LIMITS


def _agency(name: str) -> Organisation:
    organisation = Organisation.objects.create(name=name, kind=OrganisationKind.REFERRING_AGENCY)
    organisation.authorities.set(CommissioningAuthority.objects.all())
    return organisation


@pytest.fixture
def police(db: None) -> tuple[ApiClient, str]:
    geography()
    return issue(_agency("Example Police"), Scope.REFERRALS_SUBMIT)


def payload(**changes: Any) -> dict[str, Any]:
    """The documented example, with sections replaced or (None) removed."""
    body = copy.deepcopy(REFERRAL_EXAMPLE.value)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def submit(token: str, body: dict[str, Any], key: str | None = None) -> Any:
    return api(token).post(
        SUBMIT, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4())
    )


def test_the_documented_example_is_accepted(police) -> None:
    client, token = police
    response = submit(token, payload())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "reference", "status"}
    assert body["status"] == "received"
    referral = Referral.objects.get(pk=body["id"])
    assert referral.reference == body["reference"]
    assert referral.referrer_user == client.user
    assert referral.source == ReferralSource.PROFESSIONAL
    assert referral.urgent
    assert referral.requests_security_works
    assert referral.case_file.household.district.code == "maidstone"
    assert [c.given_name for c in referral.children_for_support.all()] == ["Sam"]
    assert Perpetrator.objects.get(case_file=referral.case_file).has_keys is True
    assert response["Location"] == f"/api/v1/referrals/{referral.pk}/status/"


def test_an_idempotent_retry_returns_the_same_referral(police) -> None:
    _, token = police
    key = str(uuid.uuid4())
    first = submit(token, payload(), key=key)
    again = submit(token, payload(), key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Referral.objects.count() == 1
    # Key order and formatting do not make it a different request.
    reordered = dict(reversed(list(payload().items())))
    assert submit(token, reordered, key=key).json() == first.json()
    assert Referral.objects.count() == 1


def test_an_expired_idempotency_key_is_free_again_and_a_live_one_is_not(police) -> None:
    from safer.api.services import IDEMPOTENCY_KEY_RETENTION

    _, token = police
    key = str(uuid.uuid4())
    first = submit(token, payload(), key=key)
    assert first.status_code == 201
    # Inside the retention a different body is refused, even one day before expiry.
    record = IdempotencyRecord.objects.get(key=key)
    record.created_at -= IDEMPOTENCY_KEY_RETENTION - dt.timedelta(days=1)
    record.save(update_fields=["created_at"])
    changed = payload()
    changed["survivor"]["given_name"] = "Jordan"
    assert submit(token, changed, key=key).status_code == 422
    # Past it, the key makes a new referral, recorded under the key with the new body.
    IdempotencyRecord.objects.filter(key=key).update(
        created_at=record.created_at - dt.timedelta(days=2)
    )
    second = submit(token, changed, key=key)
    assert second.status_code == 201, second.json()
    assert "Idempotent-Replayed" not in second
    assert second.json()["reference"] != first.json()["reference"]
    assert Referral.objects.count() == 2
    again = submit(token, changed, key=key)
    assert again.json() == second.json()
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.filter(key=key).count() == 1


def test_same_key_with_a_different_body_is_refused(police) -> None:
    _, token = police
    key = str(uuid.uuid4())
    assert submit(token, payload(), key=key).status_code == 201
    changed = payload()
    changed["survivor"]["given_name"] = "Jordan"
    response = submit(token, changed, key=key)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["errors"]
    assert Referral.objects.count() == 1


def test_keys_belong_to_one_client(police) -> None:
    _, token = police
    _, other_token = issue(_agency("Example IDVA"), Scope.REFERRALS_SUBMIT)
    key = str(uuid.uuid4())
    assert submit(token, payload(), key=key).status_code == 201
    assert submit(other_token, payload(), key=key).status_code == 201
    assert Referral.objects.count() == 2


def test_a_refused_request_does_not_use_up_its_key(police) -> None:
    _, token = police
    key = str(uuid.uuid4())
    bad = payload()
    bad["address"]["postcode"] = "NOT A POSTCODE"  # longer than the schema allows
    assert submit(token, bad, key=key).status_code == 400
    assert not IdempotencyRecord.objects.filter(key=key).exists()
    bad["address"]["postcode"] = "ZZ1 1ZZ"  # the right shape, but no such postcode
    assert submit(token, bad, key=key).status_code == 422
    assert not IdempotencyRecord.objects.filter(key=key).exists()
    assert submit(token, payload(), key=key).status_code == 201


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 101])
def test_the_idempotency_key_is_required(police, key) -> None:
    _, token = police
    headers: dict[str, Any] = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    response = api(token).post(SUBMIT, payload(), format="json", **headers)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert Referral.objects.count() == 0


# --- The form's rules, by field -----------------------------------------------------------------


def _errors(token: str, body: dict[str, Any], status: int = 422) -> dict[str, list[str]]:
    """A body that matches the schema but breaks one of the form's rules is 422 (one that does
    not match the schema, 400); nothing is stored."""
    before = Referral.objects.count()
    response = submit(token, body)
    assert response.status_code == status, response.json()
    assert error_shape(response.json())
    assert Referral.objects.count() == before
    return response.json()["errors"]


def test_a_member_the_schema_does_not_name_is_refused_not_dropped(police) -> None:
    _, token = police
    body = payload()
    body["safe_contact"]["do_not_call_at_work"] = True  # would be lost if ignored
    body["notes"] = "anything"
    response = submit(token, body)
    assert response.status_code == 400, response.json()
    assert set(response.json()["errors"]) == {"notes", "safe_contact.do_not_call_at_work"}
    assert Referral.objects.count() == 0


def test_field_errors_are_the_forms_messages_by_path(police) -> None:
    _, token = police
    body = payload()
    body["address"]["postcode"] = "ZZ"
    body["survivor"]["date_of_birth"] = "2999-01-01"
    body["children"] = [{"given_name": "Sam", "lives_at_address": True}]
    errors = _errors(token, body)
    assert errors["address.postcode"] == ["Enter a real postcode, like CT1 2AB"]
    assert errors["survivor.date_of_birth"] == ["Date of birth must be in the past"]
    assert errors["children.0.date_of_birth"] == ["Enter the child's date of birth or their age"]


def test_conditional_answers_are_checked_as_on_the_form(police) -> None:
    _, token = police
    body = payload()
    body["risk"] = {"dash_completed": True, "marac_referred": False}
    body["urgency"] = {"urgent": True, "urgency_reason": ""}
    body["safe_contact"]["phone"] = ""
    errors = _errors(token, body)
    assert errors["risk.dash_score"] == ["Enter the DASH score"]
    assert errors["urgency.urgency_reason"] == ["Enter why the referral is urgent"]
    assert errors["safe_contact.phone"] == ["Enter the safe phone number"]


def test_no_consent_and_no_safeguarding_reason_is_refused(police) -> None:
    _, token = police
    errors = _errors(token, payload(consent={"consent_given": False}))
    assert "consent" in errors["consent.consent_given"][0]


def test_a_safeguarding_reason_allows_a_referral_without_consent(police) -> None:
    _, token = police
    body = payload(
        consent={
            "consent_given": False,
            "safeguarding_override_reason": "Serious risk of harm: MARAC agreed to refer.",
        }
    )
    response = submit(token, body)
    assert response.status_code == 201, response.json()
    referral = Referral.objects.get()
    assert not referral.consent_given
    assert referral.case_file.safeguarding_flag


def test_the_district_comes_from_the_postcode_or_must_be_given(police) -> None:
    _, token = police
    body = payload()
    del body["address"]["district"]
    assert submit(token, body).status_code == 201  # ME15 is only Maidstone
    assert Referral.objects.get().case_file.household.district.code == "maidstone"
    shared = payload()
    del shared["address"]["district"]
    shared["address"]["postcode"] = "TN12 6AA"  # two districts share TN12
    assert "address.district" in _errors(token, shared)
    unknown = payload()
    unknown["address"]["district"] = "atlantis"
    assert _errors(token, unknown)["address.district"][0].startswith("No district has this code")


def test_a_professional_referral_needs_the_referrer(police) -> None:
    _, token = police
    assert "referrer" in _errors(token, payload(referrer=None))


def test_a_self_referral_needs_no_referrer(police) -> None:
    _, token = police
    response = submit(token, payload(referral_type="self", referrer=None))
    assert response.status_code == 201, response.json()
    referral = Referral.objects.get()
    assert referral.source == ReferralSource.SELF
    assert referral.referrer_name == ""


def test_a_referral_without_perpetrator_details(police) -> None:
    _, token = police
    assert submit(token, payload(perpetrator=None)).status_code == 201
    assert not Perpetrator.objects.filter(case_file=Referral.objects.get().case_file).exists()


def test_types_are_checked_before_the_form(police) -> None:
    _, token = police
    body = payload()
    body["survivor"]["interpreter_needed"] = "perhaps"
    body["risk"]["dash_score"] = 25
    errors = _errors(token, body, status=400)
    assert "survivor.interpreter_needed" in errors
    assert "risk.dash_score" in errors


def test_the_same_duplicate_checks_as_the_form(police) -> None:
    """An earlier referral of the same person is flagged for triage, never merged."""
    _, token = police
    earlier = make_referral(given_name="Alex", family_name="Example", postcode="ME15 6AA")
    body = payload()
    body["survivor"]["family_name"] = "Exampel"  # a typo
    response = submit(token, body)
    assert response.status_code == 201
    referral = Referral.objects.get(pk=response.json()["id"])
    assert ReferralMatch.objects.filter(referral=referral, candidate=earlier).exists()
    assert referral.case_file_id != earlier.case_file_id


def test_every_page_of_the_form_has_a_place_in_the_json() -> None:
    """A page added to the form without a section here would be silently unanswerable."""
    assert {step.slug for step in flow.STEPS} == set(SECTION_OF_STEP)


# --- Status -------------------------------------------------------------------------------------


def test_status_for_the_submitting_organisation_only(police) -> None:
    client, token = police
    referral_id = submit(token, payload()).json()["id"]
    url = f"/api/v1/referrals/{referral_id}/status/"
    response = api(token).get(url)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "reference", "status", "status_label", "received_at"}
    assert (body["status"], body["status_label"]) == ("received", "Received")
    # Another client of the same organisation may follow it too.
    _, colleague = issue(client.organisation, Scope.REFERRALS_SUBMIT, name="Second system")
    assert api(colleague).get(url).status_code == 200
    # Another organisation's client may not, and cannot tell it exists.
    _, stranger = issue(_agency("Example Housing"), Scope.REFERRALS_SUBMIT)
    response = api(stranger).get(url)
    assert response.status_code == 404
    assert response.json() == api(stranger).get(f"/api/v1/referrals/{uuid.uuid4()}/status/").json()


def test_status_follows_triage(police) -> None:
    _, token = police
    referral = Referral.objects.get(pk=submit(token, payload()).json()["id"])
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.IN_TRIAGE)
    body = api(token).get(f"/api/v1/referrals/{referral.pk}/status/").json()
    assert body["status"] == "in_triage"


def test_a_referral_made_on_the_web_has_no_api_status(police) -> None:
    _, token = police
    web = make_referral()
    assert api(token).get(f"/api/v1/referrals/{web.pk}/status/").status_code == 404


def test_districts_list_gives_the_codes(police) -> None:
    _, token = police
    body = api(token).get("/api/v1/referrals/districts/").json()
    assert {"code": "maidstone", "name": "Maidstone", "authority": "Kent County Council"} in body


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_lose_none_and_duplicate_none(settings) -> None:
    """Sixteen submissions at once, half of them sent twice with the same key: one referral per
    key, each with its own reference, and every retry gets the first answer (issue 17)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    settings.SAFER_API_RATE_LIMITS = RELAXED_LIMITS
    geography()
    _, token = issue(_agency("Concurrent Police"), Scope.REFERRALS_SUBMIT)
    keys = [str(uuid.uuid4()) for _ in range(16)]
    sends = keys + keys[:8]

    def send(key: str) -> tuple[str, int, dict[str, Any]]:
        try:
            response = submit(token, payload(), key=key)
            return key, response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, sends))
    assert {status for _, status, _ in results} == {201}
    by_key: dict[str, set[str]] = {}
    for key, _, body in results:
        by_key.setdefault(key, set()).add(body["reference"])
    assert all(len(references) == 1 for references in by_key.values())
    references = [next(iter(r)) for r in by_key.values()]
    assert len(set(references)) == 16
    assert Referral.objects.filter(reference__in=references).count() == 16
    assert Referral.objects.count() == 16


# The queries one submission of the documented example costs, warm, with seven SPA staff to alert
# and two earlier referrals it matches (issue 17: 81 before, eight of them outbox rows; then 36;
# 26 less a savepoint per nested service, the extra reads of the reference, idempotency record,
# risk bands, districts and known matches; 21 with the household's people in one insert and
# both duplicate-matching branches with the trigram threshold in one round trip; 9 with every
# new row of the referral, its case file and its outbox row sent ahead of the duplicate search,
# and the call's audit row with the idempotency record's answer: ``safer.sqlbatch``). However
# many SPA staff its authority has, a referral writes one outbox row for its emails. The test's
# own transaction adds a savepoint.
SUBMIT_MAX_QUERIES = 9


def test_a_submission_costs_a_fixed_number_of_queries_and_one_outbox_row(
    police, django_assert_max_num_queries
) -> None:
    from safer.accounts.roles import Role
    from safer.outbox.models import OutboxMessage
    from tests.referrals_support import staff

    _, token = police
    for n in range(7):
        staff(f"triage{n}@spa.example.org", Role.SPA_TRIAGE)
    make_referral(given_name="Earlier")  # a candidate for duplicate matching
    assert submit(token, payload()).status_code == 201  # warm: caches, the year's base row
    before = OutboxMessage.objects.count()
    with django_assert_max_num_queries(SUBMIT_MAX_QUERIES):
        response = submit(token, payload())
    assert response.status_code == 201, response.json()
    assert OutboxMessage.objects.count() == before + 1


# With the reference data committed and kept per process (``safer.refdata``, ADR 0014: the
# districts, the risk bands, the SPA policy): the districts' read fewer. (Above, the test's
# transaction wrote the districts itself, so it reads them from the database, as the transaction
# that changed them must.) The call's audit row is counted in neither: it goes with the
# idempotency record's answer, in the referral's transaction.
SUBMIT_MAX_QUERIES_CACHED = SUBMIT_MAX_QUERIES - 1


def test_reference_data_committed_is_not_read_again(
    police, django_assert_max_num_queries, monkeypatch
) -> None:
    from safer import refdata

    _, token = police
    monkeypatch.setattr(refdata, "_pending", lambda name: False)  # as if committed
    make_referral(given_name="Earlier")
    assert submit(token, payload()).status_code == 201  # warm: fills the caches
    with django_assert_max_num_queries(SUBMIT_MAX_QUERIES_CACHED):
        response = submit(token, payload())
    assert response.status_code == 201, response.json()


def test_one_call_row_per_submission_whatever_the_outcome(police) -> None:
    """The 201's row is written in the referral's transaction; a refusal's (its transaction
    rolled back) and a replay's are written after, as for every other endpoint."""
    from safer.api.models import ApiCall

    client, token = police
    key = str(uuid.uuid4())
    nowhere = {**payload()["address"], "district": "nowhere"}
    statuses = [
        submit(token, payload(), key=key).status_code,
        submit(token, payload(), key=key).status_code,  # replayed
        submit(token, payload(survivor={"given_name": "Other"}), key=key).status_code,  # reused
        submit(token, payload(address=nowhere)).status_code,  # refused: no such district
    ]
    assert statuses == [201, 201, 422, 422]
    calls = list(ApiCall.objects.filter(client=client).order_by("id"))
    assert [(c.route, c.status_code) for c in calls] == [
        ("api-referrals:submit", s) for s in statuses
    ]
    assert {c.idempotency_key for c in calls[:3]} == {key}


def test_each_request_validates_with_its_own_copy_of_the_fields() -> None:
    """The serializer's leaf fields are copied shallowly per request (issue 17): each request's
    are its own, bound to its own serializer."""
    from referrals.api.serializers import ReferralSubmitSerializer

    first = ReferralSubmitSerializer(data=payload())
    second = ReferralSubmitSerializer(data=payload(survivor={"sex": "other"}))
    assert first.is_valid(), first.errors
    assert not second.is_valid()
    survivor: Any = first.fields["survivor"]
    other: Any = second.fields["survivor"]
    sex = survivor.fields["sex"]
    assert sex is not other.fields["sex"]
    assert sex.parent is first.fields["survivor"]
    assert sex.root is first
    assert "sex" in second.errors["survivor"]


def test_every_row_a_submission_writes_is_stored_with_its_history_and_the_request(police) -> None:
    """The new rows go to the database together (``safer.sqlbatch``): each is stored as the
    service built it, its history row says which request wrote it, and the answer, the call's
    audit row and the outbox row are all there."""
    import pghistory.models
    from pghistory.core import event_models

    from safer.api.models import ApiCall
    from safer.casefile.models import CaseEvent, CaseFile, Household, Person, SafeContactRules
    from safer.outbox.models import OutboxMessage

    client, token = police
    make_referral(given_name="Earlier")  # a candidate for duplicate matching
    key = str(uuid.uuid4())
    response = submit(token, payload(), key=key)
    assert response.status_code == 201, response.json()
    referral = Referral.objects.select_related("case_file__household").get(pk=response.json()["id"])
    case_file = referral.case_file
    assert referral.risk_not_assessed_reason == ""  # a database default, sent as its value
    assert referral.version == 1
    assert referral.children_for_support.count() == 1
    assert set(referral.children_for_support.all()) == set(
        Person.objects.filter(household=case_file.household, household_role="child")
    )
    assert CaseEvent.objects.filter(case_file=case_file, kind="referral_received").count() == 1
    assert SafeContactRules.objects.filter(case_file=case_file).count() == 1
    assert Perpetrator.objects.filter(case_file=case_file).count() == 1
    assert ReferralMatch.objects.filter(referral=referral).exists()
    assert OutboxMessage.objects.filter(kwargs={"referral_id": str(referral.id)}).count() == 1
    record = IdempotencyRecord.objects.get(client=client, key=key)
    assert (record.response_status, record.response_body) == (201, response.json())
    assert ApiCall.objects.filter(client=client, idempotency_key=key, status_code=201).count() == 1

    rows = [
        (Household, case_file.household_id),
        (Person, case_file.survivor_id),
        (CaseFile, case_file.pk),
        (Referral, referral.pk),
    ]
    for model, pk in rows:
        (event_model,) = event_models(tracks_model=model)
        event: Any = event_model._default_manager.filter(pgh_obj_id=pk).get()
        context = pghistory.models.Context.objects.get(pk=event.pgh_context_id)
        assert context.metadata["url"] == SUBMIT, model
        assert context.metadata["user"] == str(client.user_id), model
