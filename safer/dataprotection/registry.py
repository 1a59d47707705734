"""What the apps above the core tell data protection about their records.

The core may not import ``referrals``, ``security_works`` or ``support``, yet retention must erase
their records and a subject access export must include them. So each app registers, from its
``AppConfig.ready()`` (as ``safer.search`` and ``safer.exit`` do):

- **anchors**: for a case file, the dates its retention periods run from (a declined referral's
  decision, a support case's closure, a child's date of birth), or ``None`` for a record still
  open, which keeps the whole case file;
- **erasable models**: which of its models hang off a case file and which of their fields are
  personal (blanked by retention), or whose rows (and files) are deleted outright;
- **subject access sections**: what it holds about a person, as labelled items, with third-party
  data marked for redaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from safer.casefile.models import CaseFile, Person


@dataclass(frozen=True)
class Anchor:
    """A date a retention period runs from, for one kind of record (``RecordType`` value).
    ``on=None`` means the record is still open: nothing on the case file is due."""

    record_type: str
    on: dt.date | None


AnchorSource = Callable[["CaseFile"], Sequence[Anchor]]


@dataclass(frozen=True)
class ErasableModel:
    """A model with personal data hanging off a case file.

    ``label`` is what a run's counts call it ("Referrals"). ``case_file_path`` is the lookup from
    the model to the case file ("case_file", "job__case_file"). ``blank`` lists the personal
    fields set empty (text to "", nullable to NULL, JSON to its default) so the row (and the
    figures built from it) stays; with ``delete`` the rows are deleted instead, and the files in
    ``file_fields`` removed from storage first. The change history of every row touched is erased.
    """

    label: str
    model: type[models.Model]
    case_file_path: str
    blank: tuple[str, ...] = ()
    # Fields set from an expression instead (the postcode keeps its outward code).
    replace: tuple[tuple[str, Any], ...] = ()
    delete: bool = False
    file_fields: tuple[str, ...] = ()
    order: int = 100  # lower runs first (children before parents when deleting)


@dataclass
class SarItem:
    """One fact in a subject access export. ``redact`` marks third-party data (another household
    member, the alleged perpetrator, a note that may be about others) with the reason."""

    label: str
    value: str
    redact: bool = False
    redaction_reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "redact": self.redact,
            "redaction_reason": self.redaction_reason,
        }


@dataclass
class SarGroup:
    """A record within a section (one referral, one job), its items in order."""

    title: str
    items: list[SarItem] = field(default_factory=list)

    def add(self, label: str, value: object, *, redact: str = "") -> None:
        self.items.append(
            SarItem(
                label=label,
                value=_text(value),
                redact=bool(redact),
                redaction_reason=redact,
            )
        )


def _text(value: object) -> str:
    if value is None or value == "":
        return "Not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return value.strftime("%d %B %Y %H:%M UTC")
    if isinstance(value, dt.date):
        return value.strftime("%d %B %Y")
    return str(value)


@dataclass(frozen=True)
class SarSection:
    """A section of the export: ``build`` returns the records it holds about ``person`` on
    ``case_file``. ``order`` sorts the sections."""

    title: str
    build: Callable[[CaseFile, Person], list[SarGroup]]
    order: int = 100


_anchor_sources: list[AnchorSource] = []
_erasable: dict[str, ErasableModel] = {}
_sections: dict[str, SarSection] = {}


def retention_anchor_source_register(source: AnchorSource) -> None:
    if source not in _anchor_sources:
        _anchor_sources.append(source)


def retention_erasable_register(*erasable: ErasableModel) -> None:
    for item in erasable:
        _erasable[f"{item.model._meta.label_lower}:{item.case_file_path}"] = item


def subject_access_section_register(section: SarSection) -> None:
    _sections[section.title] = section


def anchor_sources() -> list[AnchorSource]:
    return list(_anchor_sources)


def erasable_models() -> list[ErasableModel]:
    return sorted(_erasable.values(), key=lambda e: (e.order, e.label))


def sar_sections() -> list[SarSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.title))
