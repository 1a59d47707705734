"""From a referral posted to the API to the service's input, through the public form's own rules.

The JSON is laid into a form draft (``referrals.flow.Draft``) exactly as the question pages would
have posted it, every page is validated by its own form, and the submission is built by
``flow.submission_from_draft``, the same function the form's "check your answers" page uses.
So the API cannot accept anything the form would refuse, and ``referral_submit`` (the same
service, with its own checks and duplicate detection) does the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from referrals import flow
from referrals.api.serializers import has_not_known, is_yes_no
from referrals.forms import public as pf
from referrals.forms.fields import GovukDateField
from referrals.selectors import district_page
from referrals.services.submit import ReferralSubmission
from safer.organisations.models import District

Raw = dict[str, list[str]]

# Where each page of the form lives in the JSON: its section (None: the top level).
SECTION_OF_STEP: dict[str, str | None] = {
    "who": None,
    "referrer": "referrer",
    "consent": "consent",
    "survivor": "survivor",
    "address": "address",
    "district": "address",
    "housing": "housing",
    "safe-contact": "safe_contact",
    "children": "children",
    "adults": "other_adults",
    "perpetrator": "perpetrator",
    "perpetrator-details": "perpetrator",
    "risk": "risk",
    "request": "request",
    "urgency": "urgency",
}
# Pages whose one question the JSON answers by the presence of a list or an object.
DERIVED_FIELDS = {"children": "any", "adults": "any", "perpetrator": "known"}

CONSENT_REFUSED = (
    "A referral needs the person's consent, or a safeguarding reason to refer without it."
)
NO_DISTRICT = (
    "Give the district code: the postcode does not decide the council area. If the address is "
    "in none of the districts, the scheme cannot take the referral."
)
UNKNOWN_DISTRICT = "No district has this code. See GET /api/v1/referrals/districts/."


class SubmissionInvalid(Exception):
    """What the form's pages refused, by dotted JSON path."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def raw_for(form_class: type[forms.Form], values: Mapping[str, Any] | None) -> Raw:
    """One page's answers as the browser would post them."""
    raw: Raw = {}
    for name, form_field in form_class.base_fields.items():
        if values is None or name not in values:
            continue
        value = values[name]
        if isinstance(form_field, GovukDateField):
            if isinstance(value, dt.date):
                raw.update(
                    {
                        f"{name}_0": [str(value.day)],
                        f"{name}_1": [str(value.month)],
                        f"{name}_2": [str(value.year)],
                    }
                )
        elif is_yes_no(form_field):
            if value is None:
                if has_not_known(form_field):
                    raw[name] = ["not_known"]
            else:
                raw[name] = ["yes" if value else "no"]
        elif isinstance(value, (list, tuple)):
            raw[name] = [str(v) for v in value]
        elif value is not None:
            raw[name] = [str(value)]
    return raw


def draft_from_payload(data: Mapping[str, Any]) -> tuple[flow.Draft, dict[str, list[str]]]:
    """The draft the form would hold, and any error found on the way (an unknown district)."""
    errors: dict[str, list[str]] = {}
    draft = flow.Draft()
    draft.set_raw("who", {"referral_type": [str(data.get("referral_type", ""))]})
    if data.get("referrer") is not None:
        draft.set_raw("referrer", raw_for(pf.ReferrerForm, data["referrer"]))
    draft.set_raw("consent", raw_for(pf.ConsentForm, data.get("consent")))
    draft.set_raw("survivor", raw_for(pf.SurvivorForm, data.get("survivor")))
    address = data.get("address") or {}
    draft.set_raw("address", raw_for(pf.AddressForm, address))
    district = _district(draft, address, errors)
    if district is not None:
        draft.set_raw("district", {"district": [str(district.pk)]})
    draft.set_raw("housing", raw_for(pf.HousingForm, data.get("housing")))
    draft.set_raw("safe-contact", raw_for(pf.SafeContactForm, data.get("safe_contact")))
    for slug, key, form_class in (
        ("children", "children", pf.ChildForm),
        ("adults", "other_adults", pf.AdultForm),
    ):
        people: Sequence[Mapping[str, Any]] = data.get(key) or []
        draft.set_raw(slug, {"any": ["yes" if people else "no"]})
        draft.set_people(slug, [raw_for(form_class, person) for person in people])
    perpetrator = data.get("perpetrator")
    draft.set_raw("perpetrator", {"known": ["yes" if perpetrator is not None else "no"]})
    if perpetrator is not None:
        draft.set_raw("perpetrator-details", raw_for(pf.PerpetratorForm, perpetrator))
    draft.set_raw("risk", raw_for(pf.RiskForm, data.get("risk")))
    draft.set_raw("request", raw_for(pf.RequestForm, data.get("request")))
    draft.set_raw("urgency", raw_for(pf.UrgencyForm, data.get("urgency")))
    return draft, errors


