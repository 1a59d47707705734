"""The bench dataset at scale: the county build multiplied inside PostgreSQL (issue 17).

``make bench BENCH_SCALE=1000000 BENCH_SHAPE=county|national`` needs a million referrals; the
Python builder writes ~3,000 in 20 seconds, so a million would take hours. Instead the county
dataset is built once (``ensure_bench_data``), copied into a database of its own
(``CREATE DATABASE … TEMPLATE``) and multiplied there, one set-based statement per table::

    INSERT INTO t (…) SELECT <copy k of each column> FROM generate_series(1, copies - 1) k, t

The tables and columns come from the models' ``_meta`` and the catalogue, so a new model is
covered without touching this file (``NEVER_COPIED`` lists the exceptions, and why). Copy ``k``
of a row:

- its primary key: a UUID has its first two bytes XOR ``k`` (``_uuid``; the same function
  everywhere, so a foreign key to a copied table follows its row), an integer
  ``id + k * max(id)``;
- a foreign key to a copied table is remapped the same way; to a table that is not copied it is
  kept (in the county shape every copy is Kent's, with Kent's teams, staff and contracts);
- a text column that must stay unique (a reference, an e-mail address, a code, a name) gets the
  copy's number: the trailing number of ``SAFER-2026-000123`` moves past the base's largest,
  keeping the width and the format; an e-mail gains ``+k`` before the ``@``; anything else ends
  with `` k``;
- the access log's ``record_id`` (the text id of the record read) follows its record's copy;
- everything else, dates included, is the base row's: each copy has the same distribution.

The two shapes differ only in which tables are copied. Both copy every table that hangs off a
household (case files, people, referrals, jobs, support cases, their measures, sessions, scores
and grants, and their pghistory events), the advice contacts and support groups, and the access
log. The national shape also copies the authorities, organisations and staff, and everything
that hangs off them (districts, teams, contracts, policies, roles, report runs, sign-in events),
so each copy is a Kent and a Medway of its own, seen by staff of its own, and the personas
(the base rows) still see one county's worth.

The load runs in one transaction with ``session_replication_role = replica`` (no triggers: no
foreign-key checks and no pghistory events, which are copied as rows instead), the copied
tables' plain indexes dropped and built again at the end, and with them the primary and unique
keys of the tables no foreign key points at (``keys_deferred``: the access log, the session
logs, the events; nine rows in ten), the sequences moved past the copies and ``ANALYZE`` after
(each table on its own loader). A role that may not set ``session_replication_role`` (not a
superuser) falls back to disabling the tables' own triggers (pghistory's) and lets the foreign
keys be checked at commit: slower, and the same rows.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, cast

from django.apps import apps
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import DatabaseError

from benchmarks.data.base import COUNTY, DATA_VERSION, secondary_indexes_deferred
from safer.casefile.models import ReferenceCounter
from support.services.tallies import caseload_tally_rebuild

SHAPES = ("county", "national")
SCALE_MARKER = "BENCHSCALE"  # a ReferenceCounter row: (prefix, year=DATA_VERSION, copies)

# Copied in both shapes, with every table that points at them (transitively).
VOLUME_SEEDS = (
    "casefile.Household",  # the case file, its people, referral, jobs and support cases
    "referrals.AdviceContact",  # advice given without a referral: as many more as referrals
    "support.SupportGroup",  # groups of the young people's service: more cases, more groups
    "audit.AccessLog",  # who read what: follows the records (``ACCESS_LOG_CAP``)
)
# Copied in the national shape as well: who the data belongs to and who sees it.
SCOPE_SEEDS = (
    "organisations.CommissioningAuthority",
    "organisations.Organisation",
    "accounts.User",
)
# Never copied, even when they point at a copied table: reference data shared by every
# authority (one per kind and year, or global by design), the markers, the audit of the
# platform itself and framework tables.
NEVER_COPIED = {
    "contenttypes.ContentType": "framework",
    "auth.Permission": "framework",
    "auth.Group": "the roles: one group per role for every authority",
    "auth.Group_permissions": "framework",
    "sessions.Session": "sign-ins of the bench run itself",
    "admin.LogEntry": "the admin site's history",
    "pghistory.Context": "events keep the context of the base row (one for the whole build)",
    "casefile.ReferenceCounter": "the markers and the reference sequences' year bases",
    "outbox.OutboxMessage": "the relay's queue: delivered work, not data",
    "outbox.DeadLetter": "the relay's failures",
    "safer.WorkerCheck": "the health check's own rows",
    "dataprotection.RetentionRun": "one per schedule slot for the whole service",
    "dataprotection.RetentionRunCount": "belongs to a run",
    "reporting.ReturnTemplate": "one per return kind and financial year, for every authority",
    "reporting.ReturnSection": "part of a template",
    "reporting.ReturnLine": "part of a template",
    "reporting.CategoryMapping": "part of a template",
    "reporting.DashboardSnapshot": "computed from the data by the beat, not data",
    "support.CaseloadTally": "counts of the cases, kept by a trigger: rebuilt after the load",
}
# The access log grows fastest (40 rows per referral at 1x): past this many rows in all, each
# copy keeps a share of the base rows, so the table stays near the cap (documented in
# docs/performance.md).
ACCESS_LOG_CAP = 10_000_000
ACCESS_LOG = "audit.AccessLog"
# Connections loading the copies side by side: one per core of the machine the bench runs on.
LOADERS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Scale:
    """A bench size: the referrals wanted and the shape of the copies."""

    referrals: int = COUNTY.referrals
    shape: str = "county"

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"The shape is one of {', '.join(SHAPES)}, not {self.shape!r}.")
        if self.referrals < 1:
            raise ValueError("The scale is a number of referrals, at least 1.")

    @property
    def copies(self) -> int:
        """How many times the county build is present (1: the base itself)."""
        return max(1, math.ceil(self.referrals / COUNTY.referrals))

    @property
    def multiplied(self) -> bool:
        return self.copies > 1

    def database(self, base: str) -> str:
        return base if not self.multiplied else f"{base}_{self.referrals}_{self.shape}"


@dataclass
class _Table:
    model: type[models.Model]
    table: str
    pk: str
    pk_kind: str  # "uuid" or "int"
    columns: list[str] = field(default_factory=list)


def _kind(f: models.Field) -> str:
    target = f.target_field if f.is_relation else f  # type: ignore[attr-defined]
    if isinstance(target, models.UUIDField):
        return "uuid"
    if isinstance(target, models.AutoField | models.BigAutoField | models.IntegerField):
        return "int"
    return "other"


def _label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


def copied_models(shape: str) -> list[type[models.Model]]:
    """The seeds of the shape and every model that points at a copied one, less
    ``NEVER_COPIED``, in a stable order."""
    every = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    ]
    seeds = set(VOLUME_SEEDS) | (set(SCOPE_SEEDS) if shape == "national" else set())
    chosen = {m for m in every if _label(m) in seeds}
    grew = True
    while grew:
        grew = False
        for m in every:
            if m in chosen or _label(m) in NEVER_COPIED:
                continue
            if any(f.is_relation and f.related_model in chosen for f in m._meta.concrete_fields):
                chosen.add(m)
                grew = True
    return sorted(chosen, key=lambda m: m._meta.db_table)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _uuid(expr: str) -> str:
    """Copy k of a UUID: its first two bytes XOR k, the other fourteen kept. One-to-one for
    every k, never the base value (k > 0), and apart from every other base row's copies as long
    as no two base UUIDs share their last fourteen bytes (random ones do not). Byte arithmetic
    rather than a hash: half the CPU of ``md5(id || k)::uuid`` per column."""
    b = f"uuid_send({expr})"
    return (
        f"encode(set_byte(set_byte({b}, 0, get_byte({b}, 0) # (k >> 8)), "
        f"1, get_byte({b}, 1) # (k & 255)), 'hex')::uuid"
    )


def _unique_text_columns(model: type[models.Model], remapped: set[str]) -> set[str]:
    """Text columns that a unique constraint needs changed in a copy: those of a constraint
    none of whose columns is remapped already."""
    opts = model._meta
    groups: list[list[str]] = [[f.name] for f in opts.concrete_fields if f.unique]
    groups += [list(fields) for fields in opts.unique_together]
    groups += [
        list(c.fields)
        for c in opts.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields
    ]
    found: set[str] = set()
    for group in groups:
        fields = [opts.get_field(name) for name in group]
        columns = {f.column for f in fields}  # type: ignore[union-attr]
        if columns & remapped:
            continue
        text = [f.column for f in fields if isinstance(f, models.CharField | models.TextField)]
        if not text:
            raise ValueError(
                f"{_label(model)}: the unique {group} would repeat in every copy; list the "
                "model in NEVER_COPIED or give it a column the copy can change."
            )
        found.update(text)
    return found


def _suffixed(model: type[models.Model], column: str, largest: int) -> str:
    q = _quote(column)
    f = next(f for f in model._meta.concrete_fields if f.column == column)
    if isinstance(f, models.EmailField):
        return f"regexp_replace({q}, '@', '+' || k || '@')"
    if isinstance(f, models.SlugField):
        return f"{q} || '-' || k"
    # "SAFER-2025-B00123": the number moves past the base's largest, at least as wide.
    # (lpad cuts a longer string to the width, so the width is the larger of the two.)
    number = f"substring({q} from '[0-9]+$')"
    shifted = f"({number}::bigint + k * {largest + 1})::text"
    return (
        f"CASE WHEN {q} ~ '[0-9]+$' THEN regexp_replace({q}, '[0-9]+$', '') || "
        f"lpad({shifted}, greatest(length({number}), length({shifted})), '0') "
        f"ELSE {q} || ' ' || k END"
    )


def _check_length(model: type[models.Model], column: str, sql: str, copies: int) -> None:
    """Refuse a copy whose text would not fit its column, before loading anything."""
    f = next(f for f in model._meta.concrete_fields if f.column == column)
    if not getattr(f, "max_length", None):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(max(length({sql})), 0) FROM {_quote(model._meta.db_table)}, "  # noqa: S608
            f"(SELECT {copies - 1} AS k) AS last_copy"
        )
        (longest,) = cursor.fetchone()
    if longest > f.max_length:
        raise ValueError(
            f"{_label(model)}.{f.name}: copy {copies - 1} would be {longest} characters long, "
            f"over its {f.max_length}; give this column a rule in benchmarks/data/scale.py."
        )


def _largest_trailing_number(table: str, column: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(max(substring({_quote(column)} from '[0-9]+$')::bigint), 0) "  # noqa: S608
            f"FROM {_quote(table)}"
        )
        return int(cursor.fetchone()[0])


def _catalogue_columns(table: str) -> list[str]:
    """The table's stored columns (not generated ones), in order: the catalogue's, so a column
    added by SQL alone is copied too."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def _max_pk(table: str, pk: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max({_quote(pk)}), 0) FROM {_quote(table)}")  # noqa: S608
        return int(cursor.fetchone()[0])


