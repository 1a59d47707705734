"""The audit tables are append-only in the database itself: raw SQL cannot rewrite history."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pghistory
import pytest
from django.db import DatabaseError, connection, models, transaction
from pghistory.core import event_models
from pghistory.models import Context

from safer.audit.hardening import (
    CONTEXT_GUARD_TRIGGER,
    GUARD_TRIGGER,
    RETENTION_ROLE,
    append_only_models,
)
from safer.audit.history import history_context
from safer.audit.models import AccessLog, AuthEvent
from safer.casefile.models import CaseEvent, CaseFile
from tests.factories import (
    AccessLogFactory,
    AuthEventFactory,
    CaseEventFactory,
    CaseFileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _casefile_event() -> models.Model:
    case = CaseFileFactory.create()
    (event_model,) = event_models(tracks_model=CaseFile)
    return event_model._default_manager.get(pgh_obj_id=case.pk, pgh_label="insert")


APPEND_ONLY_ROWS: dict[str, Callable[[], models.Model]] = {
    "access log": AccessLogFactory.create,
    "auth event": AuthEventFactory.create,
    "case event": CaseEventFactory.create,
    "pghistory event (case file)": _casefile_event,
}


def _raw(sql: str, params: list[Any]) -> None:
    # A savepoint, so the refused statement leaves the test's transaction usable.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _pk_column(row: models.Model) -> tuple[str, str, Any]:
    meta = row._meta
    return meta.db_table, meta.pk.column, row.pk


def _some_column(row: models.Model) -> str:
    field = next(
        f
        for f in row._meta.concrete_fields
        if isinstance(f, models.CharField | models.DateTimeField) and not f.primary_key
    )
    return field.column


@pytest.mark.parametrize("make_row", APPEND_ONLY_ROWS.values(), ids=APPEND_ONLY_ROWS.keys())
def test_raw_sql_update_is_refused(make_row: Callable[[], models.Model]) -> None:
    row = make_row()
    table, pk, value = _pk_column(row)
    column = _some_column(row)
    before = type(row)._default_manager.filter(pk=row.pk).values_list(column, flat=True).get()

    with pytest.raises(DatabaseError, match="Cannot update or delete rows"):
        _raw(f'UPDATE "{table}" SET "{column}" = NULL WHERE "{pk}" = %s', [value])  # noqa: S608

    after = type(row)._default_manager.filter(pk=row.pk).values_list(column, flat=True).get()
    assert after == before


@pytest.mark.parametrize("make_row", APPEND_ONLY_ROWS.values(), ids=APPEND_ONLY_ROWS.keys())
def test_raw_sql_delete_is_refused(make_row: Callable[[], models.Model]) -> None:
    row = make_row()
    table, pk, value = _pk_column(row)

    with pytest.raises(DatabaseError, match="Cannot update or delete rows"):
        _raw(f'DELETE FROM "{table}" WHERE "{pk}" = %s', [value])  # noqa: S608

    assert type(row)._default_manager.filter(pk=row.pk).exists()


def test_orm_bulk_update_and_delete_are_refused() -> None:
    AccessLogFactory.create_batch(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.all().delete()
    assert AccessLog.objects.filter(reason="rewritten").count() == 0
    assert AccessLog.objects.count() == 2


def _trigger_ids(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.parametrize("make_row", APPEND_ONLY_ROWS.values(), ids=APPEND_ONLY_ROWS.keys())
def test_pgtrigger_ignore_does_not_open_the_table(make_row: Callable[[], models.Model]) -> None:
    """pgtrigger lets any session skip its triggers by name; the second guard has no such switch."""
    row = make_row()
    table, pk, value = _pk_column(row)
    ignore = "{" + ",".join(t for t in _trigger_ids(table) if t.startswith("pgtrigger_")) + "}"

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [ignore])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f'DELETE FROM "{table}" WHERE "{pk}" = %s', [value])  # noqa: S608

    assert type(row)._default_manager.filter(pk=row.pk).exists()


def test_every_append_only_table_has_both_triggers_installed_and_enabled() -> None:
    """The migrations install pgtrigger's Protect; ``migrate`` adds the guard. Both are live."""
    models_ = append_only_models()
    tracked_events = set(event_models())
    # PGHISTORY_APPEND_ONLY reaches every history table, and our own audit tables are covered.
    assert tracked_events <= set(models_)
    assert {AccessLog, AuthEvent, CaseEvent} <= set(models_)

    with connection.cursor() as cursor:
        for model in models_:
            protect_ids = [
                t.get_pgid(model)
                for t in model._meta.triggers  # type: ignore[attr-defined]
                if "DELETE" in str(t.operation)
            ]
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger "
                "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [model._meta.db_table],
            )
            installed = dict(cursor.fetchall())
            for name in [*protect_ids, GUARD_TRIGGER]:
                assert installed.get(name) == "O", f"{name} missing on {model._meta.db_table}"


