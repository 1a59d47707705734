"""Small-number suppression for figures that leave the council (domain.md §8).

Primary: a count from 1 to ``threshold - 1`` is shown as "<threshold" (configurable; 5 by
default, so 1-4 become "<5"). Zero is shown: it identifies no one.

Secondary: wherever cells add up to a total shown in the same table (a column of lines closed by
a total line, or columns closed by a total column), a hidden cell could be recovered by
subtraction. A reader knows a hidden small count is between 1 and ``threshold - 1`` and a
secondary one at least ``threshold``; so a sum discloses a hidden cell when those bounds and the
visible remainder leave it one possible value — a lone hidden cell, but also five "<5" cells
whose remainder is 5 (all ones), or the total alone hidden. While any sum discloses a cell, the
smallest other non-zero count in it is hidden too (or, failing that, the total), shown as "[c]"
since it is not itself small. This repeats until no sum discloses one, since each new hiding may
expose another sum.

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
    sums = table_sums(table)
    changed = True
    while changed:
        changed = False
        for parts, total in sums:
            if not _discloses(parts, total, threshold=threshold):
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


def _discloses(parts: list[Cell], total: Cell, *, threshold: int) -> bool:
    """Whether the visible cells of a sum pin a hidden cell down to one value."""
    hidden = [c for c in parts if c.suppressed]
    if total.suppressed:
        return not hidden  # the total alone hidden: the parts add up to it
    if not hidden:
        return False
    remainder = total.value - sum(c.value for c in parts if not c.suppressed)
    bounds = [(threshold, None) if c.secondary else (1, threshold - 1) for c in hidden]
    low_sum = sum(low for low, _ in bounds)
    uppers = [high for _, high in bounds]
    for index, (low, high) in enumerate(bounds):
        others_low = low_sum - low
        others_high = _sum_or_none(uppers[:index] + uppers[index + 1 :])
        least = low if others_high is None else max(low, remainder - others_high)
        most = remainder - others_low if high is None else min(high, remainder - others_low)
        if least == most:
            return True
    return False


def _sum_or_none(values: list[int | None]) -> int | None:
    """The sum, or None (unbounded) when any value is unbounded."""
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def table_sums(table: Table) -> list[tuple[list[Cell], Cell]]:
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