@dataclass
class Plan:
    """The statements that multiply the base, one per copied table."""

    copies: int
    shape: str
    statements: list[tuple[str, str]]  # (table, SQL)
    sequences: list[tuple[str, str]]  # (table, integer primary key column)
    models: list[type[models.Model]]
    # Tables of which each copy keeps only a share of the base rows (the access log past its
    # cap): the share, for weighing the loaders' work.
    kept_share: dict[str, float] = field(default_factory=dict)


def plan(copies: int, shape: str) -> Plan:
    chosen = copied_models(shape)
    chosen_set = set(chosen)
    offsets: dict[type[models.Model], int] = {}
    for m in chosen:
        pk = m._meta.pk
        assert pk is not None
        if _kind(pk) == "int" and not pk.is_relation:
            offsets[m] = _max_pk(m._meta.db_table, pk.column)

    def remap(f: models.Field) -> str | None:
        """The SQL of copy k of a column that must follow its row, or None to keep it."""
        q = _quote(f.column)
        owner: type[models.Model] | None
        if f.is_relation:
            owner = f.related_model  # type: ignore[assignment]
            if owner not in chosen_set:
                return None
            target = f.target_field  # type: ignore[attr-defined]
            if not target.primary_key:
                raise ValueError(f"{f}: a foreign key to a non-key column is not handled")
        elif f.primary_key:
            owner = f.model
        else:
            return None
        kind = _kind(f)
        if kind == "uuid":
            return _uuid(q)
        if kind == "int":
            assert owner is not None
            if owner not in offsets:  # a one-to-one primary key: follow its own target
                return remap(owner._meta.pk)
            return f"{q} + k * {offsets[owner]}"
        raise ValueError(f"{f}: a {type(f).__name__} key cannot be copied; see NEVER_COPIED")

    left_out = _rows_left_out(chosen, shape)
    kept_share: dict[str, float] = {}
    statements: list[tuple[str, str]] = []
    sequences: list[tuple[str, str]] = []
    for m in chosen:
        opts = m._meta
        table = opts.db_table
        expressions: dict[str, str] = {}
        for f in opts.concrete_fields:
            sql = remap(f)
            if sql is not None:
                expressions[f.column] = sql
        for column in _unique_text_columns(m, set(expressions)):
            sql = _suffixed(m, column, _largest_trailing_number(table, column))
            _check_length(m, column, sql, copies)
            expressions[column] = sql
        conditions = []
        if left_out[m]:
            pk_column = _quote(opts.pk.column)
            listed = ",".join(sorted(left_out[m]))
            conditions.append(f"NOT (t.{pk_column}::text = ANY('{{{listed}}}'::text[]))")
        if _label(m) == ACCESS_LOG:
            expressions["record_id"] = _access_record_id(chosen_set, offsets)
            share = _access_log_share(table, copies)
            conditions += share
            if share:
                kept_share[table] = _access_log_per_mille(table, copies) / 1000
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        columns = _catalogue_columns(table)
        select = ", ".join(expressions.get(c, f"t.{_quote(c)}") for c in columns)
        # Columns of the catalogue that Django does not know are copied as they are.
        statements.append(
            (
                table,
                f"INSERT INTO {_quote(table)} ({', '.join(_quote(c) for c in columns)}) "  # noqa: S608
                f"SELECT {select} FROM generate_series(1, {copies - 1}) AS k "
                f"CROSS JOIN {_quote(table)} AS t{where}",
            )
        )
        if m in offsets:
            sequences.append((table, opts.pk.column))
    return Plan(copies, shape, statements, sequences, chosen, kept_share)