def test_who_made_a_change_cannot_be_rewritten() -> None:
    """The context row holds the user of a change: it may gain keys, never change or lose them."""
    author, other = UserFactory.create(), UserFactory.create()
    with history_context(actor=author, source="test"):
        CaseFileFactory.create()
    context = Context.objects.get(metadata__source="test")
    assert context.metadata["user"] == str(author.pk)
    assert CONTEXT_GUARD_TRIGGER in _trigger_ids(Context._meta.db_table)

    with pytest.raises(DatabaseError, match="may only add"):
        _raw(
            "UPDATE pghistory_context SET metadata = jsonb_set(metadata::jsonb, '{user}', %s)"
            " WHERE id = %s",
            [f'"{other.pk}"', context.pk],
        )
    with pytest.raises(DatabaseError, match="may only add"):
        _raw("DELETE FROM pghistory_context WHERE id = %s", [context.pk])

    context.refresh_from_db()
    assert context.metadata["user"] == str(author.pk)


def test_context_may_still_gain_metadata_during_a_request() -> None:
    """pghistory adds to a live context (a sign-in mid-request sets the user): still allowed."""
    user = UserFactory.create()
    with pghistory.context(url="/x/") as live:
        CaseFileFactory.create()
        pghistory.context(user=str(user.pk))
        CaseFileFactory.create()
    assert Context.objects.get(pk=live.id).metadata == {"url": "/x/", "user": str(user.pk)}


def test_only_members_of_the_retention_role_get_past_the_guard() -> None:
    """The one door for erasing personal data from history when its retention period ends."""
    kept, erased = AccessLogFactory.create(), AccessLogFactory.create()
    table = AccessLog._meta.db_table
    ignore = "{" + ",".join(t for t in _trigger_ids(table) if t.startswith("pgtrigger_")) + "}"
    suffix = uuid.uuid4().hex[:8]
    member, outsider = f"test_retention_job_{suffix}", f"test_app_role_{suffix}"

    # Roles are created and dropped with the savepoint: nothing outlives the test.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {RETENTION_ROLE} NOLOGIN")
        cursor.execute(f"CREATE ROLE {member} NOLOGIN IN ROLE {RETENTION_ROLE}")
        cursor.execute(f"CREATE ROLE {outsider} NOLOGIN")
        cursor.execute(f"GRANT SELECT, DELETE ON {table} TO {member}, {outsider}")
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [ignore])
        try:
            cursor.execute(f"SET LOCAL ROLE {outsider}")
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [kept.pk])  # noqa: S608
            cursor.execute(f"SET LOCAL ROLE {member}")
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [erased.pk])  # noqa: S608
            assert cursor.rowcount == 1
        finally:
            cursor.execute("RESET ROLE")
        transaction.set_rollback(True)

    assert AccessLog.objects.filter(pk=kept.pk).exists()
