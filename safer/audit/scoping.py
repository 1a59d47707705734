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
- the record pages (who looked, who changed what) of a record of their authority, or of a record
  with no known authority (then only the rows above).

A record belongs to an authority through its foreign keys (``authority_paths``: a referral through
its case file, a GBO score through its goal's CYP case), so a new model is covered without a list
to keep up to date. A deleted record keeps its authority through its pghistory events.

Access-log rows name records as ``record_type``/``record_id`` strings, so a row is tested by its
key ``"<record_type>:<record_id>"`` against one UNION of the keys of the in-scope records: one
hashed sub-plan per query, then a cheap probe per log row (the log outgrows the case tables by
far; a correlated lookup per row measured five times slower). A single record's pages test that
record alone, on its primary key.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
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
        """A filter on ``AccessLog`` keeping the rows this auditor may read."""
        owned = _owned_models()
        in_scope = _union([keys for m in owned for keys in _keys(m, self.authorities)])
        known = _union([keys for m in owned for keys in _keys(m, None)])
        key = Concat("record_type", Value(":"), "record_id", output_field=CharField())
        return Q(In(key, in_scope)) | (
            Q(user_id__in=self.staff().values("pk")) & ~Q(In(key, known))
        )

    def auth_event_q(self) -> Q:
        """A filter on ``AuthEvent``: events of this auditor's authorities' staff."""
        staff = self.staff()
        named = staff.filter(email__iexact=OuterRef("attempted_username"))
        return Q(user_id__in=staff.values("pk")) | Q(Q(user__isnull=True), Exists(named))

    def may_see(self, ref: RecordRef) -> bool:
        """Whether the record's pages are open to this auditor (see the module docstring)."""

        def has(sources: list[tuple[QuerySet[Any], str]]) -> bool:
            return any(rows.filter(**{f: ref.record_id}).exists() for rows, f in sources)

        if has(_sources(ref.model, self.authorities)):
            return True
        return not has(_sources(ref.model, None))