def _rows_left_out(
    chosen: list[type[models.Model]], shape: str
) -> dict[type[models.Model], set[str]]:
    """The base rows (primary keys as text) that belong to no copy, per copied model.

    A model copied because it points at a copied one may have rows that point at none (the
    service-wide default retention rule or risk policy, of no authority): those stay single.
    So do the rows that point at a row left out (the default policy's bands, its pghistory
    events), or their copy would point at nothing. The seeds are copied whole. Found on the
    base, which is small, until nothing changes (the graph has cycles: a referral's repeat)."""
    chosen_set = set(chosen)
    seeds = set(VOLUME_SEEDS) | (set(SCOPE_SEEDS) if shape == "national" else set())
    left_out: dict[type[models.Model], set[str]] = {m: set() for m in chosen}
    changed = True
    with connection.cursor() as cursor:
        while changed:
            changed = False
            for m in chosen:
                keys = [
                    f
                    for f in m._meta.concrete_fields
                    if f.is_relation and f.related_model in chosen_set
                ]
                conditions: list[str] = []
                params: list[list[str]] = []
                own = [f for f in keys if not f.primary_key]
                if _label(m) not in seeds and own and all(f.null for f in own):
                    conditions.append(
                        "(" + " AND ".join(f"t.{_quote(f.column)} IS NULL" for f in own) + ")"
                    )
                for f in keys:
                    gone = left_out[f.related_model]  # type: ignore[index]
                    if gone:
                        conditions.append(f"t.{_quote(f.column)}::text = ANY(%s)")
                        params.append(sorted(gone))
                if not conditions:
                    continue
                pk = _quote(m._meta.pk.column)
                cursor.execute(
                    f"SELECT t.{pk}::text FROM {_quote(m._meta.db_table)} AS t "  # noqa: S608
                    f"WHERE {' OR '.join(conditions)}",
                    params,
                )
                found = {value for (value,) in cursor.fetchall()}
                if found != left_out[m]:
                    left_out[m] = found
                    changed = True
    return left_out


