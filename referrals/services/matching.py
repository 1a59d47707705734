"""Possible repeats: an earlier referral of the same person (name and date of birth, allowing
for typos) or of the same address, within 12 months. Found at submission, decided by a person
at triage ("link as repeat" / "not the same person"); nothing is ever merged automatically."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.contrib.postgres.search import TrigramSimilarity
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone

from referrals.exceptions import InvalidTransition
from referrals.models import MatchStatus, Referral, ReferralMatch
from safer.accounts.models import User
from safer.audit.history import history_context
from safer.casefile.services import case_event_record
from safer.validation import postcode_normalise

MATCH_WINDOW = dt.timedelta(days=365)
# Edit distances that still count as the same name: one slip in a family name ("Smith"/"Smyth"),
# two in a given name ("Jon"/"John", "Katharine"/"Katherine").
FAMILY_NAME_MAX_EDITS = 1
GIVEN_NAME_MAX_EDITS = 2
# Trigram similarity of the whole name, for longer names with more than one slip.
FULL_NAME_MIN_SIMILARITY = 0.55
ADDRESS_MIN_SIMILARITY = 0.5


class Levenshtein(models.Func):
    """fuzzystrmatch's levenshtein(); enabled by migration 0004."""

    function = "levenshtein"
    output_field = models.IntegerField()


def _dates_of_birth(dob: dt.date) -> list[dt.date]:
    """The date and, where it makes a valid date, its day and month swapped (01/02 vs 02/01)."""
    dates = [dob]
    if dob.day <= 12 and dob.day != dob.month:
        with contextlib.suppress(ValueError):
            dates.append(dob.replace(month=dob.day, day=dob.month))
    return dates


@transaction.atomic
def referral_matches_find(*, referral: Referral) -> list[ReferralMatch]:
    """Record the earlier referrals (same authority, last 12 months) that may be this person or
    this address. Returns the matches created."""
    case_file = referral.case_file
    survivor = case_file.survivor
    household = case_file.household
    candidates = (
        Referral.objects.filter(
            case_file__authority_id=case_file.authority_id,
            received_at__gte=referral.received_at - MATCH_WINDOW,
            received_at__lte=referral.received_at,
        )
        .exclude(pk=referral.pk)
        .exclude(case_file_id=case_file.pk)
    )
    given = survivor.given_name.strip().lower()
    family = survivor.family_name.strip().lower()
    full = f"{given} {family}".strip()
    annotated = candidates.annotate(
        family_edits=Levenshtein(Lower("case_file__survivor__family_name"), Value(family)),
        given_edits=Levenshtein(Lower("case_file__survivor__given_name"), Value(given)),
        name_similarity=TrigramSimilarity(
            Lower(
                Concat(
                    "case_file__survivor__given_name",
                    Value(" "),
                    "case_file__survivor__family_name",
                    output_field=models.CharField(),
                )
            ),
            full,
        ),
        address_similarity=TrigramSimilarity(
            Lower("case_file__household__address_line_1"), household.address_line_1.lower()
        ),
    )
    person_q = Q(pk__in=[])
    if survivor.date_of_birth is not None and given:
        close_name = Q(name_similarity__gte=FULL_NAME_MIN_SIMILARITY)
        if family:
            close_name |= Q(
                family_edits__lte=FAMILY_NAME_MAX_EDITS, given_edits__lte=GIVEN_NAME_MAX_EDITS
            )
        person_q = (
            Q(case_file__survivor__date_of_birth__in=_dates_of_birth(survivor.date_of_birth))
            & close_name
        )
    address_q = Q(
        case_file__household__postcode=postcode_normalise(household.postcode),
        address_similarity__gte=ADDRESS_MIN_SIMILARITY,
    )
    rows = (
        annotated.filter(person_q | address_q)
        .annotate(person_hit=_as_bool(person_q), address_hit=_as_bool(address_q))
        .values("pk", "person_hit", "address_hit", "name_similarity", "address_similarity")
    )
    created = []
    for row in rows:
        match, was_created = ReferralMatch.objects.get_or_create(
            referral=referral,
            candidate_id=row["pk"],
            defaults={
                "on_person": row["person_hit"],
                "on_address": row["address_hit"],
                "similarity": round(
                    row["name_similarity"] if row["person_hit"] else row["address_similarity"],
                    3,
                ),
            },
        )
        if was_created:
            created.append(match)
    return created


def _as_bool(condition: Q) -> models.ExpressionWrapper:
    return models.ExpressionWrapper(condition, output_field=models.BooleanField())


@transaction.atomic
def referral_match_resolve(*, match: ReferralMatch, user: User, same_person: bool) -> ReferralMatch:
    """Link the referral as a repeat of the earlier one, or record that it is someone else."""
    with history_context(actor=user, source="referral_match_resolve"):
        referral = Referral.objects.select_for_update(of=("self",)).get(pk=match.referral_id)
        locked = ReferralMatch.objects.select_for_update().get(pk=match.pk)
        if not referral.is_open:
            raise InvalidTransition("This referral has been decided: its matches are closed.")
        if locked.status != MatchStatus.OPEN:
            raise InvalidTransition("Someone has already decided about this possible match.")
        locked.status = MatchStatus.LINKED if same_person else MatchStatus.DISMISSED
        locked.resolved_by = user
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "resolved_by", "resolved_at"])
        if same_person and referral.repeat_of_id is None:
            referral.repeat_of_id = locked.candidate_id
            referral.save(update_fields=["repeat_of"])
        case_event_record(
            case_file=referral.case_file,
            kind="referral_linked_as_repeat" if same_person else "referral_match_dismissed",
            summary=(
                "Linked as a repeat of an earlier referral"
                if same_person
                else "Marked as not the same person as an earlier referral"
            ),
            actor=user,
            data={"referral_id": str(referral.id), "candidate_id": str(locked.candidate_id)},
        )
        return locked
