"""Which part of the audit trail an auditor may read: what relates to their own authorities.

An auditor works for a commissioning authority (their scope is ``user_authorities``, as for any
member of staff). They read:

- access-log rows about a record of one of their authorities, whoever read it (a provider's
  worker reading a Kent case is exactly what Kent's auditor must see);
- access-log rows about something that has no authority (a list, a user account, reference data)
  or whose authority is no longer known (deleted, with no history), when the *reader* belongs to
  one of their authorities;
- sign-in events of users who belong to one of their authorities (``authority_staff``), and failed
  attempts naming such a user's email address;
- the record pages (who looked, who changed what) of a record of their authority; of a record
  with no known authority only when they may read an access-log row about it (then only the
  rows above); of shared reference data while it exists. Anything else, including an id that
  names nothing, is "not found" (``AuditScope.may_see``), so the pages tell no one whether
  another authority's record exists.

A record belongs to an authority through its foreign keys (``authority_paths``: a referral through
its case file, a GBO score through its goal's CYP case), so a new model is covered without a list
to keep up to date. A deleted record keeps its authority through its pghistory events.

Each access-log row is stamped when it is written with the authority of the record read
(``AccessLog.authority``, from ``record_authority_id``: the same ``authority_paths``, followed on
the instance already loaded, or one read by primary key). A stamped row is in scope when its
authority is one of the auditor's: a plain indexed filter whose cost does not depend on the case
tables. The stamp is the authority *at the time of the read*; a record that later moves to
another authority leaves its earlier reads with the first.

Unstamped rows fall back to the rules above, tested on the records themselves: rows about
something with no single authority (a list, an account, reference data serving several
authorities, a match between two authorities' referrals), and rows written before the stamp
existed (never backfilled: the table is append-only). Such a row names its record only as
``record_type``/``record_id`` strings, so it is tested by its key
``"<record_type>:<record_id>"`` against one UNION of the keys of the in-scope records: one hashed
sub-plan per query, built only when a row needs it, then a cheap probe per row (a correlated
lookup per row measured five times slower). A single record's pages test that record alone, on
its primary key.

Sign-in events have no stamp: an event is about a user, and a user may serve several
authorities. They are read per user instead (``auth_event_q``): the auditor's authorities'
staff are a few dozen users, each with an index range of their own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Upper
from django.db.models.lookups import In
from pghistory.core import event_models

from safer.access.scoping import authority_staff, user_authorities
from safer.accounts.models import User
from safer.audit.selectors import RecordRef, auditable_models
from safer.organisations.models import CommissioningAuthority

_MAX_DEPTH = 4
_CASE_FILE = "casefile.casefile"
# Foreign keys that say who did something, or how permissions are stored, not whose record it is.
_NOT_OWNERSHIP = ("accounts.user", "auth.permission", "auth.group", "contenttypes.contenttype")


@cache
def authority_paths(model: type[models.Model]) -> tuple[str, ...]:
    """The lookups from ``model`` to the commissioning authority its records belong to.

    In order of preference: the model's own ``authority``; else through the case file (a risk
    assessment belongs to its referral's case, not to the policy it was scored under); else the
    shortest. Several when a row hangs off one of several parents (a contact attempt belongs to
    an adult case *or* a CYP case). ``("pk",)`` for the authority itself; ``()`` when none.
    """
    if model is CommissioningAuthority:
        return ("pk",)
    found: list[tuple[str, bool]] = []  # (path, goes through the case file)
    queue: deque[tuple[type[models.Model], str, int, bool]] = deque([(model, "", 0, False)])
    while queue:
        current, prefix, depth, via_case = queue.popleft()
        for field in [*current._meta.concrete_fields, *current._meta.many_to_many]:
            target = field.related_model
            if not isinstance(target, type) or target._meta.label_lower in _NOT_OWNERSHIP:
                continue
            path = f"{prefix}{field.name}"
            if target is CommissioningAuthority:
                found.append((path, via_case))
            elif not field.many_to_many and depth + 1 < _MAX_DEPTH and target is not current:
                is_case = target._meta.label_lower == _CASE_FILE
                queue.append((target, f"{path}__", depth + 1, via_case or is_case))
    own = [p for p, _ in found if "__" not in p]
    through_case = [p for p, via in found if via]
    candidates = own or through_case or [p for p, _ in found]
    if not candidates:
        return ()
    shortest = min(p.count("__") for p in candidates)
    return tuple(sorted({p for p in candidates if p.count("__") == shortest}))


def _in(paths: tuple[str, ...], authorities: QuerySet[CommissioningAuthority] | None) -> Q:
    """Rows whose authority is in ``authorities`` (any authority when None)."""
    condition = Q(pk__in=[])
    for path in paths:
        if authorities is None:
            condition |= Q(**{f"{path}__isnull": False})
        else:
            condition |= Q(**{f"{path}__in": authorities.values("pk")})
    return condition


def _sources(
    model: type[models.Model], authorities: QuerySet[CommissioningAuthority] | None
) -> list[tuple[QuerySet[Any], str]]:
    """Where the model's records of ``authorities`` (any, when None) are found, with the id
    field: the live table, and its pghistory event tables for records since deleted."""
    if model is User:
        users = User.objects.all() if authorities is None else authority_staff(authorities)
        return [(users, "pk")]
    paths = authority_paths(model)
    if not paths:
        return []
    found = [(model._default_manager.filter(_in(paths, authorities)), "pk")]
    for event_model in event_models(tracks_model=model):
        usable = tuple(p for p in paths if _has_field(event_model, p.split("__")[0]))
        if usable:
            found.append(
                (event_model._default_manager.filter(_in(usable, authorities)), "pgh_obj_id")
            )
    return found


def _has_field(model: type[models.Model], name: str) -> bool:
    if name == "pk":
        return True
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _keys(
    model: type[models.Model], authorities: QuerySet[CommissioningAuthority] | None
) -> list[QuerySet[Any]]:
    """``"<label>:<id>"`` of the model's records of ``authorities`` (any, when None)."""
    label = Value(f"{model._meta.label_lower}:")
    return [
        rows.order_by()
        .annotate(audit_key=Concat(label, Cast(id_field, CharField()), output_field=CharField()))
        .values_list("audit_key", flat=True)
        for rows, id_field in _sources(model, authorities)
    ]