def _access_record_id(
    chosen: set[type[models.Model]], offsets: dict[type[models.Model], int]
) -> str:
    """The record read, in the copy: ``record_type`` is the model's label ("referrals.referral")
    and ``record_id`` its primary key as text. Only the types the log holds get a branch (each
    branch is a comparison per row)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT record_type FROM audit_accesslog")
        present = {record_type for (record_type,) in cursor.fetchall()}
    cases = []
    for m in sorted(chosen, key=lambda m: m._meta.label_lower):
        if m._meta.label_lower not in present:
            continue
        pk = m._meta.pk
        assert pk is not None
        kind = _kind(pk)
        if kind == "uuid":
            new = f"{_uuid('t.record_id::uuid')}::text"
        elif kind == "int" and m in offsets:
            new = f"(t.record_id::bigint + k * {offsets[m]})::text"
        else:
            continue
        cases.append(f"WHEN '{m._meta.label_lower}' THEN {new}")
    if not cases:
        return "t.record_id"
    return f"CASE t.record_type {' '.join(cases)} ELSE t.record_id END"


def _access_log_share(table: str, copies: int) -> list[str]:
    """The condition that keeps each copy's share of the base's access-log rows under the cap."""
    per_mille = _access_log_per_mille(table, copies)
    return [] if per_mille >= 1000 else [f"(t.id + k) % 1000 < {per_mille}"]


def _access_log_per_mille(table: str, copies: int) -> int:
    """Of each thousand base access-log rows, how many each copy keeps (1000: all of them)."""
    base = _max_pk(table, "id")
    if base == 0 or base * copies <= ACCESS_LOG_CAP:
        return 1000
    return max(1, (ACCESS_LOG_CAP - base) * 1000 // (base * (copies - 1)))


def scale_marker_present(copies: int) -> bool:
    return ReferenceCounter.objects.filter(
        prefix=SCALE_MARKER, year=DATA_VERSION, last_number=copies
    ).exists()


def multiply(
    copies: int, shape: str, *, verbose: bool = True, loaders: int | None = None
) -> dict[str, int]:
    """Multiply the base dataset in the current database ``copies`` times in all; the scale
    marker is written last, once every row is in. Returns the rows added per table.

    ``loaders`` connections load the tables side by side (default ``LOADERS``, one per
    core), each table wholly on one of them in a transaction of its own, its plain indexes
    dropped and built again. A failed loader leaves no marker, so the
    database is dropped and rebuilt by the next run. One loader (the default inside a
    transaction, as in the tests, or for a role that may not turn the triggers off) is one
    transaction for everything."""
    if copies < 2:
        return {}
    if copies > 65_536:
        raise ValueError("At most 65,536 copies: a UUID's copy number is two bytes.")
    began = time.perf_counter()
    if loaders is None:
        loaders = LOADERS if not connection.in_atomic_block and _may_turn_triggers_off() else 1
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET synchronous_commit = off")
    if loaders > 1:
        the_plan = plan(copies, shape)
        if verbose:
            print(f"  planned in {time.perf_counter() - began:.0f} s", flush=True)
        added = _load_side_by_side(the_plan, loaders, verbose=verbose)
        with transaction.atomic():
            _sequences_past_the_copies(the_plan)
            caseload_tally_rebuild()  # the copies were written with the triggers off
            ReferenceCounter.objects.create(
                prefix=SCALE_MARKER, year=DATA_VERSION, last_number=copies
            )
        # The loaders analysed the tables they loaded; the rest (small, unchanged) here.
        analysed = {table for table, _ in the_plan.statements}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = 'public'::regnamespace"
            )
            every = {table for (table,) in cursor.fetchall()}
            for table in sorted(every - analysed):
                cursor.execute(f"ANALYZE {_quote(table)}")
    else:
        added = {}
        with transaction.atomic():
            the_plan = plan(copies, shape)
            replica = _triggers_off(the_plan.models)
            with secondary_indexes_deferred(the_plan.models), connection.cursor() as cursor:
                for table, sql in the_plan.statements:
                    # Without the triggers off a foreign key's pending check would stop the
                    # ALTER TABLE that adds a key back.
                    with keys_deferred(table) if replica else nullcontext():
                        added[table] = _insert(cursor, table, sql, verbose=verbose)
                if verbose:
                    took = time.perf_counter() - began
                    print(f"  rows in {took:.0f} s; indexes next", flush=True)
            _sequences_past_the_copies(the_plan)
            with connection.cursor() as cursor:
                if replica:
                    cursor.execute("SET LOCAL session_replication_role = DEFAULT")
                else:
                    _user_triggers(the_plan.models, enable=True)
            caseload_tally_rebuild()  # the copies were written with the triggers off
            ReferenceCounter.objects.create(
                prefix=SCALE_MARKER, year=DATA_VERSION, last_number=copies
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if verbose:
        took = time.perf_counter() - began
        print(
            f"Multiplied x{copies} ({shape}) in {took:.0f} s with {loaders} loader(s): "
            f"{sum(added.values()):,} rows."
        )
    return added


def _insert(cursor: Any, table: str, sql: str, *, verbose: bool, who: str = "") -> int:
    started = time.perf_counter()
    cursor.execute(sql)
    took = time.perf_counter() - started
    if verbose and took > 5:
        print(f"  {who}{table}: {cursor.rowcount:,} rows in {took:.0f} s", flush=True)
    return int(cursor.rowcount)


def _sequences_past_the_copies(the_plan: Plan) -> None:
    with connection.cursor() as cursor:
        for table, pk in the_plan.sequences:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), "  # noqa: S608
                f"(SELECT coalesce(max({_quote(pk)}), 1) FROM {_quote(table)}))",
                [table, pk],
            )


def _may_turn_triggers_off() -> bool:
    """Only a superuser may set ``session_replication_role``, which the side-by-side load
    needs: with the foreign-key triggers on, one loader's rows would wait on another's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def heaviest_first(weights: dict[str, int]) -> list[str]:
    """The order the loaders take the tables in: heaviest first, so whichever loader is free
    takes the next, and the last to finish are the small ones (the loaders end near together)."""
    return sorted(weights, key=lambda t: (-weights[t], t))


