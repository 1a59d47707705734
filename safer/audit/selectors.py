"""Reads for the auditor: who looked at a record, who changed what, and sign-in events.

A record is found by case reference or by type and id, and may no longer exist: its audit trail
outlives it. A case file's trail covers the rows that make up the case (its household, people,
safe-contact rules, perpetrators and anything else whose history points at the case file).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q, QuerySet
from pghistory.core import event_models
from pghistory.models import Event

from safer.accounts.models import User
from safer.audit.masking import HIDDEN, value_is_shown
from safer.audit.models import AccessAction, AccessLog, AuthEvent
from safer.casefile.models import CaseFile
from safer.paging import CappedCount, capped_counts
from safer.templatetags.safer_format import model_name_in_words

if TYPE_CHECKING:
    from safer.audit.scoping import AuditScope

UTC = dt.UTC

# --- Records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRef:
    """A record the auditor asked about; ``instance`` is None when it no longer exists."""

    record_type: str
    record_id: str
    model: type[models.Model]
    instance: models.Model | None

    @property
    def type_label(self) -> str:
        return model_name_in_words(self.model)

    @property
    def case_reference(self) -> str:
        return self.instance.reference if isinstance(self.instance, CaseFile) else ""


def auditable_models() -> list[type[models.Model]]:
    """The project's own models (not framework ones, not history tables), by label."""
    base = str(settings.BASE_DIR)
    found = [
        model
        for config in apps.get_app_configs()
        # The virtualenv may live under the project directory: its packages are not ours.
        if str(config.path).startswith(base) and "site-packages" not in str(config.path)
        for model in config.get_models()
        if not issubclass(model, Event) and model._meta.app_label != "audit"
    ]
    return sorted(found, key=lambda m: m._meta.label_lower)


def record_get(*, record_type: str, record_id: str) -> RecordRef | None:
    """The record of this type and id, or None when the type is unknown or the id malformed."""
    model = next((m for m in auditable_models() if m._meta.label_lower == record_type), None)
    if model is None:
        return None
    try:
        pk = model._meta.pk.to_python(record_id)
    except ValidationError:
        return None
    if pk is None:
        return None
    instance = model._default_manager.filter(pk=pk).first()
    return RecordRef(record_type=record_type, record_id=str(pk), model=model, instance=instance)


def record_get_by_reference(*, reference: str) -> RecordRef | None:
    case = CaseFile.objects.filter(reference__iexact=reference.strip()).first()
    if case is None:
        return None
    return RecordRef(
        record_type=CaseFile._meta.label_lower,
        record_id=str(case.pk),
        model=CaseFile,
        instance=case,
    )


Scope = dict[str, set[str]]  # model label -> ids


def record_scope(*, ref: RecordRef) -> Scope:
    """The records whose access and changes make up this record's trail.

    The record itself, plus every tracked record whose history has a foreign key to it (a
    perpetrator's rows point at the case file). A case file also takes in its household (any
    it has had) and the household's people.
    """
    scope: Scope = defaultdict(set)
    scope[ref.record_type].add(ref.record_id)
    _add_referencing(scope, target=ref.model, ids={ref.record_id})
    if ref.model is CaseFile:
        household_ids = {
            str(h)
            for model in event_models(tracks_model=CaseFile)
            for h in model._default_manager.filter(pgh_obj_id=ref.record_id).values_list(
                "household_id", flat=True
            )
        }
        if isinstance(ref.instance, CaseFile):
            household_ids.add(str(ref.instance.household_id))
        household_model = CaseFile._meta.get_field("household").related_model
        assert isinstance(household_model, type)
        scope[household_model._meta.label_lower] |= household_ids
        # Not other case files of the same household: they are other cases.
        _add_referencing(scope, target=household_model, ids=household_ids, skip=CaseFile)
    return dict(scope)


def _add_referencing(
    scope: Scope,
    *,
    target: type[models.Model],
    ids: set[str],
    skip: type[models.Model] | None = None,
) -> None:
    if not ids:
        return
    for model in event_models(references_model=target):
        tracked: type[models.Model] = cast(Any, model).pgh_tracked_model
        if tracked is target or tracked is skip:
            continue
        links = [
            f.attname
            for f in model._meta.concrete_fields
            if f.related_model is target and not f.name.startswith("pgh_")
        ]
        if not links:
            continue
        condition = Q()
        for attname in links:
            condition |= Q(**{f"{attname}__in": ids})
        found = (
            model._default_manager.filter(condition).values_list("pgh_obj_id", flat=True).distinct()
        )
        scope[tracked._meta.label_lower] |= {str(i) for i in found}


# --- Filters shared by the lists -----------------------------------------------------------------


