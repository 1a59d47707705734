"""The public referral form as a sequence of question pages over one server-side draft.

The draft keeps what was typed on each page exactly as posted, so a page can always be shown
again as it was, and every page is re-validated before the referral is built from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from referrals.choices import ConsentMethod, TransStatus, YesNoUnknown
from referrals.forms import public as pf
from referrals.forms.fields import postcode_outward
from referrals.models import ReferralSource
from referrals.selectors import DistrictPage, district_page
from referrals.services.submit import (
    ConsentDetails,
    ReferralSubmission,
    ReferrerDetails,
    RiskReport,
    ServiceRequest,
)
from safer.casefile.intake import (
    AddressDetails,
    PerpetratorDetails,
    PersonDetails,
    SafeContactDetails,
)
from safer.organisations.models import District

Raw = dict[str, list[str]]
PEOPLE_KINDS = ("children", "adults")


class IncompleteDraft(Exception):
    """A page of the draft is missing or no longer valid."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


class Draft:
    """The answers so far: ``{"steps": {slug: raw}, "children": [raw], "adults": [raw]}``."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data: dict[str, Any] = data or {}
        self.data.setdefault("steps", {})
        self.data.setdefault("children", [])
        self.data.setdefault("adults", [])
        self.data.setdefault("reviewing", False)
        # The pages' bound forms, each validated once however often it is asked for; any change
        # to the answers drops them all (a page's choices may come from another page's answers).
        self._forms: dict[tuple[str, ...], forms.Form] = {}
        # The district page as already read for this request (the API's adapter), so the
        # page is not read again; None: the page reads it.
        self.districts: DistrictPage | None = None

    def bound(self, key: tuple[str, ...], make: Callable[[], forms.Form]) -> forms.Form:
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = make()
        return form

    def raw(self, slug: str) -> Raw | None:
        value = self.data["steps"].get(slug)
        return value if isinstance(value, dict) else None

    def set_raw(self, slug: str, raw: Raw) -> None:
        self._forms.clear()
        self.data["steps"][slug] = raw

    def clear_raw(self, slug: str) -> None:
        self._forms.clear()
        self.data["steps"].pop(slug, None)

    def answer(self, slug: str, name: str) -> str:
        values = (self.raw(slug) or {}).get(name) or [""]
        return values[0]

    @property
    def self_referral(self) -> bool:
        return self.answer("who", "referral_type") == "self"

    @property
    def reviewing(self) -> bool:
        return bool(self.data.get("reviewing"))

    @reviewing.setter
    def reviewing(self, value: bool) -> None:
        self.data["reviewing"] = value

    def people(self, kind: str) -> list[Raw]:
        return list(self.data[kind])

    def set_people(self, kind: str, people: list[Raw]) -> None:
        self._forms.clear()
        self.data[kind] = people


def raw_from_post(form: forms.Form, post: Any) -> Raw:
    """What was posted for this form's fields, exactly as typed."""
    raw: Raw = {}
    for name, form_field in form.fields.items():
        widget = form_field.widget
        if isinstance(widget, forms.MultiWidget):
            keys = [f"{name}_{i}" for i in range(len(widget.widgets))]
        else:
            keys = [name]
        for key in keys:
            values = post.getlist(key)
            if values:
                raw[key] = [str(v)[:5000] for v in values]
    return raw


def bind(form_class: type[forms.Form], raw: Raw | None, **kwargs: Any) -> forms.Form:
    if raw is None:
        return form_class(**kwargs)
    return form_class(data=MultiValueDict(raw), **kwargs)


# --- The steps --------------------------------------------------------------------------------


def _always(draft: Draft) -> bool:
    return True


def _no_kwargs(draft: Draft) -> dict[str, Any]:
    return {}