def _union(querysets: list[QuerySet[Any]]) -> QuerySet[Any]:
    first, *rest = querysets
    return first.union(*rest, all=True) if rest else first


@cache
def _owned_models() -> tuple[type[models.Model], ...]:
    return tuple(m for m in auditable_models() if m is User or authority_paths(m))


# --- The stamp written on each access-log row ----------------------------------------------------

_UNKNOWN = object()  # a path that cannot be followed without a query


def record_authority_id(record: models.Model) -> Any:
    """The authority ``record`` belongs to, for stamping its access-log row; None when it has no
    single one (a user account, reference data that serves several authorities, a match
    between two authorities' referrals).

    Follows ``authority_paths``, so the stamp and the fallback rules in ``access_log_q`` agree.
    No query when the path's foreign keys are on the record or already loaded with it
    (``select_related``); one small query (a read by primary key) otherwise.
    """
    return record_authority_ids([record]).get(_ref_key(record))


def record_authority_ids(records: Iterable[models.Model]) -> dict[tuple[str, str], Any]:
    """``record_authority_id`` for many records: one query per model at most.

    Keyed by ``(label, str(pk))``; records with no single authority are left out.
    """
    found: dict[tuple[str, str], Any] = {}
    pending: dict[type[models.Model], dict[Any, list[Any]]] = {}
    for record in records:
        paths = _stamp_paths(type(record))
        if not paths or record.pk is None:
            continue
        values = [_follow(record, path) for path in paths]
        if any(v is _UNKNOWN for v in values):
            pending.setdefault(type(record), {})[record.pk] = values
        else:
            _keep(found, _ref_key(record), values)
    for model, by_pk in pending.items():
        paths = _stamp_paths(model)
        rows = model._default_manager.filter(pk__in=list(by_pk)).values_list("pk", *paths)
        label = model._meta.label_lower
        for pk, *values in rows:
            _keep(found, (label, str(pk)), values)
    return found


@cache
def _stamp_paths(model: type[models.Model]) -> tuple[str, ...]:
    """The model's authority paths when each gives one authority (no many-to-many step)."""
    if model is User:
        return ()  # staff of several authorities: ``access_log_q`` decides by the reader
    paths = authority_paths(model)
    for path in paths:
        current = model
        for name in path.split("__"):
            if name == "pk":
                break
            field = current._meta.get_field(name)
            if field.many_to_many or not isinstance(field.related_model, type):
                return ()
            current = field.related_model
    return paths


def _follow(record: models.Model, path: str) -> Any:
    """The authority id at the end of ``path``, None if a link is empty, or ``_UNKNOWN``."""
    if path == "pk":
        return record.pk
    current: models.Model = record
    *links, last = path.split("__")
    for name in links:
        field = current._meta.get_field(name)
        assert isinstance(field, models.ForeignKey)  # one-to-one included
        if field.attname in current.get_deferred_fields():
            return _UNKNOWN
        if getattr(current, field.attname) is None:
            return None
        if not field.is_cached(current):
            return _UNKNOWN
        loaded = field.get_cached_value(current)
        if loaded is None:
            return None
        current = loaded
    field = current._meta.get_field(last)
    assert isinstance(field, models.ForeignKey)
    if field.attname in current.get_deferred_fields():
        return _UNKNOWN
    return getattr(current, field.attname)


def _ref_key(record: models.Model) -> tuple[str, str]:
    return record._meta.label_lower, str(record.pk)


def _keep(found: dict[tuple[str, str], Any], key: tuple[str, str], values: list[Any]) -> None:
    # Several paths that disagree (a match between two authorities' referrals): no single
    # authority, so the row is left to the fallback rules, which show it to both.
    distinct = {v for v in values if v is not None}
    if len(distinct) == 1:
        found[key] = distinct.pop()


# --- What an auditor may read ---------------------------------------------------------------------


