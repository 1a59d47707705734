"""The core's own part in retention and subject access: the case file, its household, people,
safe-contact rules and perpetrators, the timeline and the access log."""

from __future__ import annotations

from django.db.models import Value
from django.db.models.functions import Concat

from safer.casefile.models import (
    CaseFile,
    Household,
    HouseholdRole,
    Perpetrator,
    Person,
    SafeContactOverride,
    SafeContactRules,
)
from safer.dataprotection.registry import (
    ErasableModel,
    SarGroup,
    SarSection,
    retention_erasable_register,
    subject_access_section_register,
)
from safer.search.expressions import outward_code_key

THIRD_PARTY_MEMBER = "Third party: another member of the household"
THIRD_PARTY_PERPETRATOR = "Third party: the person alleged to have caused harm"
MAY_NAME_OTHERS = "Staff note: may be about other people; check before release"

# Personal fields blanked when a case file's retention period ends. Codes (sex, ethnicity,
# tenure, district) stay: without a name, an address or a date of birth they identify nobody,
# and the figures of past periods are built from them (see decisions/0011).
CORE_ERASABLE = (
    ErasableModel(
        label="People",
        model=Person,
        case_file_path="household__case_files",
        blank=(
            "given_name",
            "family_name",
            "date_of_birth",
            "gender_identity",
            "disability",
            "preferred_language",
        ),
        order=10,
    ),
    ErasableModel(
        label="Addresses",
        model=Household,
        case_file_path="case_files",
        blank=("address_line_1", "address_line_2", "town", "landlord_name", "landlord_contact"),
        # The outward code (TN23) stays, for figures by area; the search indexes need a
        # postcode-shaped value, so the rest reads "***".
        replace=(("postcode", Concat(outward_code_key(), Value(" ***"))),),
        order=10,
    ),
    ErasableModel(
        label="Safe-contact rules",
        model=SafeContactRules,
        case_file_path="case_file",
        blank=("phone", "email", "safe_times", "alternative_contact", "notes"),
        order=10,
    ),
    ErasableModel(
        label="Perpetrator details",
        model=Perpetrator,
        case_file_path="case_file",
        blank=("name", "date_of_birth", "bail_or_court_orders", "police_reference"),
        order=10,
    ),
    ErasableModel(
        label="Safe-contact override reasons",
        model=SafeContactOverride,
        case_file_path="case_file",
        blank=("reason",),
        order=10,
    ),
)


def _case_file_section(case_file: CaseFile, person: Person) -> list[SarGroup]:
    case = SarGroup(title=f"Case {case_file.reference}")
    case.add("Reference", case_file.reference)
    case.add("Status", case_file.get_status_display())
    case.add("Opened", case_file.opened_at)
    case.add("Closed", case_file.closed_at)
    case.add("Kept until", case_file.retention_until)

    you = SarGroup(title="About you")
    you.add("Given name", person.given_name)
    you.add("Family name", person.family_name)
    you.add("Date of birth", person.date_of_birth)
    you.add("Role in the household", person.get_household_role_display())
    you.add("Sex", person.get_sex_display())
    you.add("Gender identity", person.gender_identity)
    you.add("Disability or access needs", person.disability)
    you.add("Preferred language", person.preferred_language)
    you.add("Interpreter needed", person.interpreter_needed)

    household = case_file.household
    home = SarGroup(title="Your address")
    home.add("Address", ", ".join(household.address_lines))
    home.add("Tenure", household.get_tenure_display())
    home.add("Landlord", household.landlord_name)

    groups = [case, you, home]
    others = [p for p in household.people.order_by("created_at", "id") if p.pk != person.pk]
    if others:
        members = SarGroup(title="Other members of the household")
        for other in others:
            name = f"{other.given_name} {other.family_name}".strip()
            members.add(other.get_household_role_display(), name, redact=THIRD_PARTY_MEMBER)
            members.add("Their date of birth", other.date_of_birth, redact=THIRD_PARTY_MEMBER)
        groups.append(members)

    if person.household_role == HouseholdRole.SURVIVOR:
        rules = SafeContactRules.objects.filter(case_file=case_file).first()
        if rules is not None:
            contact = SarGroup(title="How we may contact you")
            contact.add("Phone", rules.phone)
            contact.add("Email", rules.email)
            contact.add("Safe times", rules.safe_times)
            contact.add("Voicemail safe", rules.voicemail_safe)
            contact.add(
                "Someone else to contact", rules.alternative_contact, redact=MAY_NAME_OTHERS
            )
            contact.add("Notes", rules.notes, redact=MAY_NAME_OTHERS)
            groups.append(contact)
        for perpetrator in case_file.perpetrators.all():
            harm = SarGroup(title="The person alleged to have caused harm")
            harm.add("Name", perpetrator.name, redact=THIRD_PARTY_PERPETRATOR)
            harm.add("Date of birth", perpetrator.date_of_birth, redact=THIRD_PARTY_PERPETRATOR)
            harm.add("Relationship to you", perpetrator.get_relationship_display())
            harm.add(
                "Bail conditions or court orders",
                perpetrator.bail_or_court_orders,
                redact=THIRD_PARTY_PERPETRATOR,
            )
            harm.add(
                "Police reference", perpetrator.police_reference, redact=THIRD_PARTY_PERPETRATOR
            )
            groups.append(harm)

    timeline = SarGroup(title="What happened on the case")
    for event in case_file.timeline.select_related("actor"):
        who = event.actor.full_name if event.actor else "The system"
        timeline.add(event.occurred_at.strftime("%d %B %Y %H:%M UTC"), f"{event.summary} ({who})")
    groups.append(timeline)
    return groups


def register_core() -> None:
    retention_erasable_register(*CORE_ERASABLE)
    subject_access_section_register(
        SarSection(title="Your case file", build=_case_file_section, order=10)
    )
