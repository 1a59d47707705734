"""The bench at scale (issue 17): the tiny bench build multiplied x3 inside PostgreSQL keeps every
foreign key and unique constraint, and each shape scopes as it says: in the county shape Kent's
staff see three times as much; in the national shape each copy has authorities and staff of its
own, so the personas see what they saw at 1x."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F, Sum

from benchmarks.data import TINY, ensure_bench_data, persona
from benchmarks.data.scale import (
    Scale,
    _rows_left_out,
    copied_models,
    dangling_foreign_keys,
    multiply,
    scale_marker_present,
)
from referrals.models import Referral
from safer.accounts.models import User
from safer.audit.models import AccessLog
from safer.casefile.models import CaseFile
from safer.organisations.models import CommissioningAuthority
from security_works.models import SecurityJob
from support.models import AdultSupportCase, CaseloadTally, CypCase, TallyMeasure
from support.selectors.tallies import caseload_tally_drift

pytestmark = pytest.mark.django_db

COPIES = 3


@pytest.fixture
def tiny_bench_data() -> None:
    assert ensure_bench_data(TINY, verbose=False) is True


def _seen(key: str) -> dict[str, int]:
    user = persona(key)
    return {
        "referrals": Referral.objects.visible_to(user).count(),
        "case files": CaseFile.objects.spa_scope_for(user).count(),
    }


def _unique_violations() -> list[str]:
    """Unique indexes that hold a repeated key: the load keeps them, so a copy that broke one
    would have failed; this checks again, index by index, from the catalogue."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, t.relname, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE i.indisunique AND t.relnamespace = 'public'::regnamespace "
            "AND i.indpred IS NULL AND i.indexprs IS NULL"
        )
        indexes = cursor.fetchall()
        broken = []
        for name, table, definition in indexes:
            columns = definition[definition.rindex("(") + 1 : definition.rindex(")")]
            present = " AND ".join(f"{c.strip()} IS NOT NULL" for c in columns.split(","))
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE {present} "  # noqa: S608
                f"GROUP BY {columns} HAVING count(*) > 1 LIMIT 1"
            )
            if cursor.fetchone():
                broken.append(name)
    return broken


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return int(cursor.fetchone()[0])


