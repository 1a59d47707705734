"""The case-file side of a search: which case files match a query, by what the user may see.

Every record type that search lists (referral, job, support case, the case file itself) hangs
off a ``CaseFile``, so the personal data that is searched lives here in the core: people's names
and dates of birth (``Person``), the address (``Household.postcode``) and the safe-contact phone
(``SafeContactRules.phone``). They are stored in plain columns, so PostgreSQL indexes them:
trigram GIN indexes on the upper-cased names (``LIKE '%…%'``), and expression B-tree indexes on
the date of birth, the postcode without spaces, its outward code and the phone's digits
(migration ``casefile`` 0002). A match is a subquery, never a list of ids fetched first, so a
search is one query per record type whatever the number of matches.

A record matches on a field only if its page shows that field to the user: a postcode matches
only case files whose address the user may see (``address_visible_to``), so a support worker
without the address, or a contractor after its job closed, cannot find a case by its address.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import reduce
from operator import and_, or_
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Q, QuerySet, Subquery

from safer.accounts.models import User
from safer.casefile.models import CaseFile, Household, Person, SafeContactRules
from safer.search.expressions import (
    DigitsOnly,
    GatheredAtMost,
    InGathered,
    InIds,
    outward_code_key,
    postcode_key,
)
from safer.search.query import QueryKind, SearchQuery

M = TypeVar("M", bound=Model)

# A search whose case files are at most this many starts from them (``search_records``).
GATHER_AT_MOST = 2_000

# The case files matched, gathered once per search and shared by its providers
# (``shared_case_file_matches``): None outside a search.
_shared: ContextVar[dict[tuple[Any, ...], list[uuid.UUID]] | None] = ContextVar(
    "search_shared_case_files", default=None
)


@contextmanager
def shared_case_file_matches() -> Iterator[None]:
    """Within the block, ``search_records`` gathers the case files a query matches once (one
    statement, at most ``GATHER_AT_MOST + 1`` keys) and every provider starts from them, instead
    of each provider's statement gathering them twice (its ``GatheredAtMost`` and its
    ``InGathered``): up to six runs of the same sub-query per search page, 30-40 ms each for a
    postcode at a million referrals (issue 17). The match depends on the query, the user (a
    postcode's address scope) and whose names count; the key holds all three."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


class People(enum.Enum):
    """Whose names and dates of birth a record type is found by (what its page shows)."""

    HOUSEHOLD = "household"  # anyone in the household (the case file page lists them all)
    SURVIVOR = "survivor"  # the case file's survivor
    SURVIVOR_GIVEN_NAME = "survivor_given_name"  # a contractor: the first name only, no DOB
    NOBODY = "nobody"


def person_q(query: SearchQuery, *, prefix: str = "", given_name_only: bool = False) -> Q | None:
    """A filter on a ``Person`` (through ``prefix``) for a name or a date of birth; None when
    the query is of another kind or asks for what the caller may not match on."""
    if query.kind is QueryKind.NAME:
        fields = ("given_name",) if given_name_only else ("given_name", "family_name")
        per_word = [
            reduce(lambda a, b: a | b, (Q(**{f"{prefix}{f}__icontains": word}) for f in fields))
            for word in query.words
        ]
        return reduce(and_, per_word)
    if query.kind is QueryKind.DATE_OF_BIRTH and not given_name_only:
        return Q(**{f"{prefix}date_of_birth": query.date})
    return None


def phone_variants(digits: str) -> list[str]:
    """How the same national number may have been typed and stored (``07…``, ``447…``,
    ``00447…``), as digits."""
    national = digits[1:]
    return [digits, f"44{national}", f"0044{national}"]


def casefiles_matching(
    query: SearchQuery, *, user: User | AnonymousUser, people: People = People.HOUSEHOLD
) -> QuerySet[CaseFile] | None:
    """Case files matching ``query`` on their own data (not yet cut to what the user may open:
    the caller intersects with its own ``visible_to``). None when nothing can match."""
    kind = query.kind
    if kind is QueryKind.REFERENCE:
        return CaseFile.objects.filter(reference=query.text)
    if kind in (QueryKind.NAME, QueryKind.DATE_OF_BIRTH):
        if people is People.HOUSEHOLD:
            q = person_q(query)
            assert q is not None
            return CaseFile.objects.filter(
                household_id__in=Person.objects.filter(q).values("household_id")
            )
        if people in (People.SURVIVOR, People.SURVIVOR_GIVEN_NAME):
            q = person_q(
                query,
                prefix="survivor__",
                given_name_only=people is People.SURVIVOR_GIVEN_NAME,
            )
            return None if q is None else CaseFile.objects.filter(q)
        return None
    if kind in (QueryKind.POSTCODE, QueryKind.OUTWARD_CODE):
        key = postcode_key() if kind is QueryKind.POSTCODE else outward_code_key()
        households = Household.objects.alias(key=key).filter(key=query.text)
        # A postcode is a few households: check their case files' grants one by one.
        return CaseFile.objects.address_visible_to(user, per_row=True).filter(
            household_id__in=households.values("pk")
        )
    if kind is QueryKind.PHONE:
        rules = SafeContactRules.objects.alias(digits=DigitsOnly("phone")).filter(
            digits__in=phone_variants(query.text)
        )
        return CaseFile.objects.filter(pk__in=rules.values("case_file_id"))
    return None


def _record_match(
    query: SearchQuery,
    *,
    user: User | AnonymousUser,
    people: People,
    case_file_field: str,
    person_field: str | None,
) -> tuple[Q | None, QuerySet[CaseFile] | None] | None:
    """The two parts of a match: the record's own reasons (its reference, its own person, the
    one case file a reference names), OR'd; and the case files it may hang off (a name, a date
    of birth, a postcode, a phone number: possibly many). None when nothing can match."""
    reasons: list[Q] = []
    if query.kind is QueryKind.REFERENCE:
        reasons.append(Q(reference=query.text))
    if person_field is not None:
        own = person_q(query, prefix=f"{person_field}__")
        if own is not None:
            reasons.append(own)
    case_files = casefiles_matching(
        query, user=user, people=People.NOBODY if person_field is not None else people
    )
    if case_files is not None and query.kind is QueryKind.REFERENCE:
        # A reference names at most one case file (``CaseFile.reference`` is unique), so "in
        # that set" is "equal to that one": as a scalar subquery PostgreSQL runs it once, first,
        # and can OR two index scans (the record's reference, its case file) instead of
        # scanning the whole table for the OR (issue 17: a million referrals, 0.75 s). No
        # match gives NULL, which a filter drops exactly as it drops an empty ``IN``.
        reasons.append(Q(**{case_file_field: Subquery(case_files.values("pk")[:1])}))
        case_files = None
    if not reasons and case_files is None:
        return None
    return (reduce(or_, reasons) if reasons else None), case_files


def record_match_q(
    query: SearchQuery,
    *,
    user: User | AnonymousUser,
    people: People = People.HOUSEHOLD,
    case_file_field: str = "case_file",
    person_field: str | None = None,
) -> Q | None:
    """A filter on a record that hangs off a case file (``case_file_field``): its own
    ``reference``, or its case file matching. ``person_field`` names the record's own person (a
    CYP case's child), matched by name and date of birth instead of the case file's people.
    None when nothing can match. The plain form of what ``search_records`` runs (which is
    faster at scale and finds the same records)."""
    match = _record_match(
        query, user=user, people=people, case_file_field=case_file_field, person_field=person_field
    )
    return None if match is None else _plain_q(*match, case_file_field=case_file_field)


def _plain_q(own: Q | None, case_files: QuerySet[CaseFile] | None, *, case_file_field: str) -> Q:
    reasons = [] if own is None else [own]
    if case_files is not None:
        reasons.append(Q(**{f"{case_file_field}__in": case_files.values("pk")}))
    return reduce(or_, reasons)


def search_records(
    records: QuerySet[M],
    query: SearchQuery,
    *,
    user: User | AnonymousUser,
    order_by: Sequence[str],
    limit: int,
    people: People = People.HOUSEHOLD,
    case_file_field: str = "case_file",
    person_field: str | None = None,
    few_records: bool = False,
) -> QuerySet[M] | None:
    """The first ``limit`` of ``records`` (already cut to what the user may see) matching
    ``query`` (``record_match_q``), in ``order_by``: one query. None when nothing can match.

    When the match goes through case files (a name, a date of birth, a postcode, a phone
    number), the query is two plans of which PostgreSQL runs one, chosen when it runs by how
    many case files match (issue 17: at a million referrals the plain ``IN`` took 10-25 s):

    - at most ``GATHER_AT_MOST`` (a postcode, a phone, a date of birth, most names): they are
      gathered first into an array and the plan starts from them (``InGathered``): their
      records through the case-file index, then sorted;
    - more (a name most people share): the plain ``case_file IN (…)``, where walking the records
      in order and keeping those that match stops soon, since most do.

    ``GatheredAtMost`` (the count, capped) guards each branch; the other is never run. Both
    branches start from ``records``, so the access filter is the same, and so are the rows and
    their order: each branch keeps the first ``limit`` in ``order_by``, and the outer query
    reads those by primary key and orders them again.

    ``few_records``: the caller's ``records`` are few whatever the size of the service (a
    contractor's open jobs), so the plan starts from them and the plain ``IN`` is all it
    needs. Gathering would compute the case-file side up to three times, and for a user whose
    address access is by grants (``address_visible_to``) that side is the dear part (issue
    17: a contractor's postcode search at a million, 6 s plain, 25 s gathered).
    """
    match = _record_match(
        query, user=user, people=people, case_file_field=case_file_field, person_field=person_field
    )
    if match is None:
        return None
    own, case_files = match
    if case_files is None or few_records:
        plain = _plain_q(own, case_files, case_file_field=case_file_field)
        return records.filter(plain).order_by(*order_by)[:limit]
    keys = case_files.order_by().values("pk")
    chosen = records.model._default_manager.using(records.db)
    shared = _shared.get()
    if shared is not None:
        user_key = getattr(user, "pk", None)
        key = (query, user_key, people if person_field is None else People.NOBODY)
        if key not in shared:
            shared[key] = list(keys.values_list("pk", flat=True)[: GATHER_AT_MOST + 1])
        ids = shared[key]
        # One plan, chosen here rather than in SQL: start from the few, or walk in order.
        start = (
            Q(InIds(case_file_field, ids))
            if len(ids) <= GATHER_AT_MOST
            else Q(**{f"{case_file_field}__in": keys})
        )
        if own is not None:
            start |= own
        picked = records.filter(start).order_by(*order_by).values("pk")[:limit]
        return chosen.filter(pk__in=picked).order_by(*order_by)[:limit]
    gathered = keys[: GATHER_AT_MOST + 1]
    few = Q(GatheredAtMost(gathered, GATHER_AT_MOST))
    few_match = Q(InGathered(case_file_field, gathered))
    many_match = Q(**{f"{case_file_field}__in": keys})
    if own is not None:
        few_match |= own
        many_match |= own
    first = records.filter(few & few_match).order_by(*order_by).values("pk")[:limit]
    rest = records.filter(~few & many_match).order_by(*order_by).values("pk")[:limit]
    # The outer query reads the (at most 2 x limit) rows the branches chose by primary key. It
    # does not repeat ``records``' access filter: both branches are ``records`` filtered further,
    # so every key is one the user may see, and the filter repeated was planned as a hash of
    # every case file the user may see (3.6 s for an adult support worker at a million).
    return chosen.filter(pk__in=first.union(rest, all=True)).order_by(*order_by)[:limit]
