"""Direct CYP referrals from refuge, dispersed and move-on accommodation providers.

The provider's staff sign in (this is not the public form). The referral opens a case file for
the family (the parent as the survivor, the child, the accommodation's address and the safe-
contact rules) and the child's CYP case, in one transaction. Possible duplicates are recorded on
the case for the CYP provider to check; the referrer is told nothing about them, and sees nothing
of the case afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from safer.access.scoping import user_authority_ids
from safer.accounts.models import User
from safer.casefile.intake import (
    AddressDetails,
    Intake,
    PersonDetails,
    SafeContactDetails,
    case_file_open_from_intake,
)
from safer.casefile.services import reference_next
from safer.organisations.models import OrganisationKind
from support.exceptions import InvalidRecord, SupportError
from support.models import DIRECT_REFERRAL_ACCOMMODATION, CypCase, CypSource
from support.selectors.duplicates import cyp_duplicate_candidates
from support.services.cyp import cyp_case_open


@dataclass(frozen=True)
class DirectCypReferral:
    child: PersonDetails
    parent: PersonDetails
    address: AddressDetails
    safe_contact: SafeContactDetails
    accommodation_type: str
    parent_consents: bool
    reason: str


@transaction.atomic
def cyp_direct_referral_submit(*, referral: DirectCypReferral, submitted_by: User) -> CypCase:
    organisation = submitted_by.organisation
    if organisation is None or organisation.kind != OrganisationKind.ACCOMMODATION:
        raise SupportError("Only staff of a refuge or accommodation provider can refer directly.")
    if referral.accommodation_type not in DIRECT_REFERRAL_ACCOMMODATION:
        raise InvalidRecord(
            "Direct referrals are for children in refuge, dispersed, move-on or other safe "
            "accommodation; a sanctuary scheme household is referred through the SPA."
        )
    if not referral.parent_consents:
        raise InvalidRecord("The parent or carer must agree to the referral.")
    if not referral.child.given_name.strip():
        raise InvalidRecord("Give the child's first name.")
    if not referral.reason.strip():
        raise InvalidRecord("Say why you are referring the child.")
    authority_id = referral.address.district.authority_id
    if authority_id not in user_authority_ids(submitted_by):
        raise InvalidRecord("That district is not in an area your organisation works for.")
    candidates = list(
        cyp_duplicate_candidates(
            authority_id=authority_id,
            given_name=referral.child.given_name,
            family_name=referral.child.family_name,
            date_of_birth=referral.child.date_of_birth,
        )
    )
    opened = case_file_open_from_intake(
        intake=Intake(
            reference=reference_next(),
            survivor=referral.parent,
            address=referral.address,
            safe_contact=referral.safe_contact,
            children=[referral.child],
        )
    )
    case = cyp_case_open(
        case_file=opened.case_file,
        child=opened.children[0],
        opened_by=submitted_by,
        accommodation_type=referral.accommodation_type,
        source=CypSource.DIRECT,
        referring_organisation=organisation,
        referred_by=submitted_by,
    )
    case.referral_note = referral.reason.strip()
    case.save(update_fields=["referral_note"])
    if candidates:
        case.possible_duplicates.set(candidates)
    return case
