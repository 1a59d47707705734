"""Possible repeats: an earlier referral of the same person (name and date of birth, allowing
for typos) or of the same address, within 12 months. Found at submission, decided by a person
at triage ("link as repeat" / "not the same person"); nothing is ever merged automatically."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat, Lower
from django.db.models.query import EmptyQuerySet
from django.utils import timezone

from referrals.exceptions import InvalidTransition
from referrals.models import MatchStatus, Referral, ReferralMatch
from safer import sqlbatch
from safer.accounts.models import User
from safer.audit.history import history_context
from safer.casefile.models import CaseFile, Household, Person
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


@transaction.atomic(savepoint=False)  # part of the caller's change: no savepoint of its own
def referral_matches_find(
    *, referral: Referral, new: bool = False, writes: Sequence[sqlbatch.Statement] = ()
) -> list[ReferralMatch]:
    """Record the earlier referrals (same authority, last 12 months) that may be this person or
    this address. Returns the matches created. ``new``: the referral was created in this
    transaction, so it has no matches recorded yet to read first. ``writes``: the caller's
    statements (its new rows), sent ahead of the search in the same round trip.

    Two queries, each starting from an index rather than from the authority's referrals (issue
    17): the person branch from the survivors born on the date (``person_dob_idx``), the address
    branch from the households at the postcode whose first line is trigram-similar
    (``household_postcode`` and the GIN trigram index ``household_address_trgm``, through
    pg_trgm's ``%`` operator with the threshold set for this transaction only). One ``OR`` over
    both, as before, could be served by neither index and read every referral of the authority's
    year (550 ms at 100x the county data, with the reference lock held)."""
    search = _search_statement(referral)
    hits: dict[uuid.UUID, dict[str, float]] = {}
    if search is None:
        sqlbatch.execute_together(writes)
    for pk, similarity, branch in (
        sqlbatch.execute_together(writes, then=search) if search is not None else ()
    ):
        hits.setdefault(pk, {})[branch] = float(similarity)
    if not hits:
        return []
    # One read and one insert however many candidates (a get_or_create each cost four round
    # trips with its savepoint); a match already recorded is kept as it is.
    known = (
        set()
        if new
        else set(
            ReferralMatch.objects.filter(referral=referral, candidate_id__in=hits).values_list(
                "candidate_id", flat=True
            )
        )
    )
    created = [
        ReferralMatch(
            referral=referral,
            candidate_id=pk,
            on_person="person" in found,
            on_address="address" in found,
            similarity=round(found.get("person", found.get("address", 0.0)), 3),
        )
        for pk, found in hits.items()
        if pk not in known
    ]
    ReferralMatch.objects.bulk_create(created, ignore_conflicts=True)
    return created


def _earlier_referrals(referral: Referral) -> QuerySet[Referral]:
    """The authority's referrals of the 12 months before this one, other case files only."""
    case_file = referral.case_file
    return (
        Referral.objects.filter(
            case_file__authority_id=case_file.authority_id,
            received_at__gte=referral.received_at - MATCH_WINDOW,
            received_at__lte=referral.received_at,
        )
        .exclude(pk=referral.pk)
        .exclude(case_file_id=case_file.pk)
    )


def _person_candidates(candidates: QuerySet[Referral], *, survivor: Person) -> QuerySet[Any]:
    """The same person: born on the date (or with day and month swapped) with a close name."""
    given = survivor.given_name.strip().lower()
    family = survivor.family_name.strip().lower()
    if survivor.date_of_birth is None or not given:
        return candidates.none().values("pk")
    annotated = candidates.filter(
        case_file__survivor__date_of_birth__in=_dates_of_birth(survivor.date_of_birth)
    ).annotate(
        similarity=TrigramSimilarity(
            Lower(
                Concat(
                    "case_file__survivor__given_name",
                    Value(" "),
                    "case_file__survivor__family_name",
                    output_field=models.CharField(),
                )
            ),
            f"{given} {family}".strip(),
        )
    )
    close_name = Q(similarity__gte=FULL_NAME_MIN_SIMILARITY)
    if family:
        annotated = annotated.annotate(
            family_edits=Levenshtein(Lower("case_file__survivor__family_name"), Value(family)),
            given_edits=Levenshtein(Lower("case_file__survivor__given_name"), Value(given)),
        )
        close_name |= Q(
            family_edits__lte=FAMILY_NAME_MAX_EDITS, given_edits__lte=GIVEN_NAME_MAX_EDITS
        )
    return annotated.filter(close_name).values("pk", "similarity")


_THRESHOLD_SQL = "SELECT set_config('pg_trgm.similarity_threshold', %s, true); "
# A parallel worker costs more to start (about 5 ms at a million referrals) than the branches
# take to read the few rows at a date of birth or a postcode; the planner, counting a
# postcode's thousand-odd households over the whole county, starts one for the address branch
# (issue 17). Serial plans for this transaction only.
_SERIAL_SQL = "SELECT set_config('max_parallel_workers_per_gather', '0', true); "


def _search_compiled(
    *, person: QuerySet[Any], address: QuerySet[Any] | None
) -> sqlbatch.Statement | None:
    """Both branches as one statement (issue 17: three round trips before, the person query,
    the threshold and the address query); None when neither applies.

    The branches go as one ``UNION ALL``, which PostgreSQL plans branch by branch, so each
    still starts from its own index (an ``OR`` could not); the address branch's trigram
    threshold is set for this transaction (``set_config(…, true)``: ``SET LOCAL``, safe under
    PgBouncer's transaction pooling) by a statement sent ahead of it in the same call."""
    branches = [
        queryset.annotate(branch=Value(name, output_field=models.CharField())).values_list(
            "pk", "similarity", "branch"
        )
        for name, queryset in (("person", person), ("address", address))
        if queryset is not None and not isinstance(queryset, EmptyQuerySet)
    ]
    if not branches:
        return None
    combined = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
    sql, params = combined.query.sql_with_params()
    if address is not None and not isinstance(address, EmptyQuerySet):
        sql, params = _THRESHOLD_SQL + sql, (str(ADDRESS_MIN_SIMILARITY), *params)
    return sqlbatch.Statement(_SERIAL_SQL + sql, tuple(params))


def _search_statement(referral: Referral) -> sqlbatch.Statement | None:
    """``_search_compiled`` for this referral, from a template of its shape made once per
    process (issue 17: building and compiling the two branches through the ORM cost more CPU
    than anything else in a submission). The template is the ORM's own SQL: see
    ``_search_template``."""
    values = _search_values(referral)
    shape = _search_shape(values)
    person, _, _, address = shape
    if not (person or address):
        return None  # nothing to search by
    if shape not in _TEMPLATES:
        _TEMPLATES[shape] = _search_template(shape)
    template = _TEMPLATES[shape]
    if template is None:  # could not be made: the ORM every time
        return _search_compiled_for(referral)
    sql, slots = template
    return sqlbatch.Statement(
        sql, tuple(values[slot.name] if slot.name else slot.value for slot in slots)
    )


@dataclass(frozen=True)
class _Slot:
    name: str = ""  # the value of ``_search_values`` this parameter is; "" for a constant
    value: Any = None


_Shape = tuple[bool, bool, int, bool]
_TEMPLATES: dict[_Shape, tuple[str, tuple[_Slot, ...]] | None] = {}


def _search_compiled_for(referral: Referral) -> sqlbatch.Statement | None:
    case_file = referral.case_file
    candidates = _earlier_referrals(referral)
    return _search_compiled(
        person=_person_candidates(candidates, survivor=case_file.survivor),
        address=_address_query(candidates, household=case_file.household),
    )


def _search_values(referral: Referral) -> dict[str, Any]:
    """Everything of the referral the search's SQL depends on, as its parameters hold it."""
    case_file = referral.case_file
    survivor = case_file.survivor
    household = case_file.household
    given = survivor.given_name.strip().lower()
    family = survivor.family_name.strip().lower()
    dates = _dates_of_birth(survivor.date_of_birth) if survivor.date_of_birth else []
    return {
        "authority": case_file.authority_id,
        "since": referral.received_at - MATCH_WINDOW,
        "until": referral.received_at,
        "referral": referral.pk,
        "case_file": case_file.pk,
        **{f"date{i}": d for i, d in enumerate(dates)},
        "given": given,
        "family": family,
        "name": f"{given} {family}".strip(),
        "postcode": postcode_normalise(household.postcode),
        "line": household.address_line_1.strip().lower(),
    }


def _search_shape(values: dict[str, Any]) -> _Shape:
    """What decides the SQL's text: which branches and annotations there are."""
    dates = sum(1 for name in values if name.startswith("date"))
    return (bool(dates and values["given"]), bool(values["family"]), dates, bool(values["line"]))


def _search_template(shape: _Shape) -> tuple[str, tuple[_Slot, ...]] | None:
    """The search's SQL for referrals of this shape, and where each value goes in its
    parameters: compiled by the ORM for two made-up referrals of the shape, each parameter
    found among the made-up values (or, the same in both, a constant). Kept only if filling it
    with the second referral's values gives exactly what the ORM compiled for it: otherwise
    None (the ORM is used every time)."""
    first, second = (_made_up_referral(shape, n) for n in (1, 2))
    compiled = [_search_compiled_for(r) for r in (first, second)]
    if compiled[0] is None or compiled[1] is None:
        return None
    values = [_search_values(r) for r in (first, second)]
    slots = []
    for one, two in zip(compiled[0].params, compiled[1].params, strict=True):
        if one == two:
            # A constant of the SQL, or a value the shape fixes (an empty family name): every
            # other made-up value differs between the two referrals.
            slots.append(_Slot(value=one))
            continue
        names = [
            n
            for n, v in values[0].items()
            if type(v) is type(one) and v == one and values[1][n] == two
        ]
        if not names:
            return None
        # Two names with the same value in both made-up referrals have it in every referral
        # of the shape (without a family name, the full name is the given name).
        slots.append(_Slot(name=names[0]))
    template = (compiled[0].sql, tuple(slots))
    filled = tuple(values[1][s.name] if s.name else s.value for s in template[1])
    if compiled[1].sql != template[0] or filled != compiled[1].params:
        return None
    return template


def _made_up_referral(shape: _Shape, n: int) -> Referral:
    """An unsaved referral of this shape (``n``: the first or second) whose every value is
    unlike any constant of the SQL and unlike each other."""
    person, family, dates, line = shape
    births = {
        0: None,
        1: dt.date(1901, 3, 17 + n),  # a day above 12: no swapped date
        2: dt.date(1900 + n, 2 + n, 6 + n),  # 7 March 1901 (and 3 July); 8 April 1902
    }
    survivor = Person(
        given_name=f"Zqgiven{n}" if person else "",
        family_name=f"Zqfamily{n}" if family else "",
        date_of_birth=births[dates],
    )
    household = Household(postcode=f"ZZ{n} 9ZZ", address_line_1=f"{n} Zqline Road" if line else "")
    case_file = CaseFile(authority_id=uuid.uuid4(), survivor=survivor, household=household)
    return Referral(
        case_file=case_file,
        authority_id=case_file.authority_id,
        received_at=dt.datetime(1999, 1, 2, 3, 4, 5 + n, tzinfo=dt.UTC),
    )


def _address_candidates(candidates: QuerySet[Referral], *, household: Household) -> QuerySet[Any]:
    """``_address_query`` with its threshold set for this transaction, to run on its own."""
    with connection.cursor() as cursor:
        cursor.execute(_THRESHOLD_SQL.removesuffix("; "), [str(ADDRESS_MIN_SIMILARITY)])
    return _address_query(candidates, household=household) or candidates.none().values("pk")


def _address_query(candidates: QuerySet[Referral], *, household: Household) -> QuerySet[Any] | None:
    """The same address: the same postcode and a first line at least ADDRESS_MIN_SIMILARITY
    alike (None without a first line). ``%`` is what the GIN trigram index serves; it compares
    with ``pg_trgm.similarity_threshold``, which must be ADDRESS_MIN_SIMILARITY for this
    transaction (``_search_compiled`` sets it), so it keeps exactly the rows ``similarity()``
    keeps."""
    line = household.address_line_1.strip().lower()
    if not line:
        return None
    return (
        candidates.filter(case_file__household__postcode=postcode_normalise(household.postcode))
        .annotate(address_line=Lower("case_file__household__address_line_1"))
        .filter(address_line__trigram_similar=line)
        .annotate(similarity=TrigramSimilarity("address_line", line))
        .values("pk", "similarity")
    )


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