def _district(
    draft: flow.Draft, address: Mapping[str, Any], errors: dict[str, list[str]]
) -> District | None:
    # The district page's own read, kept for it (one query, not two: issue 17).
    draft.districts = page = district_page()
    code = str(address.get("district") or "").strip()
    if code:
        district = page.by_code.get(code)
        if district is None:
            errors["address.district"] = [UNKNOWN_DISTRICT]
        return district
    district = flow.district_for_postcode(str(address.get("postcode") or ""), page)
    if district is None and address.get("postcode"):
        errors["address.district"] = [NO_DISTRICT]
    return district


def validate_draft(draft: flow.Draft) -> dict[str, list[str]]:
    """Every applicable page through its own form, errors by JSON path."""
    errors: dict[str, list[str]] = {}
    for step in flow.applicable_steps(draft):
        section = SECTION_OF_STEP[step.slug]
        if step.slug in DERIVED_FIELDS:
            people_kind = step.slug if step.slug in flow.PEOPLE_KINDS else None
            if people_kind:
                for index in range(len(draft.people(people_kind))):
                    form = flow.draft_person_form(draft, people_kind, index)
                    if not form.is_valid():
                        _collect(errors, f"{section}.{index}", form)
            continue
        if draft.raw(step.slug) is None:
            if step.slug == "district":
                errors.setdefault("address.district", [NO_DISTRICT])
            else:
                errors.setdefault(section or step.slug, ["This section is required."])
            continue
        form = step.form(draft)
        if not form.is_valid():
            prefix = section or ""
            if step.slug == "district":
                errors.setdefault("address.district", [UNKNOWN_DISTRICT])
            else:
                _collect(errors, prefix, form)
            continue
        if step.blocked(form.cleaned_data):
            if step.slug == "consent":
                errors.setdefault("consent.consent_given", []).append(CONSENT_REFUSED)
            else:
                errors.setdefault("address.district", []).append(NO_DISTRICT)
    return errors


def _collect(errors: dict[str, list[str]], prefix: str, form: forms.Form) -> None:
    for name, messages in form.errors.items():
        field = "" if name == NON_FIELD_ERRORS else name
        path = ".".join(p for p in (prefix, field) if p) or "request"
        errors.setdefault(path, []).extend(str(m) for m in messages)


def submission_from_payload(data: Mapping[str, Any]) -> ReferralSubmission:
    """The service's input, or ``SubmissionInvalid`` with what the form's pages refused."""
    draft, errors = draft_from_payload(data)
    errors.update({k: v for k, v in validate_draft(draft).items() if k not in errors})
    if errors:
        raise SubmissionInvalid(errors)
    try:
        return flow.submission_from_draft(draft)
    except flow.IncompleteDraft as incomplete:
        # validate_draft covers every page, so this means the flow grew a rule it does not know.
        section = SECTION_OF_STEP.get(incomplete.slug) or incomplete.slug
        raise SubmissionInvalid({section: ["This section is not complete."]}) from None
