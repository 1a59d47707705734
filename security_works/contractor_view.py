"""What a contractor may see of a job: one allow-list for the job pages, the job sheet (PDF) and the
API alike, so nothing else can reach a contractor by accident.

A contractor needs to find the property, arrange the visit safely and do the works. So it gets:

- the job itself (reference, status, priority, district, dates, deadlines) and the measures;
- while the job is open and its organisation holds the address grant (``job_address_visible``):
  the survivor's first name, the address, the tenure and the landlord's contact (for consent), the
  access and hazard notes the SPA wrote for the contractor, and ``VisitContact``: only the ways of
  contact that are marked safe *and* that a contractor uses to arrange a visit (phone, text,
  letter), the safe times and the "do not" rules.

Never: the referral's narrative, risk and DASH, the perpetrator, other household members, channels
not marked safe, the survivor's email address (email is not a contractor's channel), the safe
third-party contact, or the free-text contact notes (written for the SPA, not for a visit).

The field names below are the allow-list: ``ADDRESS_FIELDS`` and ``VISIT_CONTACT_FIELDS`` are what
the API serializers declare and what ``tests/test_security_works_contractor_view.py`` checks the
page, the PDF and the API against.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from safer.casefile.models import CaseFile, ContactChannel, SafeContactRules
from safer.casefile.templatetags.casefile import safe_contact_warnings
from security_works.models import SecurityJob

# The channels a contractor may use to arrange a visit, when marked safe. Email is left out on
# purpose: a contractor has no need of the survivor's email address.
VISIT_CHANNELS: tuple[str, ...] = (ContactChannel.PHONE, ContactChannel.TEXT, ContactChannel.LETTER)
NO_SAFE_ROUTE = (
    "No safe way for a contractor to contact the survivor is recorded: arrange the visit through "
    "the SPA."
)


@dataclass(frozen=True)
class VisitContact:
    """How (and when) a contractor may contact the survivor to arrange a visit."""

    safe_channels: tuple[str, ...]  # ContactChannel values, only those in VISIT_CHANNELS
    phone: str  # blank unless phone or text is a safe channel
    voicemail_safe: bool
    text_safe: bool
    safe_times: str
    organisation_name_may_be_used: bool

    @property
    def channel_labels(self) -> list[str]:
        labels = dict(ContactChannel.choices)
        return [str(labels[c]) for c in self.safe_channels]

    @property
    def warnings(self) -> list[str]:
        """The "do not" lines, first; a route through the SPA when none is left."""
        warnings = [w for w in safe_contact_warnings(self._as_rules()) if "channel" not in w]
        if not self.safe_channels:
            warnings.insert(0, NO_SAFE_ROUTE)
        return warnings

    def _as_rules(self) -> SafeContactRules:
        # An unsaved stand-in carrying only allow-listed values, for the shared warning rule.
        return SafeContactRules(
            safe_channels=list(self.safe_channels),
            voicemail_safe=self.voicemail_safe,
            text_safe=self.text_safe,
            organisation_name_may_be_used=self.organisation_name_may_be_used,
        )


VISIT_CONTACT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(VisitContact))


def visit_contact_from(rules: SafeContactRules | None) -> VisitContact | None:
    if rules is None:
        return None
    channels = tuple(
        c
        for c in VISIT_CHANNELS
        if c in rules.safe_channels and (c != ContactChannel.TEXT or rules.text_safe)
    )
    by_phone = ContactChannel.PHONE in channels or ContactChannel.TEXT in channels
    return VisitContact(
        safe_channels=channels,
        phone=rules.phone if by_phone else "",
        voicemail_safe=rules.voicemail_safe and ContactChannel.PHONE in channels,
        text_safe=ContactChannel.TEXT in channels,
        safe_times=rules.safe_times,
        organisation_name_may_be_used=rules.organisation_name_may_be_used,
    )


@dataclass(frozen=True)
class JobAddress:
    """What a contractor needs to reach the property and arrange the visit, while the job is
    open. Built only by ``job_address_for_contractor`` (called by ``job_address_reveal``, which
    decides whether it may be seen and logs the reveal)."""

    survivor_first_name: str
    address_line_1: str
    address_line_2: str
    town: str
    postcode: str
    tenure: str
    landlord_name: str
    landlord_contact: str
    access_notes: str
    safe_contact: VisitContact | None


ADDRESS_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(JobAddress))


def job_address_for_contractor(*, job: SecurityJob) -> JobAddress:
    """Read the allow-listed fields of the job's case file (no access check: see the docstring)."""
    case_file = CaseFile.objects.select_related("household", "survivor").get(pk=job.case_file_id)
    household = case_file.household
    rules = SafeContactRules.objects.filter(case_file=case_file).first()
    return JobAddress(
        survivor_first_name=case_file.survivor.given_name,
        address_line_1=household.address_line_1,
        address_line_2=household.address_line_2,
        town=household.town,
        postcode=household.postcode,
        tenure=household.get_tenure_display(),
        landlord_name=household.landlord_name,
        landlord_contact=household.landlord_contact,
        access_notes=job.access_notes,
        safe_contact=visit_contact_from(rules),
    )


def address_data(address: JobAddress | None) -> dict[str, Any] | None:
    """The address as plain data (the API, the PDF): exactly ``ADDRESS_FIELDS``."""
    if address is None:
        return None
    data: dict[str, Any] = {name: getattr(address, name) for name in ADDRESS_FIELDS}
    contact = address.safe_contact
    data["safe_contact"] = (
        None
        if contact is None
        else {
            name: list(value) if isinstance(value, tuple) else value
            for name in VISIT_CONTACT_FIELDS
            for value in [getattr(contact, name)]
        }
    )
    return data
