"""Sharing a case with a worker of the other service (the adult's worker reading the child's case,
or the reverse), read-only, when the person has agreed or safeguarding requires it.

The only callers that grant ``read_support_notes`` (through ``safer.access.services``, where every
object-permission grant is made). Each share and withdrawal is one transaction with its
``CaseEvent``. The basis is a code, not free text: the timeline is read by every service
on the household and must carry no details.
"""

from __future__ import annotations

from django.db import models, transaction

from safer.access.roles import CASEWORK_ROLES, user_roles
from safer.access.services import object_access_grant, object_access_revoke
from safer.accounts.models import User
from safer.casefile.models import CaseFile
from support.exceptions import InvalidRecord, SupportError
from support.models import READ_SUPPORT_NOTES, AdultSupportCase, CypCase
from support.services import common


class ShareBasis(models.TextChoices):
    CONSENT = "consent", "The person (or the child's parent or carer) agreed"
    SAFEGUARDING = "safeguarding", "Safeguarding: needed to protect someone from harm"


@transaction.atomic
def support_case_share(
    *, case: AdultSupportCase | CypCase, user: User, shared_by: User, basis: str
) -> bool:
    """Let ``user`` read ``case`` (its notes included). False when they already could.

    The reader must already work on the household's case file (so a share never reaches outside
    the authority or to someone with no part in the family's support).
    """
    locked = common.lock(case)
    common.check_open(locked, attempted="shared")
    if basis not in ShareBasis.values:
        raise InvalidRecord("Say why the case is shared: consent or safeguarding.")
    if not user.is_active or not user_roles(user) & CASEWORK_ROLES:
        raise SupportError("A case can only be shared with an active support worker.")
    if not CaseFile.objects.visible_to(user).filter(pk=locked.case_file_id).exists():
        raise SupportError(f"{user.full_name} does not work on this household's case file.")
    if not object_access_grant(obj=locked, codename=READ_SUPPORT_NOTES, user=user):
        return False
    common.event(
        locked,
        "shared",
        f"{common.case_label(locked)} shared (read only) with {user.full_name} "
        f"({user.organisation})",
        actor=shared_by,
        reader_id=str(user.pk),
        basis=basis,
    )
    return True


@transaction.atomic
def support_case_unshare(
    *, case: AdultSupportCase | CypCase, user: User, withdrawn_by: User
) -> bool:
    locked = common.lock(case)
    if not object_access_revoke(obj=locked, codename=READ_SUPPORT_NOTES, user=user):
        return False
    common.event(
        locked,
        "unshared",
        f"{common.case_label(locked)} no longer shared with {user.full_name}",
        actor=withdrawn_by,
        reader_id=str(user.pk),
    )
    return True