@dataclass(frozen=True)
class AuditScope:
    """What one auditor may read. Lazy: every test is a subquery of the page's own query."""

    authorities: QuerySet[CommissioningAuthority]

    @classmethod
    def for_user(cls, user: User | AnonymousUser) -> AuditScope:
        return cls(authorities=user_authorities(user))

    def staff(self) -> QuerySet[User]:
        return authority_staff(self.authorities)

    def access_log_q(self) -> Q:
        """A filter on ``AccessLog`` keeping the rows this auditor may read: the stamped rows of
        their authorities, or the unstamped rows ``unstamped_access_log_q`` lets them read.

        An OR over the whole table: fine for one record's trail or an export, which are
        narrowed by other filters. The whole log's page reads the two sides apart
        (``access_log_page``), each through its own index.
        """
        return Q(authority_id__in=self.authorities.values("pk")) | (
            Q(authority__isnull=True) & self.unstamped_access_log_q()
        )

    def unstamped_access_log_q(self) -> Q:
        """The unstamped rows (no single authority, or written before the stamp) this auditor
        may read. The key tests are built only for the record types that have unstamped rows
        (one small query finds them): usually none or a few, so the page's SQL stays small and
        quick to plan instead of a UNION over every auditable table. Combine with
        ``authority__isnull=True``.
        """
        from safer.audit.models import AccessLog

        owned = {m._meta.label_lower: m for m in _owned_models()}
        unstamped_types = set(
            AccessLog.objects.filter(authority__isnull=True, record_type__in=list(owned))
            .order_by()
            .values_list("record_type", flat=True)
            .distinct()
        )
        readers_of_theirs = Q(user_id__in=self.staff().values("pk"))
        unstamped = readers_of_theirs & ~Q(record_type__in=list(owned))
        legacy = [owned[label] for label in sorted(unstamped_types)]
        if legacy:
            in_scope = _union([keys for m in legacy for keys in _keys(m, self.authorities)])
            known = _union([keys for m in legacy for keys in _keys(m, None)])
            key = Concat("record_type", Value(":"), "record_id", output_field=CharField())
            of_legacy_model = Q(record_type__in=sorted(unstamped_types))
            unstamped |= (of_legacy_model & Q(In(key, in_scope))) | (
                readers_of_theirs & of_legacy_model & ~Q(In(key, known))
            )
        return unstamped

    def auth_event_q(self) -> Q:
        """A filter on ``AuthEvent``: events of this auditor's authorities' staff
        (``staff_auth_event_q``), and failed attempts naming one of them by email, in any case
        (``named_auth_event_q``). An OR over the whole table, fine for a page narrowed by other
        filters; the home's alerts read the two sides apart, each through its own index."""
        return self.staff_auth_event_q() | self.named_auth_event_q()

    def staff_auth_event_q(self) -> Q:
        """Events of this auditor's authorities' staff: ``user_id IN (…)``, which PostgreSQL
        answers as a join, one range of ``auth_event_user_time_idx`` per member of staff."""
        return Q(user_id__in=self.staff().values("pk"))

    def named_auth_event_q(self) -> Q:
        """Failed attempts with no user whose typed username is the email of one of this
        auditor's authorities' staff (compared upper-cased, as ``iexact``; served by
        ``auth_event_attempt_time_idx``)."""
        emails = self.staff().annotate(upper_email=Upper("email")).values("upper_email")
        return Q(user__isnull=True) & Q(In(Upper("attempted_username"), emails))

    def may_see(self, ref: RecordRef) -> bool:
        """Whether the record's pages are open to this auditor (see the module docstring).

        Decided only by what this auditor may read, so a record that never existed and another
        authority's record get the same answer (no existence oracle):

        - a record of one of their authorities, live or in its history: yes;
        - a record of another authority: no;
        - a record whose authority is not known (deleted with no history, never linked to an
          authority, or an id that names nothing): only when the access log holds a row about
          it that they may read; otherwise no, as for an id that names nothing;
        - a record of a type that belongs to no authority (reference data): yes while it
          exists (or its history does), the same for every auditor.
        """

        def has(sources: list[tuple[QuerySet[Any], str]]) -> bool:
            return any(rows.filter(**{f: ref.record_id}).exists() for rows, f in sources)

        if has(_sources(ref.model, self.authorities)):
            return True
        owned = ref.model is User or bool(authority_paths(ref.model))
        if owned and has(_sources(ref.model, None)):
            return False
        if not owned and (ref.instance is not None or self._has_history(ref)):
            return True
        return self._has_readable_access_rows(ref)

    @staticmethod
    def _has_history(ref: RecordRef) -> bool:
        return any(
            event_model._default_manager.filter(pgh_obj_id=ref.record_id).exists()
            for event_model in event_models(tracks_model=ref.model)
        )

    def _has_readable_access_rows(self, ref: RecordRef) -> bool:
        from safer.audit.models import AccessLog

        rows = AccessLog.objects.filter(record_type=ref.record_type, record_id=ref.record_id)
        return rows.filter(self.access_log_q()).exists()
