"""The shape every report takes before it becomes a file or a page: titled tables of cells.

Builders (``returns``, ``kpi_report``, ``dashboards``) fill these from the metrics; suppression
marks cells hidden; the writers (``outputs``) and templates only format what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

COUNT, MONEY, PERCENT, TEXT, NUMBER = "count", "money", "percent", "text", "number"
# A whole number that counts no one (residents of a district): never hidden.
INTEGER = "integer"


def hidden_text(kind: str, threshold: int, *, secondary: bool = False) -> str:
    """A small count reads "<5". A count hidden only so that a total cannot reveal a small one,
    and a figure derived from a hidden count (a rate, a percentage), read "[c]" (confidential,
    as official statistics mark it): writing "<5" for them would be untrue."""
    return f"<{threshold}" if kind == COUNT and not secondary else "[c]"


@dataclass
class Cell:
    value: Any
    kind: str = COUNT
    suppressed: bool = False
    secondary: bool = False  # hidden to protect another cell, not for being small itself
    # What the cell measures, so that the same figure in another table or return, and the sum
    # of its quarters, can be recognised (``reporting.disclosure``): "family:category:split"
    # and the period's first and last day (ISO dates). Empty: related to nothing outside its
    # table.
    measure: str = ""
    start: str = ""
    end: str = ""

    def display(self, threshold: int = 5) -> str:
        if self.suppressed:
            return hidden_text(self.kind, threshold, secondary=self.secondary)
        if self.value is None:
            return "—"
        if self.kind == MONEY:
            amount = Decimal(self.value)
            return f"-£{-amount:,.2f}" if amount < 0 else f"£{amount:,.2f}"
        if self.kind == PERCENT:
            return f"{Decimal(self.value):.1f}%"
        if self.kind == NUMBER:  # shown to the precision it was rounded to
            return f"{Decimal(str(self.value)):,f}"
        if self.kind in (COUNT, INTEGER):
            return f"{int(self.value):,}"
        return str(self.value)

    @property
    def is_count(self) -> bool:
        return self.kind == COUNT and isinstance(self.value, int)

    def export_value(self, threshold: int = 5) -> Any:
        """What a spreadsheet cell holds: the number, or the "<5" text when hidden."""
        if self.suppressed:
            return hidden_text(self.kind, threshold, secondary=self.secondary)
        if self.value is None:
            return None
        if self.kind in (MONEY, PERCENT, NUMBER):
            return Decimal(str(self.value))
        return self.value


@dataclass
class Row:
    code: str
    label: str
    cells: list[Cell]
    is_total: bool = False
    # Cells derived from counts in the row (a rate per 10,000 people, a percentage): cell index
    # → the count indices it is derived from; hidden whenever any of those is hidden.
    derived: dict[int, tuple[int, ...]] = field(default_factory=dict)


@dataclass
class Table:
    code: str
    title: str
    columns: list[str]
    rows: list[Row]
    description: str = ""
    row_header: str = "Line"
    # Rows add up: each total row is the sum of the rows above it back to the previous total.
    additive_rows: bool = False
    # Column index → the column indices it is the sum of.
    total_columns: dict[int, list[int]] = field(default_factory=dict)

    def cell(self, row_code: str, column: int = 0) -> Cell:
        for row in self.rows:
            if row.code == row_code:
                return row.cells[column]
        raise KeyError(row_code)


@dataclass
class Chart:
    """A chart drawn as SVG (``reporting.charts``) with the table holding the same figures."""

    title: str
    svg: str
    table_code: str = ""


@dataclass
class ReportDocument:
    title: str
    subtitle: str
    parameters: list[tuple[str, str]]
    tables: list[Table]
    notes: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    suppressed: bool = False
    threshold: int = 5

    def table(self, code: str) -> Table:
        for table in self.tables:
            if table.code == code:
                return table
        raise KeyError(code)
