"""A return as a record: its cells, their hash, and what changed between two versions.

A run keeps every cell of its document (``document_cells``) and, for each tracked source table,
the highest history-event id when it read the figures (``record_marks``). When the same return
(kind, period, authorities) is run again after a version was submitted, ``restatement_between``
lists each cell whose *published* value changed, old and new, and the records entered or
corrected since the submitted version's figures were read (pghistory events above its marks),
which is what can move a figure of a past period: a late entry, a corrected decision or date.

Pure reads: the services write what these return.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection

from reporting.tables import ReportDocument

# Source tables whose history can move a return's figures: (history model, the event's path to
# the record's authority, what a reader calls the record). Only events of the return's
# authorities are listed.
TRACKED_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("referrals.ReferralEvent", "case_file__authority_id", "Referral"),
    ("referrals.MaracReferralEvent", "referral__case_file__authority_id", "MARAC referral"),
    ("security_works.SecurityJobEvent", "authority_id", "Security job"),
    ("security_works.InstalledMeasureEvent", "job__authority_id", "Measure installed"),
    ("support.AdultSupportCaseEvent", "authority_id", "Adult support case"),
    ("support.CypCaseEvent", "authority_id", "CYP support case"),
    ("reporting.ContractSpendEvent", "contract__authority_id", "Contract spend entry"),
    ("referrals.AdviceContactEvent", "authority_id", "Advice-only contact"),
)


def document_cells(document: ReportDocument) -> list[dict[str, Any]]:
    """Every cell of the document, in order, with what a published copy shows."""
    from reporting.suppression import table_sums

    cells = []
    for table in document.tables:
        keys = {
            id(cell): f"{table.code}/{row.code}/{index}"
            for row in table.rows
            for index, cell in enumerate(row.cells)
        }
        sums: dict[int, list[list[str]]] = {}
        for parts, total in table_sums(table):
            sums.setdefault(id(total), []).append([keys[id(p)] for p in parts])
        for row in table.rows:
            for index, cell in enumerate(row.cells):
                cells.append(
                    {
                        "key": f"{table.code}/{row.code}/{index}",
                        "measure": cell.measure,
                        "start": cell.start,
                        "end": cell.end,
                        "sums": sums.get(id(cell), []),
                        "table": table.title,
                        "row": row.label.strip(),
                        "column": table.columns[index] if index < len(table.columns) else "",
                        "kind": cell.kind,
                        "value": None if cell.value is None else str(cell.value),
                        "shown": cell.display(document.threshold),
                        "hidden": cell.suppressed,
                    }
                )
    return cells


def cells_sha256(cells: list[dict[str, Any]]) -> str:
    """A stable hash of the cells (sorted keys, no spaces), recorded when a return is sent."""
    canonical = json.dumps(cells, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_marks() -> dict[str, int]:
    """The highest history-event id of each tracked source table now, in one query (each an
    index-only look-up of the primary key)."""
    labels = [label for label, *_ in TRACKED_SOURCES]
    tables = [connection.ops.quote_name(apps.get_model(label)._meta.db_table) for label in labels]
    # Table names from our own models, quoted; no input reaches this SQL.
    selects = ", ".join(f"(SELECT MAX(pgh_id) FROM {table})" for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selects}")
        row = cursor.fetchone()
    return {label: int(value or 0) for label, value in zip(labels, row, strict=True)}


@dataclass(frozen=True)
class CellChange:
    key: str
    table: str
    row: str
    column: str
    old: str
    new: str


def changed_cells(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[CellChange]:
    """Cells whose published value differs (a cell only in one version counts as changed)."""
    before = {c["key"]: c for c in old}
    after = {c["key"]: c for c in new}
    changes = []
    for key, cell in after.items():
        previous = before.get(key)
        old_shown = previous["shown"] if previous else "(not in the submitted version)"
        if old_shown != cell["shown"]:
            changes.append(
                CellChange(
                    key, cell["table"], cell["row"], cell["column"], old_shown, cell["shown"]
                )
            )
    for key, cell in before.items():
        if key not in after:
            changes.append(
                CellChange(
                    key,
                    cell["table"],
                    cell["row"],
                    cell["column"],
                    cell["shown"],
                    "(not in this version)",
                )
            )
    return changes


def records_since(
    *, marks: dict[str, int], authority_ids: list[Any], limit: int = 200
) -> list[dict[str, Any]]:
    """Records of the authorities entered or corrected after ``marks`` (one line per record:
    entered late, or corrected, with when), newest first. Only the record's kind, its reference
    for staff who may see it, and dates: never a person's details."""
    found: list[dict[str, Any]] = []
    for label, authority_path, noun in TRACKED_SOURCES:
        model = apps.get_model(label)
        events = (
            model.objects.filter(pgh_id__gt=marks.get(label, 0))
            .filter(**{f"pgh_obj__{authority_path}__in": authority_ids})
            .order_by("pgh_obj_id", "pgh_id")
        )
        first_by_record: dict[Any, Any] = {}
        for event in events:
            first_by_record.setdefault(event.pgh_obj_id, event)
        for record_id, event in first_by_record.items():
            entered = event.pgh_label == "insert"
            found.append(
                {
                    "kind": noun,
                    "record_id": str(record_id),
                    "reference": getattr(event, "reference", "") or "",
                    "change": "Entered late" if entered else "Corrected",
                    "at": event.pgh_created_at.isoformat(),
                }
            )
    found.sort(key=lambda r: r["at"], reverse=True)
    return found[:limit]


def restatement_between(
    *,
    submitted_cells: list[dict[str, Any]],
    submitted_marks: dict[str, int],
    cells: list[dict[str, Any]],
    authority_ids: list[Any],
) -> dict[str, Any]:
    """What a new version restates: its changed cells and the records behind the change."""
    changes = changed_cells(submitted_cells, cells)
    return {
        "changes": [change.__dict__ for change in changes],
        "records": records_since(marks=submitted_marks, authority_ids=authority_ids)
        if changes
        else [],
    }
