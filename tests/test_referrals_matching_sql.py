"""Duplicate matching's search from a template of its shape: exactly the ORM's own SQL."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from django.db import transaction

from referrals.models import Referral
from referrals.services import matching
from safer import sqlbatch
from safer.casefile.models import CaseFile, Household, Person
from tests.referrals_support import make_referral

pytestmark = pytest.mark.django_db

BIRTHS = [None, dt.date(1985, 7, 21), dt.date(1990, 2, 1), dt.date(1990, 3, 3)]
GIVEN = ["", "  Ada ", "Lee"]
FAMILY = ["", "Stone", "Lee"]
LINES = ["", " 12 Oak Road ", "Flat 1%_ 'Quoted' Road"]


def _referral(
    authority: uuid.UUID, birth: dt.date | None, given: str, family: str, line: str
) -> Referral:
    survivor = Person(given_name=given, family_name=family, date_of_birth=birth)
    household = Household(postcode="me14 1ab", address_line_1=line)
    case_file = CaseFile(authority_id=authority, survivor=survivor, household=household)
    return Referral(case_file=case_file, received_at=dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC))


def test_the_template_gives_the_orms_statement_for_every_shape() -> None:
    matching._TEMPLATES.clear()
    authority = make_referral(given_name="Earlier").case_file.authority_id
    for birth, given, family, line in itertools.product(BIRTHS, GIVEN, FAMILY, LINES):
        referral = _referral(authority, birth, given, family, line)
        expected = matching._search_compiled_for(referral)
        assert matching._search_statement(referral) == expected, (birth, given, family, line)
    # Every shape made a template: none fell back to the ORM.
    assert matching._TEMPLATES
    assert None not in matching._TEMPLATES.values()


def test_a_referral_matches_the_same_earlier_referrals_either_way() -> None:
    earlier = make_referral(
        given_name="Ada", family_name="Stone", date_of_birth=dt.date(1985, 7, 21)
    )
    later = make_referral(
        given_name="Adah", family_name="Stone", date_of_birth=dt.date(1985, 7, 21)
    )

    with transaction.atomic():
        by_template = sqlbatch.execute_together((), then=matching._search_statement(later))
    with transaction.atomic():
        by_orm = sqlbatch.execute_together((), then=matching._search_compiled_for(later))
    assert sorted(by_template) == sorted(by_orm)
    assert earlier.pk in {row[0] for row in by_template}