def _never_blocked(cleaned: dict[str, Any]) -> str:
    return ""


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form_class: type[forms.Form]
    applies: Callable[[Draft], bool] = _always
    form_kwargs: Callable[[Draft], dict[str, Any]] = _no_kwargs
    # The name of the page that stops the referral here ("" when it may go on).
    blocked: Callable[[dict[str, Any]], str] = _never_blocked
    # A page asking one question uses that question as its heading.
    heading_field: str = ""
    summary_title: str = ""

    def form(self, draft: Draft, data: Any = None) -> forms.Form:
        if data is not None:
            return self.form_class(data=data, **self.form_kwargs(draft))
        return draft.bound(
            ("step", self.slug),
            lambda: bind(self.form_class, draft.raw(self.slug), **self.form_kwargs(draft)),
        )

    def cleaned(self, draft: Draft) -> dict[str, Any] | None:
        if draft.raw(self.slug) is None:
            return None
        form = self.form(draft)
        return form.cleaned_data if form.is_valid() else None


def _professional(draft: Draft) -> bool:
    return not draft.self_referral


def _consent_kwargs(draft: Draft) -> dict[str, Any]:
    return {"self_referral": draft.self_referral}


def _consent_blocked(cleaned: dict[str, Any]) -> str:
    return "refer:no-consent" if pf.ConsentForm.refused(cleaned) else ""


def _district_blocked(cleaned: dict[str, Any]) -> str:
    return "refer:not-eligible" if cleaned.get("district") == pf.OUTSIDE_AREA else ""


def _children_label(draft: Draft) -> dict[str, Any]:
    return {
        "label": "Are there any children in the household, or children affected by the abuse?",
        "error": "Select yes if there are any children",
    }


def _adults_label(draft: Draft) -> dict[str, Any]:
    return {
        "label": "Do any other adults live at the address?",
        "error": "Select yes if other adults live there",
    }


def _perpetrator_known(draft: Draft) -> bool:
    return draft.answer("perpetrator", "known") == "yes"


def _district_kwargs(draft: Draft) -> dict[str, Any]:
    return {} if draft.districts is None else {"page": draft.districts}


def _request_kwargs(draft: Draft) -> dict[str, Any]:
    return {"children": child_choices(draft)}


STEPS: list[Step] = [
    Step(
        "who",
        "Who is making this referral?",
        pf.WhoForm,
        heading_field="referral_type",
        summary_title="Referral",
    ),
    Step("referrer", "Your details", pf.ReferrerForm, applies=_professional),
    Step(
        "consent", "Consent", pf.ConsentForm, form_kwargs=_consent_kwargs, blocked=_consent_blocked
    ),
    Step("survivor", "The person being referred", pf.SurvivorForm),
    Step("address", "Their address", pf.AddressForm),
    Step(
        "district",
        "Council area",
        pf.DistrictForm,
        form_kwargs=_district_kwargs,
        blocked=_district_blocked,
        heading_field="district",
    ),
    Step("housing", "Their home", pf.HousingForm),
    Step("safe-contact", "Contacting them safely", pf.SafeContactForm),
    Step(
        "children", "Children", pf.AnyPeopleForm, form_kwargs=_children_label, heading_field="any"
    ),
    Step(
        "adults", "Other adults", pf.AnyPeopleForm, form_kwargs=_adults_label, heading_field="any"
    ),
    Step("perpetrator", "The person causing harm", pf.PerpetratorKnownForm, heading_field="known"),
    Step(
        "perpetrator-details",
        "The person causing harm",
        pf.PerpetratorForm,
        applies=_perpetrator_known,
        summary_title="Details of the person causing harm",
    ),
    Step("risk", "Risk", pf.RiskForm),
    Step(
        "request",
        "What support is needed",
        pf.RequestForm,
        form_kwargs=_request_kwargs,
        heading_field="services",
    ),
    Step("urgency", "Urgency", pf.UrgencyForm),
]
STEPS_BY_SLUG = {step.slug: step for step in STEPS}

