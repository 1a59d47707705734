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
from functools import reduce
from operator import and_

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet, Subquery

from safer.accounts.models import User
from safer.casefile.models import CaseFile, Household, Person, SafeContactRules
from safer.search.expressions import DigitsOnly, outward_code_key, postcode_key
from safer.search.query import QueryKind, SearchQuery


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
        return CaseFile.objects.address_visible_to(user).filter(
            household_id__in=households.values("pk")
        )
    if kind is QueryKind.PHONE:
        rules = SafeContactRules.objects.alias(digits=DigitsOnly("phone")).filter(
            digits__in=phone_variants(query.text)
        )
        return CaseFile.objects.filter(pk__in=rules.values("case_file_id"))
    return None


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
    None when nothing can match (the provider then runs no query)."""
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
    elif case_files is not None:
        reasons.append(Q(**{f"{case_file_field}__in": case_files.values("pk")}))
    if not reasons:
        return None
    return reduce(lambda a, b: a | b, reasons)
