"""The financial year rolls over by itself: each return template exists for the current year and
the next without an administrator's action.

A missing year's template is derived from the latest earlier one of the same kind: its sections,
lines and category mappings are copied, and every mention of the source year in a title, column
label, section title, description or note is rewritten for the new year (a copied 2026-27 return
must not be headed "2025-26"). A derived template is active at once, so returns can be run, but it
is flagged until an administrator confirms it against the year's guidance (``needs_check``); the
admin and the reports page say so.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.db import transaction
from django.utils import timezone

from reporting.models import CategoryMapping, ReturnLine, ReturnSection, ReturnTemplate
from reporting.periods import financial_year_start
from safer.accounts.models import User

logger = logging.getLogger(__name__)

FINANCIAL_YEAR_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


def financial_year_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def financial_year_start_of(label: str) -> int:
    match = FINANCIAL_YEAR_LABEL.match(label)
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ValueError(f"{label!r} is not a financial year such as 2026-27.")
    return int(match[1])


def year_mentions_shifted(text: str, *, from_year: int, to_year: int) -> str:
    """Rewrite the ways a return names its financial year: "2025-26", "2025/26", "2025 to 2026",
    "2025-2026" and "31 March 2026" (the year's end). Other years are left alone."""
    if not text:
        return text
    replacements = {
        financial_year_label(from_year): financial_year_label(to_year),
        f"{from_year}/{(from_year + 1) % 100:02d}": f"{to_year}/{(to_year + 1) % 100:02d}",
        f"{from_year} to {from_year + 1}": f"{to_year} to {to_year + 1}",
        f"{from_year}-{from_year + 1}": f"{to_year}-{to_year + 1}",
        f"1 April {from_year}": f"1 April {to_year}",
        f"31 March {from_year + 1}": f"31 March {to_year + 1}",
    }
    pattern = re.compile(
        r"(?<![\d])("
        + "|".join(re.escape(k) for k in sorted(replacements, key=len, reverse=True))
        + r")(?![\d])"
    )
    return pattern.sub(lambda match: replacements[match[1]], text)


def _shift_columns(columns: list[dict[str, object]], *, from_year: int, to_year: int) -> list:
    return [
        {
            **column,
            "label": year_mentions_shifted(
                str(column.get("label", "")), from_year=from_year, to_year=to_year
            ),
        }
        for column in columns
    ]


@transaction.atomic
def return_template_derive(
    *, source: ReturnTemplate, financial_year: str, active: bool = True
) -> ReturnTemplate:
    """A copy of ``source`` for ``financial_year`` with every mention of the source's year moved
    on. Flagged as derived until an administrator checks it."""
    from_year = financial_year_start_of(source.financial_year)
    to_year = financial_year_start_of(financial_year)

    def shifted(text: str) -> str:
        return year_mentions_shifted(text, from_year=from_year, to_year=to_year)

    template = ReturnTemplate.objects.create(
        kind=source.kind,
        financial_year=financial_year,
        title=shifted(source.title),
        notes=shifted(source.notes),
        is_active=active,
        derived_from=source,
        derived_at=timezone.now(),
    )
    for section in source.sections.prefetch_related("lines"):
        copy = ReturnSection.objects.create(
            template=template,
            code=section.code,
            title=shifted(section.title),
            kind=section.kind,
            description=shifted(section.description),
            columns=_shift_columns(section.columns, from_year=from_year, to_year=to_year),
            display_order=section.display_order,
        )
        ReturnLine.objects.bulk_create(
            ReturnLine(
                section=copy,
                code=line.code,
                label=shifted(line.label),
                metric=line.metric,
                category=line.category,
                is_total=line.is_total,
                display_order=line.display_order,
            )
            for line in section.lines.all()
        )
    CategoryMapping.objects.bulk_create(
        CategoryMapping(
            template=template,
            dimension=mapping.dimension,
            source_code=mapping.source_code,
            target_code=mapping.target_code,
        )
        for mapping in source.mappings.all()
    )
    return template


def _latest_before(kind: str, financial_year: str) -> ReturnTemplate | None:
    """The template a missing year is derived from: the latest earlier year's, preferring an
    active one (an inactive copy may be an administrator's unfinished draft)."""
    earlier = ReturnTemplate.objects.filter(kind=kind, financial_year__lt=financial_year)
    return (
        earlier.filter(is_active=True).order_by("-financial_year").first()
        or earlier.order_by("-financial_year").first()
    )


@transaction.atomic
def return_templates_roll_forward(*, today: dt.date | None = None) -> list[ReturnTemplate]:
    """Make sure every kind of return has a template for the current financial year and the next.

    Run daily by beat, by ``seed_demo`` and before a return is requested, so a fresh install and
    1 April need nobody. Idempotent: a year that has a template (active or not) is left as it is —
    an administrator's inactive draft is theirs to finish. Years are derived in order, so a gap of
    several years is crossed one year at a time.
    """
    today = today or timezone.localdate()
    current = financial_year_start(today)
    # Serialise concurrent roll-forwards (beat, a request, seed_demo) on the template table.
    list(ReturnTemplate.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    made: list[ReturnTemplate] = []
    kinds = ReturnTemplate.objects.values_list("kind", flat=True).distinct().order_by("kind")
    for kind in list(kinds):
        latest = ReturnTemplate.objects.filter(kind=kind).order_by("-financial_year").first()
        assert latest is not None
        # Past years are history: only the current year and the next are derived.
        first = max(financial_year_start_of(latest.financial_year) + 1, current)
        for year in range(first, current + 2):
            label = financial_year_label(year)
            source = _latest_before(kind, label)
            assert source is not None  # ``latest`` at least
            made.append(return_template_derive(source=source, financial_year=label))
            logger.info(
                "Return template derived",
                extra={"kind": kind, "financial_year": label, "from": source.financial_year},
            )
    return made


@transaction.atomic
def return_template_mark_checked(*, template: ReturnTemplate, checked_by: User) -> ReturnTemplate:
    """An administrator confirms a template against the year's guidance."""
    locked = ReturnTemplate.objects.select_for_update().get(pk=template.pk)
    if locked.checked_at is None:
        locked.checked_at = timezone.now()
        locked.checked_by = checked_by
        locked.save(update_fields=["checked_at", "checked_by"])
    return locked
