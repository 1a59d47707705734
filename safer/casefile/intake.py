"""Opening a case file from an intake (a referral today; a partner API later).

The caller passes plain, already-validated values; this module creates the household, its
people, the case file, the safe-contact rules and the perpetrator record in the caller's
transaction. It knows nothing about referrals (the core imports no app).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import models, transaction

from safer import sqlbatch
from safer.casefile.contact import safe_times_fields
from safer.casefile.models import (
    CaseFile,
    ContactChannel,
    Household,
    HouseholdRole,
    Perpetrator,
    Person,
    SafeContactRules,
    Sex,
    WhoMayAnswer,
)
from safer.organisations.models import District


@dataclass(frozen=True)
class PersonDetails:
    given_name: str
    family_name: str = ""
    date_of_birth: dt.date | None = None
    stated_age: int | None = None
    sex: str = Sex.NOT_KNOWN
    gender_identity: str = ""
    is_trans: bool | None = None
    ethnicity: str = ""
    disability: str = ""
    sexual_orientation: str = ""
    religion: str = ""
    preferred_language: str = ""
    interpreter_needed: bool = False
    no_recourse_to_public_funds: bool | None = None
    lives_at_address: bool = True


@dataclass(frozen=True)
class AddressDetails:
    district: District
    address_line_1: str
    town: str
    postcode: str
    address_line_2: str = ""
    tenure: str = ""
    tenancy_holder: str = ""
    landlord_name: str = ""
    landlord_contact: str = ""


@dataclass(frozen=True)
class SafeContactDetails:
    safe_channels: Sequence[str]
    phone: str = ""
    email: str = ""
    voicemail_safe: bool = False
    text_safe: bool = False
    safe_times: str = ""
    alternative_contact: str = ""
    organisation_name_may_be_used: bool = False
    notes: str = ""
    who_may_answer: str = ""  # a WhoMayAnswer value; "" is "not stated"


@dataclass(frozen=True)
class PerpetratorDetails:
    name: str = ""
    date_of_birth: dt.date | None = None
    relationship: str = ""
    lives_at_address: bool | None = None
    has_keys: bool | None = None
    whereabouts_known: bool | None = None
    bail_or_court_orders: str = ""
    police_reference: str = ""


@dataclass(frozen=True)
class Intake:
    reference: str
    survivor: PersonDetails
    address: AddressDetails
    safe_contact: SafeContactDetails
    children: Sequence[PersonDetails] = ()
    other_adults: Sequence[PersonDetails] = ()
    perpetrator: PerpetratorDetails | None = None
    safeguarding_flag: bool = False


@dataclass(frozen=True)
class OpenedCaseFile:
    case_file: CaseFile
    survivor: Person
    children: list[Person] = field(default_factory=list)
    other_adults: list[Person] = field(default_factory=list)
    # Every new row, in the order to insert them (``case_file_build_from_intake``).
    rows: tuple[models.Model, ...] = ()


# No savepoint of its own (issue 17: two round trips a submission): its callers take the
# intake in their own transaction, and a failure here fails theirs.
@transaction.atomic(savepoint=False)
def case_file_open_from_intake(*, intake: Intake) -> OpenedCaseFile:
    """Create the household, people, case file, safe-contact rules and perpetrator record."""
    opened = case_file_build_from_intake(intake=intake)
    sqlbatch.execute_together(sqlbatch.inserts(opened.rows))
    return opened


def case_file_build_from_intake(*, intake: Intake) -> OpenedCaseFile:
    """The household, people, case file, safe-contact rules and perpetrator record, not saved
    yet: ``rows`` lists them for the caller to insert in its own transaction, with the rows of
    its own, in one round trip (``safer.sqlbatch``; issue 17: six round trips before). None of
    these models has a ``save()`` of its own or a signal receiver; their ids are made here;
    pghistory's triggers record each row's history as for a single insert."""
    address = intake.address
    authority = address.district.authority
    household = Household(
        authority=authority,
        district=address.district,
        address_line_1=address.address_line_1,
        address_line_2=address.address_line_2,
        town=address.town,
        postcode=address.postcode,
        tenure=address.tenure,
        tenancy_holder=address.tenancy_holder,
        landlord_name=address.landlord_name,
        landlord_contact=address.landlord_contact,
    )
    survivor = _person(household, HouseholdRole.SURVIVOR, intake.survivor)
    children = [_person(household, HouseholdRole.CHILD, c) for c in intake.children]
    adults = [_person(household, HouseholdRole.OTHER_ADULT, a) for a in intake.other_adults]
    case_file = CaseFile(
        reference=intake.reference,
        authority=authority,
        household=household,
        survivor=survivor,
        safeguarding_flag=intake.safeguarding_flag,
    )
    contact = intake.safe_contact
    channels = [c for c in contact.safe_channels if c in ContactChannel.values]
    # Text messages are safe only when the person said so; the flag and the channel agree.
    if contact.text_safe and ContactChannel.TEXT not in channels:
        channels.append(ContactChannel.TEXT)
    if not contact.text_safe and ContactChannel.TEXT in channels:
        channels.remove(ContactChannel.TEXT)
    rules = SafeContactRules(
        case_file=case_file,
        phone=contact.phone,
        email=contact.email,
        safe_channels=channels,
        voicemail_safe=contact.voicemail_safe,
        text_safe=contact.text_safe,
        safe_times=contact.safe_times,
        **safe_times_fields(contact.safe_times),
        alternative_contact=contact.alternative_contact,
        organisation_name_may_be_used=contact.organisation_name_may_be_used,
        notes=contact.notes,
        who_may_answer=contact.who_may_answer
        if contact.who_may_answer in WhoMayAnswer.values
        else WhoMayAnswer.NOT_STATED,
    )
    rows: list[models.Model] = [household, survivor, *children, *adults, case_file, rules]
    if intake.perpetrator is not None:
        p = intake.perpetrator
        rows.append(
            Perpetrator(
                case_file=case_file,
                name=p.name,
                date_of_birth=p.date_of_birth,
                relationship=p.relationship,
                lives_at_address=p.lives_at_address,
                has_keys=p.has_keys,
                whereabouts_known=p.whereabouts_known,
                bail_or_court_orders=p.bail_or_court_orders,
                police_reference=p.police_reference,
            )
        )
    return OpenedCaseFile(
        case_file=case_file,
        survivor=survivor,
        children=children,
        other_adults=adults,
        rows=tuple(rows),
    )


def _person(household: Household, role: str, details: PersonDetails) -> Person:
    return Person(
        household=household,
        household_role=role,
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
        stated_age=details.stated_age,
        sex=details.sex,
        gender_identity=details.gender_identity,
        is_trans=details.is_trans,
        ethnicity=details.ethnicity,
        disability=details.disability,
        sexual_orientation=details.sexual_orientation,
        religion=details.religion,
        preferred_language=details.preferred_language,
        interpreter_needed=details.interpreter_needed,
        no_recourse_to_public_funds=details.no_recourse_to_public_funds,
        lives_at_address=details.lives_at_address,
    )
