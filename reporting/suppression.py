"""Small-number suppression for figures that leave the council (domain.md §8).

Primary: a count from 1 to ``threshold - 1`` is shown as "<threshold" (configurable; 5 by
default, so 1-4 become "<5"). Zero is shown: it identifies no one.

Secondary: wherever cells add up to a total shown in the same table (a column of lines closed by
a total line, or columns closed by a total column), a single hidden cell could be recovered by
subtraction. So while any such sum has exactly one hidden cell, the smallest other non-zero
count in it is hidden too (or, failing that, the total), shown as "[c]" since it is not itself
small. This repeats until no sum has a lone hidden cell, since each new hiding may expose
another sum.

Limits: sums across tables (the same total in two sections) are consistent, because a total
itself is hidden only when it is small; differences between *different* measures (received
minus accepted) are not tracked, so templates keep a breakdown and its total in one table.
"""

from __future__ import annotations

from reporting.tables import Cell, ReportDocument, Table


def suppress_document(document: ReportDocument, *, threshold: int) -> ReportDocument:
    for table in document.tables:
        suppress_table(table, threshold=threshold)
    document.suppressed = True
    document.threshold = threshold
    return document


def suppress_table(table: Table, *, threshold: int) -> Table:
    for row in table.rows:
        for cell in row.cells:
            if cell.is_count and 0 < cell.value < threshold:
                cell.suppressed = True
    sums = _sums(table)
    changed = True
    while changed:
        changed = False
        for parts, total in sums:
            hidden = [c for c in [*parts, total] if c.suppressed]
            if len(hidden) != 1:
                continue
            candidates = [c for c in parts if not c.suppressed and c.value]
            if candidates:
                chosen = min(candidates, key=lambda c: c.value)
            elif not total.suppressed:
                chosen = total
            else:
                continue  # the total alone is hidden and every part is zero: nothing to find
            chosen.suppressed = chosen.secondary = True
            changed = True
    for row in table.rows:
        for index, sources in row.derived.items():
            if any(row.cells[source].suppressed for source in sources):
                row.cells[index].suppressed = True
    return table


def _sums(table: Table) -> list[tuple[list[Cell], Cell]]:
    """Every (parts, total) relation in the table, between count cells only."""
    sums: list[tuple[list[Cell], Cell]] = []
    if table.additive_rows:
        group: list[int] = []
        for index, row in enumerate(table.rows):
            if not row.is_total:
                group.append(index)
                continue
            for column, total in enumerate(row.cells):
                parts = [table.rows[i].cells[column] for i in group]
                if total.is_count and all(p.is_count for p in parts):
                    sums.append((parts, total))
            group = []
    for total_column, part_columns in table.total_columns.items():
        for row in table.rows:
            total = row.cells[total_column]
            parts = [row.cells[i] for i in part_columns]
            if total.is_count and all(p.is_count for p in parts):
                sums.append((parts, total))
    return sums