def _catalogue() -> list[tuple[str, ...]]:
    """Every index and constraint of the schema, by name, definition and whether it is valid."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'public' "
            "UNION ALL SELECT 'constraint', conrelid::regclass::text, conname, "
            "pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2, 3"
        )
        return cursor.fetchall()


def test_a_scale_names_its_copies_and_database() -> None:
    assert Scale().copies == 1
    assert Scale().database("test_safer_bench") == "test_safer_bench"
    million = Scale(1_000_000, "national")
    assert million.copies == 334
    assert million.database("test_safer_bench") == "test_safer_bench_1000000_national"
    with pytest.raises(ValueError, match="shape"):
        Scale(30_000, "planet")


def test_the_national_shape_copies_the_staff_and_the_county_shape_does_not() -> None:
    county = {m._meta.label for m in copied_models("county")}
    national = {m._meta.label for m in copied_models("national")}
    assert {"referrals.Referral", "casefile.Person", "audit.AccessLog"} <= county
    assert "accounts.User" not in county
    assert "organisations.Team" not in county
    assert {"accounts.User", "organisations.Team", "organisations.District"} <= national
    # Shared reference data is never copied.
    assert "reporting.ReturnTemplate" not in national
    assert "auth.Group" not in national


def test_county_copies_keep_every_key_and_kent_staff_see_three_times_as_much(
    tiny_bench_data: None,
) -> None:
    before = _seen("spa_triage")
    caseload = AdultSupportCase.objects.filter(
        allocated_worker=persona("adult_support_worker")
    ).count()
    authorities = CommissioningAuthority.objects.count()
    users = User.objects.count()
    logs = AccessLog.objects.count()
    base_case_files = {str(pk) for pk in CaseFile.objects.values_list("pk", flat=True)}

    multiply(COPIES, "county", verbose=False)

    assert scale_marker_present(COPIES)
    assert Referral.objects.count() == COPIES * TINY.referrals
    assert AccessLog.objects.count() == COPIES * logs
    assert dangling_foreign_keys() == {}
    assert _unique_violations() == []
    assert _seen("spa_triage") == {k: COPIES * n for k, n in before.items()}
    assert AdultSupportCase.objects.filter(
        allocated_worker=persona("adult_support_worker")
    ).count() == (COPIES * caseload)
    assert CommissioningAuthority.objects.count() == authorities
    assert User.objects.count() == users
    # The caseload tallies, written by a trigger the load turned off, are counted afresh.
    tallied = CaseloadTally.objects.filter(measure=TallyMeasure.OPEN).aggregate(n=Sum("n"))["n"]
    allocated = sum(
        model.objects.open().filter(allocated_worker__isnull=False).count()
        for model in (AdultSupportCase, CypCase)
    )
    assert tallied == allocated > 0
    assert caseload_tally_drift() == []
    # The access log's record ids follow their record into the copy.
    case_file_ids = {str(pk) for pk in CaseFile.objects.values_list("pk", flat=True)}
    read = set(
        AccessLog.objects.filter(record_type="casefile.casefile").values_list(
            "record_id", flat=True
        )
    )
    assert read - base_case_files  # the copies' case files are read too
    assert read <= case_file_ids


def test_national_copies_have_their_own_authorities_and_the_personas_see_one_county(
    tiny_bench_data: None, client: object
) -> None:
    before = _seen("spa_triage")
    kent = CommissioningAuthority.objects.get(code="kent")
    users = User.objects.count()

    multiply(COPIES, "national", verbose=False)

    assert Referral.objects.count() == COPIES * TINY.referrals
    assert dangling_foreign_keys() == {}
    assert _unique_violations() == []
    kents = CommissioningAuthority.objects.filter(code__startswith="kent")
    assert kents.count() == COPIES
    assert User.objects.count() == COPIES * users
    assert _seen("spa_triage") == before
    assert persona("spa_triage").authorities.filter(pk=kent.pk).exists()
    # Each copy's referrals belong to its own Kent.
    for authority in kents:
        assert (
            CaseFile.objects.filter(authority=authority).count()
            == CaseFile.objects.filter(authority=kent).count()
        )
    # The copies of a case file's columns (ADRs 0017, 0018) follow it into each copy.
    assert not Referral.objects.exclude(authority_id=F("case_file__authority_id")).exists()
    for copied in (AdultSupportCase, CypCase, SecurityJob):
        assert not copied.objects.exclude(household_id=F("case_file__household_id")).exists()
    assert caseload_tally_drift() == []  # each copy's workers' caseloads counted
    client.force_login(persona("spa_triage"))  # type: ignore[attr-defined]
    assert client.get("/").status_code in {200, 302}  # type: ignore[attr-defined]


def test_copied_references_stay_unique_and_fit_at_a_million() -> None:
    """Copy 333 of a reference: the number past every base number, never cut to the old width."""
    from benchmarks.data.scale import _suffixed

    base = [f"SAFER-2025-B{n:05d}" for n in (0, 3, 2999)]
    seen = set(base)
    with connection.cursor() as cursor:
        for k in (1, 2, 333):
            sql = _suffixed(Referral, "reference", 2999)
            cursor.execute(
                f"SELECT {sql} FROM unnest(%s::text[]) AS v(reference), "  # noqa: S608
                "(SELECT %s AS k) AS c",
                [base, k],
            )
            copies = [value for (value,) in cursor.fetchall()]
            assert all(len(value) <= 20 for value in copies)
            assert seen.isdisjoint(copies)
            seen.update(copies)
        sql = _suffixed(User, "email", 0)
        cursor.execute(f"SELECT {sql} FROM (SELECT 'bench-a@example.org' AS email, 7 AS k) AS v")  # noqa: S608
        assert cursor.fetchone()[0] == "bench-a+7@example.org"


def test_the_loaders_take_the_heaviest_tables_first() -> None:
    from benchmarks.data.scale import heaviest_first

    weights = {"sessions": 90, "log": 100, "cases": 40, "people": 40, "tiny": 1}
    assert heaviest_first(weights) == ["log", "sessions", "cases", "people", "tiny"]


@pytest.mark.django_db(transaction=True)
def test_two_loaders_side_by_side_load_the_same_rows_as_one() -> None:
    """The million-row build loads on a connection per core, each in its own transaction: the
    copies they make together keep every key, and the marker comes only once both are in."""
    assert ensure_bench_data(TINY, verbose=False) is True
    before = _seen("spa_triage")
    logs = AccessLog.objects.count()
    catalogue = _catalogue()
    chosen = copied_models("county")
    left_out = _rows_left_out(chosen, "county")
    rows = {m._meta.db_table: _count(m._meta.db_table) for m in chosen}

    added = multiply(COPIES, "county", verbose=False, loaders=2)

    # Every copied table holds its base rows COPIES times (less the rows of no copy), and the
    # keys and indexes dropped for the load are back, by the same names and definitions.
    assert added == {
        m._meta.db_table: (COPIES - 1) * (rows[m._meta.db_table] - len(left_out[m])) for m in chosen
    }
    assert _catalogue() == catalogue

    assert scale_marker_present(COPIES)
    assert added[Referral._meta.db_table] == (COPIES - 1) * TINY.referrals
    assert Referral.objects.count() == COPIES * TINY.referrals
    assert AccessLog.objects.count() == COPIES * logs
    assert dangling_foreign_keys() == {}
    assert _unique_violations() == []
    assert _seen("spa_triage") == {k: COPIES * n for k, n in before.items()}
    # The dropped plain indexes are all back.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'referrals_referral' "
            "AND indexname = 'referral_open_priority_idx'"
        )
        assert cursor.fetchone()[0] == 1
