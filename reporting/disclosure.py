"""Suppression that holds across every published relation (docs/reporting.md, "Small numbers").

``suppress_table`` (``reporting.suppression``) protects each table on its own. A reader holds
more than one table: every return already published for the same authorities and financial
year, and relations between their cells that anyone can know —

- *the same figure*: a quarter's "this quarter" cell in its own return and in a re-run; the
  fourth quarter's year to date and the annual return's figure; a district table's total and
  "referrals received";
- *periods that add up*: for a count of events (referrals received, declined, MARAC cases
  heard, support ended, jobs installed), the year to date is the sum of its quarters and the
  year the sum of four; for a count of distinct people (individuals supported) each quarter is at
  most the year to date and the year to date at most the sum of its quarters;
- *sums in a table*: lines to their total line, columns to their total column;
- *measures that are parts of another* (``MEASURE_PARTS``): referrals declined = households that
  could not be supported + the other declines (duplicates, withdrawn …); MARAC cases heard = those
  with children + those without; referrals received = repeat + first referrals = female + male +
  sex not recorded = children-and-young-people referrals + the others.

Each cell is a variable: a shown figure is a constant, a "<5" lies in 1..4, a "[c]" is at least 5
(the rule hides only non-zero figures, small ones as "<5"), a figure never published (a quarter
not yet returned, the "other declines") is any whole number from 0. For each hidden or unpublished
figure, the least and greatest whole-number value consistent with all of that is found exactly
(``reporting.lp``: simplex over fractions, branch and bound where a vertex is fractional; one
phase 1 per connected group, and a figure already seen at two values in whole-number solutions
met on the way needs no solve). A published hidden figure is disclosed when that range is one
value; an unpublished one when it is one value from 1 to 4. (Knowing that a figure lies
somewhere in 1..4 is what a "<5" itself says, which the rule allows.) While any is disclosed,
the smallest non-zero figure of the new document that shares a relation with it is hidden too
("[c]"); a "[c]" itself worked out exactly is shown again once nothing else is disclosed. Every
set is walked in a fixed (sorted) order, so the same figures always hide the same cells.

Limits: only relations declared here and in the table structure; a figure restated since it was
published (a late entry) is treated as a separate figure in the old return; a disclosure made by
returns already published alone cannot be undone and is reported (``Problem.unprotectable``),
not hidden.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from reporting.lp import Constraint, Infeasible, Region
from reporting.suppression import table_sums
from reporting.tables import ReportDocument

logger = logging.getLogger(__name__)

# Families counting events in a period: a longer period is the sum of its quarters.
TIME_ADDITIVE_FAMILIES = frozenset(
    {
        "referrals",
        "declined_by_reason",
        "not_supported",
        "support_ended",
        "security",
        "referrals_by_district",
        "part",  # the unpublished parts of ``MEASURE_PARTS``: differences of event counts
    }
)
# Categories of a time-additive family that count distinct people or children, not events.
DISTINCT_CATEGORIES = frozenset({"referrals:children_routed", "referrals:cyp_children"})
# Measures that are the same figure under another name (measure without its split → alias).
MEASURE_ALIASES = {
    "declined_by_reason::": "referrals:declined:",
    "not_supported::": "referrals:not_supported:",
    "referrals_by_district:total:": "referrals:received:",
}
# whole = sum(parts), exactly: a partition every reader can know from the definitions.
MEASURE_PARTITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "referrals:received:",
        (
            "referrals:received_female:",
            "referrals:received_male:",
            "referrals:received_sex_not_recorded:",
        ),
    ),
)
# whole = sum(parts) + an unpublished remainder, which must not be worked out exactly either.
MEASURE_PARTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("referrals:declined:", ("referrals:not_supported:",), "part:declined_other:"),
    ("referrals:marac_heard:", ("referrals:marac_heard_with_children:",), "part:marac_other:"),
    ("referrals:received:", ("referrals:repeat:",), "part:received_first:"),
    ("referrals:received:", ("referrals:self_referrals:",), "part:received_not_self:"),
    ("referrals:received:", ("referrals:cyp_referrals:",), "part:received_not_cyp:"),
)  # fmt: skip


@dataclass
class Item:
    """One cell as a reader sees it: its figure (exact, known to SAFER), hidden or shown."""

    key: str
    value: int
    hidden: bool = False
    secondary: bool = False
    measure: str = ""
    start: str = ""
    end: str = ""
    # The cell of the document being produced (may still be hidden); None when published.
    cell: Any = None

    @property
    def editable(self) -> bool:
        return self.cell is not None


@dataclass
class Problem:
    items: list[Item]
    sums: list[tuple[list[str], str]]  # (part keys, total key)
    threshold: int
    unprotectable: list[str] = field(default_factory=list)
    # whole = sum(parts), exactly; the caller adds those read from data (the referral profile's
    # age bands in force: ``reporting.profile.referral_profile_partitions``).
    partitions: tuple[tuple[str, tuple[str, ...]], ...] = MEASURE_PARTITIONS


Var = tuple[str, str, str]  # (measure, start, end) or ("cell", key, "")


def _canonical(measure: str) -> str:
    return MEASURE_ALIASES.get(measure, measure)


def _quarters(start: str, end: str) -> list[tuple[str, str]]:
    """The financial quarters making up [start, end], when it is a run of whole quarters."""
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        return []
    if first.day != 1 or first.month not in (1, 4, 7, 10):
        return []
    quarters = []
    cursor = first
    while cursor <= last:
        month = cursor.month + 3
        after = dt.date(cursor.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        quarters.append((cursor.isoformat(), (after - dt.timedelta(days=1)).isoformat()))
        cursor = after
    if quarters and quarters[-1][1] != last.isoformat():
        return []
    return quarters


class _Model:
    """The variables and constraints a reader can write down from the items."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.var_of: dict[str, Var] = {}
        self.items_of: dict[Var, list[Item]] = defaultdict(list)
        for item in problem.items:
            var: Var = (
                (_canonical(item.measure), item.start, item.end)
                if item.measure
                else ("cell", item.key, "")
            )
            self.var_of[item.key] = var
            self.items_of[var].append(item)
        self._split_restated()
        self.constraints: list[Constraint] = []
        for parts, total in problem.sums:
            coefficients: dict[Any, int] = defaultdict(int)
            for key in parts:
                coefficients[self.var_of[key]] += 1
            coefficients[self.var_of[total]] -= 1
            self._add(coefficients)
        self._measure_parts()
        self._partitions()
        self._periods()

    def _split_restated(self) -> None:
        """A published figure that differs from today's value of the same figure (a late entry
        since) is its own variable: it and today's figure are not the same number."""
        for var, items in list(self.items_of.items()):
            values = {i.value for i in items}
            if len(values) < 2:
                continue
            current = [i for i in items if i.editable]
            # Today's figure when the new document has it, else the most recent publication's
            # (items come newest first).
            keep = current[0].value if current else items[0].value
            for item in items:
                if item.value != keep:
                    own: Var = ("cell", item.key, "")
                    self.var_of[item.key] = own
                    self.items_of[own].append(item)
            self.items_of[var] = [i for i in items if i.value == keep]

    def _add(self, coefficients: dict[Any, int], *, equality: bool = True) -> None:
        coefficients = {v: c for v, c in coefficients.items() if c}
        if coefficients:
            self.constraints.append(Constraint(coefficients, 0, equality))

    def _measure_parts(self) -> None:
        periods = sorted({(v[1], v[2]) for v in self.items_of if v[0] != "cell"})
        for whole, parts, remainder in MEASURE_PARTS:
            for start, end in periods:
                measures = (whole, *parts)
                if not all((m, start, end) in self.items_of for m in measures):
                    continue
                coefficients: dict[Any, int] = {(whole, start, end): -1}
                for part in parts:
                    coefficients[(part, start, end)] = 1
                coefficients[(remainder, start, end)] = 1
                self._add(coefficients)
                self.items_of.setdefault((remainder, start, end), [])

    def _partitions(self) -> None:
        periods = sorted({(v[1], v[2]) for v in self.items_of if v[0] != "cell"})
        for whole, parts in self.problem.partitions:
            for start, end in periods:
                if not all((m, start, end) in self.items_of for m in (whole, *parts)):
                    continue
                coefficients: dict[Any, int] = {(whole, start, end): -1}
                for part in parts:
                    coefficients[(part, start, end)] = 1
                self._add(coefficients)

    def _periods(self) -> None:
        for var in list(self.items_of):
            measure, start, end = var
            if measure == "cell":
                continue
            quarters = _quarters(start, end)
            if len(quarters) < 2:
                continue
            family = measure.split(":", 1)[0]
            if family not in TIME_ADDITIVE_FAMILIES:
                distinct = True
            else:
                distinct = measure.rsplit(":", 1)[0] in DISTINCT_CATEGORIES
            quarter_vars: list[Var] = [(measure, qs, qe) for qs, qe in quarters]
            for q in quarter_vars:
                self.items_of.setdefault(q, [])
            if not distinct:
                coefficients: dict[Any, int] = {var: -1}
                for q in quarter_vars:
                    coefficients[q] = 1
                self._add(coefficients)
            else:
                for q in quarter_vars:  # each quarter's people are among the period's
                    self._add({q: 1, var: -1}, equality=False)
                coefficients = {var: 1}
                for q in quarter_vars:  # and the period's among the quarters'
                    coefficients[q] = -1
                self._add(coefficients, equality=False)

    # --- What a reader knows --------------------------------------------------------------------

    def known(self, var: Var) -> int | None:
        for item in self.items_of[var]:
            if not (item.cell.suppressed if item.editable else item.hidden):
                return item.value
        return None

    def bounds(self, var: Var) -> tuple[int, int | None]:
        items = self.items_of[var]
        if not items:
            return (0, None)  # never published: any whole number
        small = any(
            (i.cell.suppressed and not i.cell.secondary) if i.editable else not i.secondary
            for i in items
        )
        return (1, self.problem.threshold - 1) if small else (self.problem.threshold, None)

    def disclosed(self, cache: dict[Any, list[Var]] | None = None) -> list[Var]:
        """Hidden or unpublished figures a reader can pin down (one value, or within 1..4), in
        a fixed order. ``cache``: answers for groups already solved (by their exact content),
        kept between rounds of ``protect`` as one hiding changes only the groups it touches."""
        cache = {} if cache is None else cache
        unknown = sorted((v for v in self.items_of if self.known(v) is None), key=repr)
        reduced: list[Constraint] = []
        for constraint in self.constraints:
            rhs = constraint.rhs
            coefficients = {}
            for var, c in constraint.coefficients.items():
                value = self.known(var)
                if value is None:
                    coefficients[var] = c
                else:
                    rhs -= c * value
            if coefficients:
                reduced.append(Constraint(coefficients, rhs, constraint.equality))
        # Connected groups of unknowns: each is solved on its own.
        parent: dict[Var, Var] = {v: v for v in unknown}

        def find(v: Var) -> Var:
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for constraint in reduced:
            members = list(constraint.coefficients)
            for other in members[1:]:
                parent[find(other)] = find(members[0])
        groups: dict[Var, list[Constraint]] = defaultdict(list)
        for constraint in reduced:
            groups[find(next(iter(constraint.coefficients)))].append(constraint)
        members_of: dict[Var, list[Var]] = defaultdict(list)
        for var in unknown:  # sorted, so each group's members are too
            members_of[find(var)].append(var)
        found = []
        for root in sorted(groups, key=lambda r: repr(members_of[r][0])):
            members = members_of[root]
            bounds = {v: self.bounds(v) for v in members}
            published = {v: bool(self.items_of[v]) for v in members}
            key = (
                tuple(
                    sorted(
                        repr((sorted(c.coefficients.items(), key=repr), c.rhs, c.equality))
                        for c in groups[root]
                    )
                ),
                tuple((v, bounds[v], published[v]) for v in members),
            )
            if key not in cache:
                cache[key] = self._solve_group(groups[root], members, bounds, published)
            found += cache[key]
        return found

    def _solve_group(
        self,
        constraints: list[Constraint],
        members: list[Var],
        bounds: dict[Var, tuple[int, int | None]],
        published: dict[Var, bool],
    ) -> list[Var]:
        """The members a reader can pin down: whole-number least and greatest values (exact).

        Phase 1 runs once for the group; every whole-number solution met on the way is kept as
        a witness, and a member seen at two values in them is not pinned, with no solve."""
        threshold = self.problem.threshold
        try:
            region = Region(constraints, bounds)
        except Infeasible:
            logger.warning("published figures contradict each other near %s", members[0])
            return []
        seen: dict[Var, set[int]] = defaultdict(set)

        def witness(solution: dict[Var, int] | dict[Var, Fraction] | None) -> None:
            if solution is not None and all(
                Fraction(x).denominator == 1 for x in solution.values()
            ):
                for v, x in solution.items():
                    seen[v].add(int(x))

        witness(region.point())
        found = []
        for var in members:
            if len(seen[var]) > 1:
                continue
            least, exists, solution = region.integer_extreme(var, maximise=False)
            if not exists:
                logger.warning("no whole-number figures fit what is published near %s", var)
                return []
            witness(solution)
            if len(seen[var]) > 1:
                continue
            most, _, solution = region.integer_extreme(var, maximise=True)
            witness(solution)
            if most is None or least != most:
                continue
            if published[var] or (least is not None and 1 <= least < threshold):
                # An unpublished count of 1 to 4 worked out exactly. (Known only to lie in
                # 1..4 is what a "<5" itself says, which the rule allows.)
                found.append(var)
        return found

    def candidates(self, var: Var, *, pointless: frozenset[Var] = frozenset()) -> list[Item]:
        """Shown figures of the new document that share a relation with ``var`` (nearest first
        by relation, then smallest), whose hiding would leave the reader a wider range.
        ``pointless``: figures already found to be worked out exactly when hidden."""
        seen = {var}
        frontier = {var}
        for _ in range(4):
            related: set[Var] = set()
            for constraint in self.constraints:
                if frontier & set(constraint.coefficients):
                    related |= set(constraint.coefficients)
            options = [
                item
                for v in related - seen
                if v not in pointless and self._hideable(v)
                for item in self.items_of[v]
                if item.editable and not item.cell.suppressed and item.value > 0
            ]
            if options:
                return sorted(options, key=lambda i: (i.value, i.key))
            seen |= related
            frontier = {v for v in related if self.known(v) is None} | frontier
            if not related:
                break
        return []

    def is_new_secondary(self, var: Var) -> bool:
        """Hidden as "[c]" by the document being produced."""
        return any(
            i.editable and i.cell.suppressed and i.cell.secondary for i in self.items_of[var]
        )

    def _hideable(self, var: Var) -> bool:
        """Hiding helps only if no published (frozen) copy of the figure shows it."""
        return all(i.editable or i.hidden for i in self.items_of[var])