PEOPLE: dict[str, dict[str, Any]] = {
    "children": {
        "form_class": pf.ChildForm,
        "singular": "child",
        "add_title": "Add a child",
        "list_title": "Children",
        "add_another": "Do you need to add another child?",
    },
    "adults": {
        "form_class": pf.AdultForm,
        "singular": "adult",
        "add_title": "Add another adult who lives there",
        "list_title": "Other adults",
        "add_another": "Do you need to add another adult?",
    },
}


def applicable_steps(draft: Draft) -> list[Step]:
    return [step for step in STEPS if step.applies(draft)]


def person_form(kind: str, raw: Raw | None) -> forms.Form:
    return bind(PEOPLE[kind]["form_class"], raw)


def draft_person_form(draft: Draft, kind: str, index: int) -> forms.Form:
    """The bound form of one person in the draft (validated once per draft)."""
    return draft.bound(
        ("person", kind, str(index)), lambda: person_form(kind, draft.people(kind)[index])
    )


def valid_people(draft: Draft, kind: str) -> list[dict[str, Any]]:
    cleaned = []
    for index in range(len(draft.data[kind])):
        form = draft_person_form(draft, kind, index)
        if form.is_valid():
            cleaned.append(form.cleaned_data)
    return cleaned


def step_complete(draft: Draft, step: Step) -> bool:
    cleaned = step.cleaned(draft)
    if cleaned is None or step.blocked(cleaned):
        return False
    if step.slug in PEOPLE_KINDS and cleaned.get("any") == "yes":
        people = draft.people(step.slug)
        return bool(people) and len(valid_people(draft, step.slug)) == len(people)
    return True


def first_incomplete(draft: Draft) -> Step | None:
    for step in applicable_steps(draft):
        if not step_complete(draft, step):
            return step
    return None


def step_url(step: Step) -> str:
    return reverse("refer:question", kwargs={"slug": step.slug})


def url_after(draft: Draft, step: Step, cleaned: dict[str, Any]) -> str:
    """Where to go once a page is answered."""
    block = step.blocked(cleaned)
    if block:
        return reverse(block)
    if step.slug in PEOPLE_KINDS and cleaned.get("any") == "yes":
        return reverse(f"refer:{step.slug}-list")
    return url_next(draft, step)


def url_next(draft: Draft, step: Step) -> str:
    if draft.reviewing:
        incomplete = first_incomplete(draft)
        return step_url(incomplete) if incomplete else reverse("refer:check")
    steps = applicable_steps(draft)
    later = steps[steps.index(step) + 1 :] if step in steps else []
    return step_url(later[0]) if later else reverse("refer:check")


def url_back(draft: Draft, step: Step) -> str:
    if draft.reviewing:
        return reverse("refer:check")
    steps = applicable_steps(draft)
    if step not in steps or steps.index(step) == 0:
        return reverse("refer:start")
    previous = steps[steps.index(step) - 1]
    if previous.slug in PEOPLE_KINDS and draft.answer(previous.slug, "any") == "yes":
        return reverse(f"refer:{previous.slug}-list")
    return step_url(previous)


def child_choices(draft: Draft) -> list[tuple[str, str]]:
    if draft.answer("children", "any") != "yes":
        return []
    return [(str(i), person_name(child)) for i, child in enumerate(valid_people(draft, "children"))]


def person_name(cleaned: dict[str, Any]) -> str:
    return f"{cleaned.get('given_name', '')} {cleaned.get('family_name', '')}".strip()


# --- Check your answers -----------------------------------------------------------------------


@dataclass
class SummaryRow:
    key: str
    value: str
    change_url: str


@dataclass
class SummarySection:
    title: str
    rows: list[SummaryRow] = field(default_factory=list)


def display(form_field: forms.Field, value: Any) -> str:
    if value in (None, "", [], ()):
        return "Not given"
    if isinstance(value, dt.date):
        return value.strftime("%-d %B %Y")
    if isinstance(form_field, forms.ChoiceField):
        labels = dict(_flat_choices(form_field.choices))
        if isinstance(value, list):
            return ", ".join(str(labels.get(v, v)) for v in value)
        return str(labels.get(value, value))
    return str(value)