def _date_range(
    field_name: str, date_from: dt.date | None, date_to: dt.date | None
) -> dict[str, dt.datetime]:
    """Inclusive whole UTC days, as the filter form says."""
    lookups = {}
    if date_from:
        lookups[f"{field_name}__gte"] = dt.datetime.combine(date_from, dt.time.min, tzinfo=UTC)
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=UTC)
        lookups[f"{field_name}__lt"] = end
    return lookups


# --- Access log ----------------------------------------------------------------------------------


def access_log_list(
    *,
    audit_scope: AuditScope,
    scope: Scope | None = None,
    user: str = "",
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AccessLog]:
    """Access-log rows the auditor may read, newest first; ``scope`` limits them to one record's
    trail."""
    rows = AccessLog.objects.filter(audit_scope.access_log_q()).select_related("authority")
    if scope is not None:
        records = Q(pk__in=[])
        for record_type, ids in scope.items():
            if ids:
                records |= Q(record_type=record_type, record_id__in=sorted(ids))
        rows = rows.filter(records)
    if user:
        rows = rows.filter(Q(user__email__iexact=user) | Q(user_label__icontains=user))
    if action:
        rows = rows.filter(action=action)
    return rows.filter(**_date_range("occurred_at", date_from, date_to)).order_by(
        "-occurred_at", "-id"
    )


@dataclass(frozen=True)
class AccessLogCursor:
    """Where a page of the access log ends: the last row's time and id (keyset paging)."""

    occurred_at: dt.datetime
    id: int

    def __str__(self) -> str:
        return f"{self.occurred_at.astimezone(UTC).isoformat()}_{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> AccessLogCursor | None:
        """The cursor in a page link; None (the newest rows) when missing or not one."""
        if not text or "_" not in text:
            return None
        when, _, row_id = text.rpartition("_")
        try:
            occurred_at = dt.datetime.fromisoformat(when)
            number = int(row_id)
        except ValueError:
            return None
        if occurred_at.tzinfo is None:
            return None
        return cls(occurred_at=occurred_at, id=number)