def protect(problem: Problem, *, max_rounds: int = 500) -> list[Item]:
    """Hide further figures of the new document until no hidden or unpublished figure can be
    pinned down; returns the items newly hidden (as "[c]").

    Each round hides the nearest, smallest shown figure related to the first figure still pinned
    down (in a fixed order, so the same data always hides the same cells). A "[c]" that is
    itself pinned down is left hidden while other figures are still pinned down (hiding its
    neighbours may free it and protect them too); once nothing else is, each such "[c]" is shown
    again: the reader works its figure out anyway, so showing it tells nothing new, and it is
    not chosen again. What no hiding in the new document can protect (figures already published
    pin it down) is listed in ``problem.unprotectable``."""
    hidden: list[Item] = []
    pointless: set[Var] = set()
    model = _Model(problem)
    cache: dict[Any, list[Var]] = {}
    disclosed: list[Var] = []
    for _ in range(max_rounds):
        disclosed = model.disclosed(cache)
        if not disclosed:
            break
        secondary = [v for v in disclosed if model.is_new_secondary(v)]
        progress = False
        for var in disclosed:
            if var in secondary:
                continue
            options = model.candidates(var, pointless=frozenset(pointless))
            if not options:
                continue
            chosen_var = model.var_of[options[0].key]
            for item in model.items_of[chosen_var]:
                if item.editable and not item.cell.suppressed:
                    item.cell.suppressed = item.cell.secondary = True
                    hidden.append(item)
            progress = True
            break  # re-solve: one hiding may protect several figures
        if progress:
            continue
        if not secondary:
            break
        reshown = [i for v in secondary for i in model.items_of[v] if i.editable]
        for item in reshown:
            item.cell.suppressed = item.cell.secondary = False
        pointless.update(secondary)
        hidden = [item for item in hidden if all(item is not r for r in reshown)]
    for var in disclosed:
        if repr(var) not in problem.unprotectable and not model.is_new_secondary(var):
            problem.unprotectable.append(repr(var))
    return hidden