def _load_side_by_side(the_plan: Plan, loaders: int, *, verbose: bool) -> dict[str, int]:
    """Each table in a transaction of its own (its plain indexes dropped, the rows, the indexes
    built again), on whichever of ``loaders`` connections is free: a table is never split, so
    no two loaders lock the same one."""
    statements = dict(the_plan.statements)
    models_by_table = {m._meta.db_table: m for m in the_plan.models}
    with connection.cursor() as cursor:
        # The base's size on disk stands for the work: rows times their width, and indexes.
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relname = ANY(%s) AND relnamespace = 'public'::regnamespace",
            [list(statements)],
        )
        sizes = {table: 0 for table in statements} | dict(cursor.fetchall())
    weights = {t: round(size * the_plan.kept_share.get(t, 1.0)) for t, size in sizes.items()}
    settings_dict = dict(connection.settings_dict)
    wrapper_class = type(connections[DEFAULT_DB_ALIAS])
    own = threading.local()
    opened: list[BaseDatabaseWrapper] = []
    began = time.perf_counter()

    def loader_connection() -> BaseDatabaseWrapper:
        if not hasattr(own, "db"):
            own.db = wrapper_class(dict(settings_dict), DEFAULT_DB_ALIAS)
            own.db.inc_thread_sharing()  # closed by the calling thread once all are done
            own.number = len(opened) + 1
            opened.append(own.db)
            with own.db.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                cursor.execute("SET synchronous_commit = off")
        return cast(BaseDatabaseWrapper, own.db)

    def load(table: str) -> int:
        db = loader_connection()
        with db.cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                cursor.execute("SET LOCAL session_replication_role = replica")
                share = [models_by_table[table]] if table in models_by_table else []
                with secondary_indexes_deferred(share, db=db), keys_deferred(table, db=db):
                    rows = _insert(
                        cursor, table, statements[table], verbose=verbose, who=f"[{own.number}] "
                    )
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            # Its statistics now, on this loader, rather than one ANALYZE of everything after.
            cursor.execute(f"ANALYZE {_quote(table)}")
        return rows

    try:
        with ThreadPoolExecutor(max_workers=loaders) as pool:
            order = heaviest_first(weights)
            added = dict(zip(order, pool.map(load, order), strict=True))
    finally:
        for db in opened:
            db.close()
    if verbose:
        print(f"  rows and indexes in {time.perf_counter() - began:.0f} s", flush=True)
    return added