@dataclass(frozen=True)
class AccessLogPage:
    """One page of the access log, newest first, never counted: ``has_next`` says whether
    older rows match, ``next_cursor`` is where the next page starts."""

    object_list: list[AccessLog]
    has_next: bool
    next_cursor: AccessLogCursor | None
    is_first: bool

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def access_log_page(
    *,
    audit_scope: AuditScope,
    before: AccessLogCursor | None = None,
    per_page: int = 50,
    user: str = "",
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> AccessLogPage:
    """The page of rows the auditor may read that comes after ``before`` (newest first).

    The auditor's scope is an OR (their authorities' stamped rows, or unstamped rows they may
    read) that PostgreSQL can only answer by scanning the whole table. Here each side is its own
    branch of a UNION ALL: one per authority of theirs, read newest first from the index on
    (authority, time, id) and stopped after a page; and the unstamped rows, from the partial
    index on (time, id) where there is no stamp. The cost follows the page, not the table, and
    nothing counts the rows (issue 17).
    """
    filters = Q(**_date_range("occurred_at", date_from, date_to))
    if user:
        filters &= Q(user__email__iexact=user) | Q(user_label__icontains=user)
    if action:
        filters &= Q(action=action)
    if before is not None:
        filters &= Q(occurred_at__lte=before.occurred_at) & (
            Q(occurred_at__lt=before.occurred_at) | Q(id__lt=before.id)
        )
    newest_first = ("-occurred_at", "-id")
    branches = [
        AccessLog.objects.filter(filters, authority_id=authority_id)
        for authority_id in audit_scope.authorities.values_list("pk", flat=True)
    ]
    branches.append(
        AccessLog.objects.filter(
            filters, Q(authority__isnull=True), audit_scope.unstamped_access_log_q()
        )
    )
    limited = [
        branch.order_by(*newest_first).values_list("id", "occurred_at")[: per_page + 1]
        for branch in branches
    ]
    first, *rest = limited
    keys = list(
        first.union(*rest, all=True).order_by(*newest_first)[: per_page + 1] if rest else first
    )
    shown = [row_id for row_id, _ in keys[:per_page]]
    rows = sorted(
        AccessLog.objects.filter(pk__in=shown).select_related("authority"),
        key=lambda row: (row.occurred_at, row.pk),
        reverse=True,
    )
    has_next = len(keys) > per_page
    last = rows[-1] if rows else None
    return AccessLogPage(
        object_list=rows,
        has_next=has_next,
        next_cursor=AccessLogCursor(last.occurred_at, last.pk) if has_next and last else None,
        is_first=before is None,
    )


# --- Sign-in events ------------------------------------------------------------------------------


def auth_event_list(
    *,
    audit_scope: AuditScope,
    user: str = "",
    kind: str = "",
    ip: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuthEvent]:
    rows = AuthEvent.objects.filter(audit_scope.auth_event_q()).select_related("user")
    if user:
        rows = rows.filter(
            Q(user__email__iexact=user)
            | Q(user__full_name__icontains=user)
            | Q(attempted_username__iexact=user)
        )
    if kind:
        rows = rows.filter(kind=kind)
    if ip:
        rows = rows.filter(source_ip=ip)
    return rows.filter(**_date_range("occurred_at", date_from, date_to)).order_by(
        "-occurred_at", "-id"
    )


@dataclass(frozen=True)
class AccessCounts:
    reads: CappedCount
    break_glass: CappedCount


def access_counts_since(*, audit_scope: AuditScope, since: dt.datetime) -> AccessCounts:
    """For an auditor's home: the access-log rows they may read since ``since``, and the
    break-glass openings among them, each capped at ``COUNT_CAP`` ("500+"). One statement: each
    side of the scope (their authorities' stamped rows, the unstamped rows they may read)
    counted apart through its own index, and stopped at 501 rows: a week of Kent's reads is
    about 200,000 rows at a million referrals (issue 17)."""
    window = Q(occurred_at__gte=since)
    stamped = AccessLog.objects.filter(
        window, authority_id__in=audit_scope.authorities.values("pk")
    )
    unstamped = AccessLog.objects.filter(
        window, Q(authority__isnull=True), audit_scope.unstamped_access_log_q()
    )
    break_glass = Q(action=AccessAction.BREAK_GLASS)
    counts = capped_counts(
        {
            "reads": stamped,
            "reads_unstamped": unstamped,
            "break_glass": stamped.filter(break_glass),
            "break_glass_unstamped": unstamped.filter(break_glass),
        }
    )
    return AccessCounts(
        reads=counts["reads"] + counts["reads_unstamped"],
        break_glass=counts["break_glass"] + counts["break_glass_unstamped"],
    )


@dataclass(frozen=True)
class AuthAlerts:
    by_kind: dict[str, int]
    latest: list[AuthEvent]  # newest first


def auth_alerts_since(
    *, audit_scope: AuditScope, since: dt.datetime, kinds: Iterable[str], rows: int
) -> AuthAlerts:
    """The sign-in events of ``kinds`` the auditor may read since ``since``: how many of each
    kind, and the latest ``rows``. Their scope is an OR (events of their authorities' staff,
    failed attempts naming one of them) that PostgreSQL answers only by reading every event of
    the period, 2.7 million at a million referrals in the national shape; so each side is a
    branch of a UNION ALL read through its own index (each member of staff's events, the
    attempts by the name typed), for the counts and for the latest rows' keys (issue 17).
    Three queries."""
    window = Q(occurred_at__gte=since, kind__in=list(kinds))
    sides = [
        AuthEvent.objects.filter(window, audit_scope.staff_auth_event_q()),
        AuthEvent.objects.filter(window, audit_scope.named_auth_event_q()),
    ]
    counted = [side.order_by().values_list("kind").annotate(n=Count("pk")) for side in sides]
    by_kind: dict[str, int] = {}
    for kind, n in counted[0].union(counted[1], all=True):
        by_kind[kind] = by_kind.get(kind, 0) + n
    newest_first = ("-occurred_at", "-id")
    keys = [side.order_by(*newest_first).values_list("id", "occurred_at")[:rows] for side in sides]
    shown = [
        row_id for row_id, _ in keys[0].union(keys[1], all=True).order_by(*newest_first)[:rows]
    ]
    latest = sorted(
        AuthEvent.objects.filter(pk__in=shown).select_related("user"),
        key=lambda event: (event.occurred_at, event.pk),
        reverse=True,
    )
    return AuthAlerts(by_kind=by_kind, latest=latest)


# --- Change history ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    name: str  # the field's code name, e.g. "address_line_1"
    label: str  # its human name, e.g. "Address line 1"
    shown: bool  # False: the values are personal details and stay hidden
    before: str
    after: str


@dataclass(frozen=True)
class ChangeRow:
    occurred_at: dt.datetime
    record_type: str
    record_label: str
    record_id: str
    kind: str  # Created / Changed / Deleted / the event label
    user_id: str | None
    user_label: str
    source_ip: str
    source: str  # the request path, or the task that made the change
    changes: list[FieldChange] = field(default_factory=list)
    event_id: int = 0

    @property
    def changed_fields(self) -> str:
        return ", ".join(c.name for c in self.changes)


_KINDS = {"insert": "Created", "update": "Changed", "delete": "Deleted"}
_EMPTY: tuple[Any, ...] = (None, "", [], {})


def change_history(*, scope: Scope) -> list[ChangeRow]:
    """Every recorded change to the records in ``scope``, newest first, values masked."""
    rows: list[ChangeRow] = []
    labels = {m._meta.label_lower: m for m in apps.get_models()}
    for record_type, ids in sorted(scope.items()):
        tracked = labels.get(record_type)
        if tracked is None or not ids:
            continue
        for event_model in event_models(tracks_model=tracked):
            rows.extend(_changes_for(event_model, tracked, ids))
    # One query for the names of everyone in the history.
    names = _user_labels({r.user_id for r in rows if r.user_id})
    rows = [_with_user(row, names) if row.user_id else row for row in rows]
    rows.sort(key=lambda r: (r.occurred_at, r.event_id), reverse=True)
    return rows


def change_history_filter(
    rows: Iterable[ChangeRow],
    *,
    user: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[ChangeRow]:
    """Filters applied after the diffs are worked out, so a diff always uses the true previous
    version even when that version falls outside the filter."""
    needle = user.strip().lower()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=UTC) if date_from else None
    end = (
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=UTC)
        if date_to
        else None
    )
    return [
        row
        for row in rows
        if (not needle or needle in row.user_label.lower())
        and (start is None or row.occurred_at >= start)
        and (end is None or row.occurred_at < end)
    ]