def items_from_document(
    document: ReportDocument,
) -> tuple[list[Item], list[tuple[list[str], str]]]:
    """The new document's count cells as items (editable), with its tables' sums."""
    items: list[Item] = []
    key_of: dict[int, str] = {}
    for table in document.tables:
        for row in table.rows:
            for index, cell in enumerate(row.cells):
                if not cell.is_count:
                    continue
                key = f"new/{table.code}/{row.code}/{index}"
                key_of[id(cell)] = key
                items.append(
                    Item(
                        key=key,
                        value=int(cell.value),
                        measure=cell.measure,
                        start=cell.start,
                        end=cell.end,
                        cell=cell,
                    )
                )
    sums = [
        ([key_of[id(p)] for p in parts], key_of[id(total)])
        for table in document.tables
        for parts, total in table_sums(table)
    ]
    return items, sums


def items_from_cells(
    cells: Iterable[dict[str, Any]], *, source: str
) -> tuple[list[Item], list[tuple[list[str], str]]]:
    """A published return's stored cells (``reporting.records.document_cells``) as items."""
    items, sums = [], []
    for cell in cells:
        if cell.get("kind") != "count" or cell.get("value") is None:
            continue
        try:
            value = int(cell["value"])
        except (TypeError, ValueError):
            continue
        key = f"{source}/{cell['key']}"
        items.append(
            Item(
                key=key,
                value=value,
                hidden=bool(cell.get("hidden")),
                secondary=cell.get("shown") == "[c]",
                measure=cell.get("measure", ""),
                start=cell.get("start", ""),
                end=cell.get("end", ""),
            )
        )
        for parts in cell.get("sums", []):
            sums.append(([f"{source}/{p}" for p in parts], key))
    keys = {i.key for i in items}
    sums = [(p, t) for p, t in sums if t in keys and all(k in keys for k in p)]
    return items, sums


def check(
    items: Sequence[Item],
    sums: Sequence[tuple[list[str], str]],
    *,
    threshold: int,
    partitions: tuple[tuple[str, tuple[str, ...]], ...] = MEASURE_PARTITIONS,
) -> list[Var]:
    """The figures a reader could pin down from these published items (for tests and audits)."""
    return _Model(Problem(list(items), list(sums), threshold, partitions=partitions)).disclosed()


__all__ = [
    "Fraction",
    "Item",
    "Problem",
    "check",
    "items_from_cells",
    "items_from_document",
    "protect",
]