@contextmanager
def keys_deferred(table: str, *, db: BaseDatabaseWrapper | None = None) -> Iterator[int]:
    """Drop the table's primary key, unique constraints and unique indexes that no foreign key
    hangs on, and add them again, by their own names and definitions, once the rows are in: one
    sort per key instead of a descent of its B-tree (random, for a UUID) per row. The big tables
    (the access log, the session logs, the case events, the pghistory events) are leaves, so
    they lose all their indexes while they load. A key a foreign key hangs on stays (dropping it
    would take the foreign key with it), and so does a partial or expression unique index (small
    ones, and their definitions read back would not be the same text). A repeated key fails the
    ``ADD`` as it would have failed the insert. Inside the caller's transaction. Yields how
    many were deferred."""
    db = db if db is not None else connection
    with db.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, pg_get_constraintdef(c.oid), NULL
            FROM pg_constraint c
            WHERE c.conrelid = %(table)s::regclass AND c.contype IN ('p', 'u')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                              WHERE f.contype = 'f' AND f.conindid = c.conindid)
            UNION ALL
            SELECT NULL, NULL, pg_get_indexdef(i.indexrelid) || ' -- ' || i.indexrelid::regclass
            FROM pg_index i
            WHERE i.indrelid = %(table)s::regclass AND i.indisunique AND NOT i.indisprimary
              AND i.indpred IS NULL AND i.indexprs IS NULL
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY 1, 3
            """,
            {"table": table},
        )
        keys = cursor.fetchall()
        quoted = _quote(table)
        for name, _, index in keys:
            if name is not None:
                cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {_quote(name)}")
            else:
                cursor.execute(f"DROP INDEX {index.rsplit(' -- ', 1)[1]}")
    yield len(keys)
    with db.cursor() as cursor:
        for name, definition, index in keys:
            if name is not None:
                cursor.execute(f"ALTER TABLE {quoted} ADD CONSTRAINT {_quote(name)} {definition}")
            else:
                cursor.execute(index.rsplit(" -- ", 1)[0])


def _triggers_off(models_: Iterable[type[models.Model]]) -> bool:
    """Turn the triggers off for the load: all of them when the role may (a superuser), else
    the tables' own (pghistory's), leaving the foreign keys to be checked at commit."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        return True
    except DatabaseError:
        _user_triggers(models_, enable=False)
        return False


