"""Several writes in one round trip to PostgreSQL (issue 17).

On a small machine each statement sent costs a system call and a wake-up on both sides (about
0.35 ms of client CPU before any wait), whatever the statement does. A service that writes a
handful of new rows it already holds in full (ids made in Python, nothing to read back) can send
them as one string of statements instead: ``inserts`` compiles them with the ORM's own insert
compiler, exactly the SQL ``bulk_create`` sends for each model, and ``execute_together`` sends
them, optionally followed by one statement whose rows the caller reads.

One string is one round trip on the simple query protocol (Django's psycopg backend binds
parameters client-side), and PostgreSQL runs its statements in order in the caller's
transaction. It begins with an INSERT, so pghistory's context is set ahead of it as for any
write; its triggers record each row's history as for ``bulk_create``.

Like ``bulk_create``: no ``save()``, no signals. Only for models that have neither a ``save()``
of their own nor receivers, and for rows whose database-made values (a serial id) nobody reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Value, signals, sql
from django.db.models.expressions import DatabaseDefault


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Any, ...]
    # The new rows this statement inserts: marked saved once it has run.
    rows: tuple[models.Model, ...] = ()


def inserts(rows: Iterable[models.Model]) -> list[Statement]:
    """The INSERTs of new ``rows``: one per model, in the order each model first appears (rows
    of a model in their order). Foreign keys are deferred to commit, so the order is free."""
    by_model: dict[type[models.Model], list[models.Model]] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    statements = []
    for model, instances in by_model.items():
        _refuse_what_a_batch_would_skip(model)
        opts = model._meta
        fields = [f for f in opts.concrete_fields if not f.generated]
        with_pk = [row.pk is not None for row in instances]
        if any(with_pk) != all(with_pk):
            raise ValueError(f"{model.__name__}: rows with and without ids in one batch")
        if not all(with_pk):
            fields = [f for f in fields if not isinstance(f, models.AutoField)]
        for field in opts.db_returning_fields:
            if field is opts.pk:
                continue  # a serial id: not read back (see above)
            for row in instances:
                _database_default_in_memory(row, field)
        for row in instances:
            row._prepare_related_fields_for_save(operation_name="inserts")  # type: ignore[attr-defined]
        query = sql.InsertQuery(model)
        query.insert_values(fields, instances)
        compiler = query.get_compiler(connection=connection)
        compiled = compiler.as_sql()
        if len(compiled) != 1:
            raise ValueError(f"{model.__name__}: expected one INSERT, got {len(compiled)}")
        [(text, params)] = compiled
        statements.append(Statement(text, tuple(params), rows=tuple(instances)))
    return statements


def update(rows: models.QuerySet[Any], **values: Any) -> Statement:
    """``rows.update(**values)`` as a statement, to send with others: the ORM's own UPDATE."""
    query = rows.query.chain(sql.UpdateQuery)
    assert isinstance(query, sql.UpdateQuery)
    query.add_update_values(values)
    text, params = query.get_compiler(connection=connection).as_sql()
    return Statement(text, tuple(params))


def execute_together(
    statements: Sequence[Statement], *, then: Statement | None = None
) -> list[tuple[Any, ...]]:
    """Send ``statements`` (and ``then``, last) in one round trip; the rows of the last
    statement. Inside a transaction only: a failure anywhere rolls all of it back."""
    if not connection.in_atomic_block:
        raise RuntimeError("execute_together runs inside the caller's transaction")
    chain = [*statements, *([then] if then else [])]
    if not chain:
        return []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(s.sql for s in chain), [p for s in chain for p in s.params])
        while cursor.nextset():  # to the last statement (pghistory may have moved there)
            pass
        rows = list(cursor.fetchall()) if cursor.description else []
    for statement in statements:
        for row in statement.rows:
            row._state.adding = False
            row._state.db = connection.alias
    return rows


def _refuse_what_a_batch_would_skip(model: type[models.Model]) -> None:
    """A model with a ``save()`` of its own or a save signal's receiver cannot be batched: its
    rows would be stored without what those do (the module's promise, kept here rather than by
    each caller's care)."""
    if model.save is not models.Model.save:
        raise ValueError(f"{model.__name__} has a save() of its own: save it, do not batch it")
    for signal in (signals.pre_save, signals.post_save):
        if signal.has_listeners(model):
            raise ValueError(f"{model.__name__} has a save signal receiver: do not batch it")


def _database_default_in_memory(row: models.Model, field: models.Field[Any, Any]) -> None:
    """``bulk_create`` reads back what the database made for a field left to its ``db_default``;
    nothing is read back here, so a constant default is sent as the value instead (the same
    row, and the instance holds what is stored). Anything else is refused."""
    if field.generated:
        raise ValueError(f"{type(row).__name__}.{field.name}: generated by the database")
    value = getattr(row, field.attname)
    if not isinstance(value, DatabaseDefault):
        return  # a value of our own, stored as it is
    default = field.db_default
    if isinstance(default, Value):
        default = default.value
    elif hasattr(default, "resolve_expression"):
        raise ValueError(f"{type(row).__name__}.{field.name}: a default the database computes")
    setattr(row, field.attname, default)