def _flat_choices(choices: Any) -> Iterator[tuple[Any, Any]]:
    for key, label in choices:
        if isinstance(label, (list, tuple)):
            yield from label
        else:
            yield key, label


def summary(draft: Draft) -> list[SummarySection]:
    sections: list[SummarySection] = []
    for step in applicable_steps(draft):
        form = step.form(draft)
        if not form.is_valid():
            continue
        section = SummarySection(step.summary_title or step.title)
        for name, form_field in form.fields.items():
            section.rows.append(
                SummaryRow(
                    key=str(form_field.label),
                    value=display(form_field, form.cleaned_data.get(name)),
                    change_url=step_url(step),
                )
            )
        sections.append(section)
        if step.slug in PEOPLE_KINDS and form.cleaned_data.get("any") == "yes":
            for index, cleaned in enumerate(valid_people(draft, step.slug)):
                sections[-1].rows.append(
                    SummaryRow(
                        key=f"{PEOPLE[step.slug]['singular'].capitalize()} {index + 1}",
                        value=person_summary(cleaned),
                        change_url=reverse(f"refer:{step.slug}-edit", kwargs={"index": index}),
                    )
                )
    return sections


def person_summary(cleaned: dict[str, Any]) -> str:
    parts = [person_name(cleaned)]
    dob = cleaned.get("date_of_birth")
    if dob:
        parts.append(f"born {dob:%-d %B %Y}")
    elif cleaned.get("age") is not None:
        parts.append(f"aged {cleaned['age']}")
    parts.append(
        "lives at the address"
        if cleaned.get("lives_at_address") == "yes"
        else "does not live at the address"
    )
    return ", ".join(parts)


# --- Building the submission ------------------------------------------------------------------


def _cleaned(draft: Draft, slug: str) -> dict[str, Any]:
    step = STEPS_BY_SLUG[slug]
    cleaned = step.cleaned(draft)
    if cleaned is None:
        raise IncompleteDraft(slug)
    return cleaned


def _yes(value: str | None) -> bool:
    return value == "yes"


