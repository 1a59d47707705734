"""Append-only guards that cannot be switched off from a database session.

pgtrigger's ``Protect`` triggers (on AccessLog, AuthEvent, CaseEvent and every pghistory event
table) honour pgtrigger's escape hatch: any session may run
``SET LOCAL pgtrigger.ignore = '{<trigger id>}'`` and then UPDATE or DELETE audit rows. So every
table that has an append-only ``Protect`` trigger also gets a plain trigger, installed after each
``migrate``, whose function has no such check.

The "who" of a change lives in ``pghistory_context`` (one row per request or task, shared by
its events). pghistory itself updates that row when metadata is added during the request, so it
cannot be append-only; its guard lets metadata gain keys or fill a null, never change or drop a
value, and refuses DELETE.

What these do not stop: the table owner dropping or disabling a trigger, or TRUNCATE (Django's
test flush uses it). In production the application's database role must not own the tables.
Members of the ``RETENTION_ROLE`` database role pass the guard (they still have to ask pgtrigger
to ignore its own trigger): that is how a retention job may erase personal data from history.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, models
from pghistory.models import Context

GUARD_TRIGGER = "safer_append_only"
# A database role (NOLOGIN, created by the DBA) whose members may UPDATE or DELETE rows of the
# append-only tables: the one door for a retention job that must erase personal data from the
# history once its retention period ends. Nobody is a member unless a DBA makes them one.
RETENTION_ROLE = "safer_audit_retention"
CONTEXT_GUARD_TRIGGER = "safer_history_context_guard"

_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION safer_append_only_guard() RETURNS trigger AS $$
BEGIN
    -- The retention job, connected as a member of this role, may erase or anonymise old rows.
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{retention_role}') THEN
        IF pg_has_role(current_user, '{retention_role}', 'MEMBER') THEN
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'SAFER: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION safer_history_context_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
        OR NEW.id IS DISTINCT FROM OLD.id
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR EXISTS (
            SELECT 1 FROM jsonb_each(OLD.metadata::jsonb) AS old_entry(key, value)
            WHERE old_entry.value <> 'null'::jsonb
              AND (NEW.metadata::jsonb -> old_entry.key) IS DISTINCT FROM old_entry.value
        )
    THEN
        RAISE EXCEPTION 'SAFER: % on % may only add to a change context', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def append_only_models() -> list[type[models.Model]]:
    """Models with an unconditional pgtrigger ``Protect`` on both UPDATE and DELETE."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for trigger in getattr(model._meta, "triggers", []):
            operation = str(trigger.operation or "")
            if (
                isinstance(trigger, pgtrigger.Protect)
                and trigger.condition is None
                and str(trigger.level) == str(pgtrigger.Row)
                and "UPDATE" in operation
                and "DELETE" in operation
            ):
                found.append(model)
                break
    return found


def install_guards(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create or refresh the guards; returns the append-only tables guarded. Idempotent."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    tables = sorted(
        {m._meta.db_table for m in append_only_models() if m._meta.db_table in existing}
    )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(_FUNCTIONS_SQL.replace("{retention_role}", RETENTION_ROLE))
        for table in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS {GUARD_TRIGGER} ON {quote(table)}")
            cursor.execute(
                f"CREATE TRIGGER {GUARD_TRIGGER} BEFORE UPDATE OR DELETE ON {quote(table)} "
                "FOR EACH ROW EXECUTE FUNCTION safer_append_only_guard()"
            )
        context_table = Context._meta.db_table
        if context_table in existing:
            cursor.execute(
                f"DROP TRIGGER IF EXISTS {CONTEXT_GUARD_TRIGGER} ON {quote(context_table)}"
            )
            cursor.execute(
                f"CREATE TRIGGER {CONTEXT_GUARD_TRIGGER} BEFORE UPDATE OR DELETE ON "
                f"{quote(context_table)} FOR EACH ROW EXECUTE FUNCTION "
                "safer_history_context_guard()"
            )
    return tables


def install_guards_after_migrate(*, using: str = DEFAULT_DB_ALIAS, **_: Any) -> None:
    """``post_migrate`` receiver: a newly tracked model is guarded by the next ``migrate``."""
    install_guards(using=using)
