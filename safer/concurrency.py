"""No lost updates: optimistic locking for the records people edit.

An editable record carries a ``version`` (``Versioned``). An edit form carries the version it was
read at as a hidden field; the service that saves the edit claims the next version with one
compare-and-set (``UPDATE … SET version = version + 1 WHERE id = … AND version = <read>``) in the
same transaction as the change. When someone else saved first, no row matches, nothing is
written, and ``EditConflict`` says who changed it and when. The page then keeps what the user
typed, shows what is stored now, and carries the new version: saving again is a deliberate
choice, never a silent overwrite (see docs/decisions/0012-optimistic-locking.md).

The version counts edits of the record's own fields (a plan, a status, notes, answers). Adding a
session or a note to a case does not change it, so two workers recording sessions on one case
never conflict; state transitions keep their own check under a row lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.db import models
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone

from safer.templatetags.safer_format import govuk_date, govuk_datetime


class Versioned(models.Model):
    """A record edited through forms: its version and who saved the current one."""

    version = models.PositiveIntegerField(
        default=1,
        db_default=1,
        editable=False,
        help_text="Goes up by one with every saved edit (optimistic locking).",
    )
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True


class EditConflict(Exception):
    """Someone else saved the record after the editor read it. Nothing was written."""

    def __init__(self, record: Versioned) -> None:
        self.record = record
        self.version = record.version
        self.edited_at = record.edited_at
        editor = record.edited_by
        self.edited_by = (editor.full_name or editor.email) if editor is not None else "someone"
        when = f" at {govuk_datetime(self.edited_at)}" if self.edited_at else ""
        self.message = (
            f"This record was changed by {self.edited_by}{when} while you were editing. "
            "Your changes have not been saved. Check what is stored now, below, then save "
            "again to replace it with what you typed."
        )
        super().__init__(self.message)


def version_claim(record: Versioned, *, expected: int | None, by: Any) -> None:
    """Claim the record's next version, or raise ``EditConflict`` when ``expected`` is stale.

    One conditional UPDATE, so two editors racing can never both win, with or without a row lock
    held. ``expected=None`` (a caller with no version to offer: a task, the intake) always
    claims. The in-memory record gets the new version, so a later ``save()`` cannot write an old
    one back.
    """
    model = type(record)
    rows = model._default_manager.filter(pk=record.pk)
    if expected is not None:
        rows = rows.filter(version=expected)
    now = timezone.now()
    if not rows.update(version=F("version") + 1, edited_at=now, edited_by=by):
        raise EditConflict(model._default_manager.select_related("edited_by").get(pk=record.pk))
    record.refresh_from_db(fields=["version", "edited_at", "edited_by"])


# --- Forms and pages ----------------------------------------------------------------------------


class VersionField(forms.IntegerField):
    """The version an edit form was read at (hidden). Empty means "no check" (an old page)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)


def form_version_set(form: forms.BaseForm, version: int) -> None:
    """Put ``version`` in the form's hidden field: as its initial value on a fresh form, or in
    the submitted data after a conflict, so the next save is against what is stored now."""
    if form.is_bound:
        data = QueryDict(mutable=True)
        data.update(form.data)  # a QueryDict keeps every value of a multi-valued field
        data[form.add_prefix("version")] = str(version)
        form.data = data
    else:
        form.initial["version"] = version


@dataclass(frozen=True)
class StoredValue:
    label: str
    value: str


def _shown(field: forms.Field, value: Any) -> str:
    if value is None or value == "":
        return "Not given"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    choices = getattr(field, "choices", None)
    if choices:
        labels = {str(k): str(v) for k, v in choices if k != ""}
        if str(value) in labels:
            return labels[str(value)]
    if isinstance(value, dt.datetime):
        return govuk_datetime(value)
    if isinstance(value, dt.date):
        return govuk_date(value)
    return str(value)


def stored_values(form: forms.BaseForm, values: Mapping[str, Any]) -> list[StoredValue]:
    """What is stored now, in the form's own words: each visible field the record holds, by its
    label, with choices by their labels (never raw codes)."""
    shown = []
    for name, field in form.fields.items():
        if name in values and not field.widget.is_hidden:
            shown.append(
                StoredValue(label=str(field.label or name), value=_shown(field, values[name]))
            )
    return shown


def conflict_context(
    form: forms.BaseForm, conflict: EditConflict, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Keep the user's input, add the conflict's message to it, move the hidden version on, and
    give the template (``includes/edit_conflict.html``) what is stored now."""
    form_version_set(form, conflict.version)
    form.add_error(None, conflict.message)
    return {"conflict": conflict, "conflict_values": stored_values(form, values)}
