"""References: unique and readable, numbered per prefix and year, and taken without a lock that
would serialise every submission (issue 17)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import connection, transaction

from safer.casefile.models import ReferenceCounter
from safer.casefile.services import reference_next, reference_sequence_name

pytestmark = pytest.mark.django_db

NEW_YEAR = dt.datetime(2041, 1, 2, 12, tzinfo=dt.UTC)


def _number(reference: str) -> int:
    return int(reference.rsplit("-", 1)[1])


def test_numbers_start_at_one_each_year_and_follow_on() -> None:
    with time_machine.travel(NEW_YEAR):
        first, second, third = (reference_next(prefix="SAFER") for _ in range(3))
    assert first == "SAFER-2041-000001"
    assert [_number(second), _number(third)] == [2, 3]
    with time_machine.travel(NEW_YEAR.replace(year=2042)):
        assert reference_next(prefix="SAFER") == "SAFER-2042-000001"


def test_each_prefix_has_its_own_numbers() -> None:
    with time_machine.travel(NEW_YEAR.replace(year=2043)):
        assert reference_next(prefix="CY") == "CY-2043-000001"
        assert reference_next(prefix="SW") == "SW-2043-000001"
        assert reference_next(prefix="CY") == "CY-2043-000002"


def test_a_new_prefix_gets_a_sequence_on_first_use() -> None:
    with time_machine.travel(NEW_YEAR):
        assert reference_next(prefix="TESTQ") == "TESTQ-2041-000001"
        assert reference_next(prefix="TESTQ") == "TESTQ-2041-000002"


def test_a_counter_from_before_the_sequences_carries_on() -> None:
    ReferenceCounter.objects.create(prefix="AS", year=2044, last_number=41)
    with time_machine.travel(NEW_YEAR.replace(year=2044)):
        assert reference_next(prefix="AS") == "AS-2044-000042"
        assert reference_next(prefix="AS") == "AS-2044-000043"


def test_a_prefix_is_capital_letters_only() -> None:
    with pytest.raises(ValueError, match="capital letters"):
        reference_sequence_name("x; DROP TABLE y")


@pytest.mark.django_db(transaction=True)
def test_no_lock_is_held_until_the_transaction_ends() -> None:
    """One submission's transaction stays open (as while it matches duplicates); another takes
    its reference at once, instead of waiting for the first to commit."""
    reference_next(prefix="SAFER")  # the year's base row exists, as on any day but the first
    taken = threading.Event()
    release = threading.Event()
    references: list[str] = []

    def slow_submission() -> None:
        try:
            with transaction.atomic():
                references.append(reference_next(prefix="SAFER"))
                taken.set()
                release.wait(10)
        finally:
            connection.close()

    def quick_submission() -> str:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                return reference_next(prefix="SAFER")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(slow_submission)
        assert taken.wait(10)
        quick = pool.submit(quick_submission).result(timeout=10)
        release.set()
        slow.result(timeout=10)
    assert quick != references[0]
    assert _number(quick) == _number(references[0]) + 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_references_are_all_different() -> None:
    def take(_: int) -> str:
        try:
            with transaction.atomic():
                return reference_next(prefix="SW")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        references = list(pool.map(take, range(80)))
    assert len(set(references)) == 80