def _user_triggers(models_: Iterable[type[models.Model]], *, enable: bool) -> None:
    verb = "ENABLE" if enable else "DISABLE"
    with connection.cursor() as cursor:
        for m in models_:
            cursor.execute(f"ALTER TABLE {_quote(m._meta.db_table)} {verb} TRIGGER USER")


def use_scaled_database(scale: Scale, *, rebuild: bool = False, verbose: bool = True) -> str:
    """Point the default connection at the bench database of this scale, copying and
    multiplying the base (which must hold the county build) the first time. Returns its name.

    Each scale and shape has its own database (``test_safer_bench_1000000_county``), kept for
    the next run: the scale marker, written in the multiplying transaction, says it is whole.
    """
    base = str(connection.settings_dict["NAME"])
    if not scale.multiplied:
        return base
    target = scale.database(base)
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target])
        exists = cursor.fetchone() is not None
    if exists and not rebuild:
        connection.settings_dict["NAME"] = target
        if bench_data_present() and scale_marker_present(scale.copies):
            # Kept from an earlier run: bring its schema up to the code's, as the base's is.
            call_command("migrate", interactive=False, verbosity=0)
            return target
        connection.close()
        connection.settings_dict["NAME"] = base
    began = time.perf_counter()
    with connection._nodb_cursor() as cursor:  # the maintenance database: no one on the base
        cursor.execute(f"DROP DATABASE IF EXISTS {_quote(target)} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {_quote(target)} TEMPLATE {_quote(base)}")
    connection.settings_dict["NAME"] = target
    if verbose:
        took = time.perf_counter() - began
        print(f"Copied {base} to {target} in {took:.0f} s; multiplying x{scale.copies} ...")
    multiply(scale.copies, scale.shape, verbose=verbose)
    if verbose:
        print(f"{target} ready in {time.perf_counter() - began:.0f} s.")
    return target


def bench_data_present() -> bool:
    from benchmarks.data import bench_data_present as present

    return present()


def dangling_foreign_keys() -> dict[str, int]:
    """Foreign keys that point at no row, per ``table.column`` (none, when the copies are
    right): the load runs without the foreign-key triggers, so this is the check."""
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for m in apps.get_models(include_auto_created=True):
            if not m._meta.managed or m._meta.proxy:
                continue
            for f in m._meta.concrete_fields:
                if not f.is_relation or f.related_model is None:
                    continue
                target = f.related_model._meta  # type: ignore[union-attr]
                column = _quote(f.column)
                key = _quote(f.target_field.column)  # type: ignore[attr-defined]
                cursor.execute(
                    f"SELECT count(*) FROM {_quote(m._meta.db_table)} c "  # noqa: S608
                    f"WHERE c.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                    f"{_quote(target.db_table)} p WHERE p.{key} = c.{column})"
                )
                (count,) = cursor.fetchone()
                if count:
                    found[f"{m._meta.db_table}.{f.column}"] = count
    return found
