"""Writing a report document as XLSX (openpyxl), CSV and PDF (WeasyPrint).

The writers only format: every figure, and whether it is hidden, is already in the document.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reporting.tables import MONEY, PERCENT, ReportDocument, Table

HEADER_FILL = PatternFill("solid", fgColor="DDE4E8")
MONEY_FORMAT = '"£"#,##0.00'
PERCENT_FORMAT = '0.0"%"'


def sheet_name(title: str, taken: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    cleaned = " ".join(re.sub(r"[\[\]:*?/\\]", " ", title).split())
    base = cleaned[:31].rstrip() or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def write_xlsx(document: ReportDocument) -> bytes:
    workbook = Workbook()
    notes = workbook.active
    taken: set[str] = set()
    notes.title = sheet_name("Notes", taken)
    _notes_sheet(notes, document)
    for table in document.tables:
        sheet = workbook.create_sheet(sheet_name(table.title, taken))
        _table_sheet(sheet, table, document)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _notes_sheet(ws: Any, document: ReportDocument) -> None:
    ws.append([document.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([document.subtitle])
    ws.append([])
    ws.append(["Parameters"])
    for label, value in document.parameters:
        ws.append([label, value])
    ws.append(["Small numbers", _suppression_note(document)])
    ws.append([])
    ws.append(["Definitions"])
    for heading, text in document.notes:
        ws.append([heading, text])
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 110
    for row in ws.iter_rows(min_col=2, max_col=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _suppression_note(document: ReportDocument) -> str:
    if document.suppressed:
        return (
            f'Counts from 1 to {document.threshold - 1} are shown as "<{document.threshold}". '
            "Where a total would reveal a hidden count, another figure is hidden too and shown as "
            '"[c]", as is any rate or percentage worked out from a hidden count.'
        )
    return "Exact figures (internal report: not for publication)."


def _table_sheet(sheet: Any, table: Table, document: ReportDocument) -> None:
    sheet.append([table.title])
    sheet["A1"].font = Font(bold=True, size=13)
    if table.description:
        sheet.append([table.description])
    sheet.append([])
    sheet.append([table.row_header, *table.columns])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for row in table.rows:
        values = [c.export_value(document.threshold) for c in row.cells]
        sheet.append([row.label, *values])
        excel_row = sheet[sheet.max_row]
        if row.is_total:
            for cell in excel_row:
                cell.font = Font(bold=True)
        for index, source in enumerate(row.cells, start=2):
            target = excel_row[index - 1]
            if source.suppressed:
                target.alignment = Alignment(horizontal="right")
            elif source.kind == MONEY:
                target.number_format = MONEY_FORMAT
            elif source.kind == PERCENT:
                target.number_format = PERCENT_FORMAT
    sheet.column_dimensions["A"].width = 60
    for index in range(2, len(table.columns) + 2):
        sheet.column_dimensions[get_column_letter(index)].width = 18
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)


def write_csv(document: ReportDocument) -> bytes:
    """One long table: section, line, column, value (hidden counts as "<5"), for re-use."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "line_code", "line", "column", "value"])
    for table in document.tables:
        for row in table.rows:
            for column, cell in zip(table.columns, row.cells, strict=True):
                value = cell.export_value(document.threshold)
                if isinstance(value, Decimal):
                    value = f"{value:.2f}" if cell.kind == MONEY else f"{value}"
                writer.writerow(
                    [
                        table.title,
                        row.code,
                        row.label.strip(),
                        column,
                        "" if value is None else value,
                    ]
                )
    # A byte-order mark so spreadsheet programs read the pound sign and en dashes as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_pdf(document: ReportDocument) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "reporting/pdf/report.html",
        {
            "document": document,
            "tables": [
                {
                    "table": table,
                    "rows": [
                        {"row": row, "cells": [c.display(document.threshold) for c in row.cells]}
                        for row in table.rows
                    ],
                    "charts": [c for c in document.charts if c.table_code == table.code],
                }
                for table in document.tables
            ],
            "suppression_note": _suppression_note(document),
            "generated_at": timezone.localtime(),
        },
    )
    return bytes(HTML(string=html, base_url=None).write_pdf())