def _changes_for(
    event_model: type[models.Model], tracked: type[models.Model], ids: set[str]
) -> list[ChangeRow]:
    record_type = tracked._meta.label_lower
    tracked_fields = {f.attname: f for f in tracked._meta.concrete_fields}
    data_fields = [
        f.attname
        for f in event_model._meta.concrete_fields
        if not f.name.startswith("pgh_") and f.attname in tracked_fields
    ]
    events = (
        event_model._default_manager.filter(pgh_obj_id__in=sorted(ids))
        .order_by("pgh_obj_id", "pgh_id")
        .values(
            *data_fields,
            "pgh_id",
            "pgh_created_at",
            "pgh_label",
            "pgh_obj_id",
            "pgh_context__metadata",
        )
    )
    rows = []
    previous: dict[str, dict[str, Any]] = {}
    for event in events:
        obj_id = str(event["pgh_obj_id"])
        before = previous.get(obj_id)
        if before is None:
            names = [f for f in data_fields if f != "id" and event[f] not in _EMPTY]
        else:
            names = [f for f in data_fields if event[f] != before[f]]
        changes = [
            _field_change(
                record_type=record_type,
                name=name,
                label=str(tracked_fields[name].verbose_name).capitalize(),
                before=None if before is None else before[name],
                after=event[name],
                first=before is None,
            )
            for name in names
        ]
        context = event["pgh_context__metadata"] or {}
        rows.append(
            ChangeRow(
                occurred_at=event["pgh_created_at"],
                record_type=record_type,
                record_label=model_name_in_words(tracked),
                record_id=obj_id,
                kind=_KINDS.get(event["pgh_label"], event["pgh_label"]),
                user_id=context.get("user"),
                user_label=_context_label(context, bool(event["pgh_context__metadata"])),
                source_ip=context.get("ip") or "",
                source=context.get("source") or context.get("url") or "",
                changes=changes,
                event_id=event["pgh_id"],
            )
        )
        previous[obj_id] = event
    return rows


def _field_change(
    *, record_type: str, name: str, label: str, before: Any, after: Any, first: bool
) -> FieldChange:
    shown = value_is_shown(record_type=record_type, field=name)
    return FieldChange(
        name=name,
        label=label,
        shown=shown,
        before="" if first else (_display(before) if shown else HIDDEN),
        after=_display(after) if shown else HIDDEN,
    )


def _display(value: Any) -> str:
    if value in _EMPTY:
        return "(empty)"
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _context_label(context: dict[str, Any], recorded: bool) -> str:
    if not recorded:
        return "Not recorded"
    return "No signed-in user" if not context.get("user") else ""


def _user_labels(user_ids: set[str]) -> dict[str, str]:
    valid = set()
    for user_id in user_ids:
        try:
            valid.add(uuid.UUID(user_id))
        except ValueError:
            continue  # a context written by hand; shown as an unknown user
    if not valid:
        return {}
    users = User.objects.filter(pk__in=sorted(valid)).only("id", "email", "full_name")
    return {str(u.pk): f"{u.full_name} <{u.email}>" for u in users}


def _with_user(row: ChangeRow, names: dict[str, str]) -> ChangeRow:
    label = names.get(row.user_id or "", f"Unknown user {row.user_id}")
    return replace(row, user_label=label)