def submission_from_draft(draft: Draft) -> ReferralSubmission:
    """The service's input, from a complete draft (raises ``IncompleteDraft`` otherwise)."""
    incomplete = first_incomplete(draft)
    if incomplete is not None:
        raise IncompleteDraft(incomplete.slug)
    self_referral = draft.self_referral
    consent = _cleaned(draft, "consent")
    survivor = _cleaned(draft, "survivor")
    address = _cleaned(draft, "address")
    housing = _cleaned(draft, "housing")
    contact = _cleaned(draft, "safe-contact")
    risk = _cleaned(draft, "risk")
    request = _cleaned(draft, "request")
    urgency = _cleaned(draft, "urgency")
    district_form = STEPS_BY_SLUG["district"].form(draft)
    if not isinstance(district_form, pf.DistrictForm):
        raise IncompleteDraft("district")
    district = district_form.districts[_cleaned(draft, "district")["district"]]

    referrer = None
    if not self_referral:
        r = _cleaned(draft, "referrer")
        referrer = ReferrerDetails(
            name=r["name"],
            organisation=r["organisation"],
            agency_type=r["agency_type"],
            role=r["role"],
            email=r["email"],
            phone=r["phone"],
        )

    children = []
    if draft.answer("children", "any") == "yes":
        children = [
            PersonDetails(
                given_name=c["given_name"],
                family_name=c["family_name"],
                date_of_birth=c["date_of_birth"],
                stated_age=c["age"],
                sex=c["sex"] or "not_known",
                lives_at_address=_yes(c["lives_at_address"]),
            )
            for c in valid_people(draft, "children")
        ]
    adults = []
    if draft.answer("adults", "any") == "yes":
        adults = [
            PersonDetails(
                given_name=a["given_name"],
                family_name=a["family_name"],
                date_of_birth=a["date_of_birth"],
                lives_at_address=_yes(a["lives_at_address"]),
            )
            for a in valid_people(draft, "adults")
        ]

    perpetrator = None
    if draft.answer("perpetrator", "known") == "yes":
        p = _cleaned(draft, "perpetrator-details")
        perpetrator = PerpetratorDetails(
            name=p["name"],
            date_of_birth=p["date_of_birth"],
            relationship=p["relationship"],
            lives_at_address=YesNoUnknown.to_bool(p["lives_at_address"]),
            has_keys=YesNoUnknown.to_bool(p["has_keys"]),
            whereabouts_known=YesNoUnknown.to_bool(p["whereabouts_known"]),
            bail_or_court_orders=p["bail_or_court_orders"],
            police_reference=p["police_reference"],
        )

    trans = survivor.get("trans_status") or ""
    return ReferralSubmission(
        source=ReferralSource.SELF if self_referral else ReferralSource.PROFESSIONAL,
        referrer=referrer,
        consent=ConsentDetails(
            given=_yes(consent["consent_given"]),
            date=consent.get("consent_date") or (timezone.localdate() if self_referral else None),
            method=ConsentMethod.SELF_REFERRAL if self_referral else consent["consent_method"],
            safeguarding_override_reason=consent.get("safeguarding_override_reason", ""),
        ),
        survivor=PersonDetails(
            given_name=survivor["given_name"],
            family_name=survivor["family_name"],
            date_of_birth=survivor["date_of_birth"],
            sex=survivor["sex"],
            gender_identity=survivor["gender_identity"],
            is_trans=True
            if trans == TransStatus.YES
            else False
            if trans == TransStatus.NO
            else None,
            ethnicity=survivor["ethnicity"],
            disability=survivor["disability"],
            sexual_orientation=survivor["sexual_orientation"],
            religion=survivor["religion"],
            preferred_language=survivor["preferred_language"],
            interpreter_needed=_yes(survivor["interpreter_needed"]),
            no_recourse_to_public_funds=YesNoUnknown.to_bool(
                survivor["no_recourse_to_public_funds"]
            ),
        ),
        address=AddressDetails(
            district=district,
            address_line_1=address["address_line_1"],
            address_line_2=address["address_line_2"],
            town=address["town"],
            postcode=address["postcode"],
            tenure=housing["tenure"],
            tenancy_holder=housing["tenancy_holder"],
            landlord_name=housing["landlord_name"],
            landlord_contact=housing["landlord_contact"],
        ),
        safe_contact=SafeContactDetails(
            safe_channels=list(contact["safe_channels"]),
            phone=contact["phone"],
            email=contact["email"],
            voicemail_safe=_yes(contact["voicemail_safe"]),
            text_safe=_yes(contact["text_safe"]),
            safe_times=contact["safe_times"],
            alternative_contact=contact["alternative_contact"],
            organisation_name_may_be_used=_yes(contact["organisation_name_may_be_used"]),
            notes=contact["notes"],
        ),
        children=children,
        other_adults=adults,
        perpetrator=perpetrator,
        risk=RiskReport(
            dash_completed=_yes(risk["dash_completed"]),
            dash_score=risk["dash_score"],
            dash_date=risk["dash_date"],
            marac_referred=YesNoUnknown.to_bool(risk["marac_referred"]),
            marac_date=risk["marac_date"],
            other_risks=tuple(risk["other_risks"]),
        ),
        request=ServiceRequest(
            security_works="security_works" in request["services"],
            adult_support="adult_support" in request["services"],
            children=tuple(int(i) for i in request.get("children") or ()),
            urgent=_yes(urgency["urgent"]),
            urgency_reason=urgency["urgency_reason"],
        ),
    )


def district_for_postcode(postcode: str, page: DistrictPage | None = None) -> District | None:
    """The one district whose outward codes include this postcode's, if exactly one does.

    ``page``: the district page as already read for this request; None: read it (kept per
    process, ``safer.refdata``)."""
    outward = postcode_outward(postcode) if postcode else ""
    if not outward:
        return None
    return (district_page() if page is None else page).for_postcode_outward(outward)
