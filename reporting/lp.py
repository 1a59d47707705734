"""A small exact linear-programming solver: the least and greatest value a variable can take
under linear equalities, inequalities and bounds, over real numbers or over whole numbers.

Suppression (``reporting.disclosure``) asks, for each hidden cell, what a reader could work out
from everything published: the range its value must lie in, as statistical disclosure control
tools such as τ-Argus do ("interval bounds by linear programming"). The problems are small (one
connected group of hidden cells at a time), so this is a textbook two-phase simplex over exact
fractions with Bland's rule (no cycling, no rounding): a floating-point solver could call a range
of width 1e-9 "one value" or miss one.

Speed: a ``Region`` runs phase 1 once and keeps its feasible tableau (sparse rows); every
objective after that starts from the last vertex found. Whole numbers: a reader knows counts are
whole, so ``Region.integer_extreme`` finds the least or greatest whole-number value by branch and
bound (the real range can be wider than the whole numbers' when the system is not a sum
structure). Checked against brute-force enumeration in ``tests/test_reporting_disclosure.py``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

Var = Any  # any hashable name
Row = dict[int, Fraction]  # column → non-zero coefficient


@dataclass(frozen=True)
class Constraint:
    """``sum(coefficients[v] * v) (== or <=) rhs``."""

    coefficients: Mapping[Var, int]
    rhs: int = 0
    equality: bool = True


class Infeasible(Exception):
    """No values satisfy the constraints (the published figures contradict each other)."""


ZERO = Fraction(0)
MAX_BRANCH_DEPTH = 60
logger = logging.getLogger(__name__)


class Region:
    """The real solutions of ``constraints`` within ``bounds`` (low, high-or-None per variable;
    every variable of the constraints must have bounds). Raises ``Infeasible`` when empty."""

    def __init__(
        self, constraints: Sequence[Constraint], bounds: Mapping[Var, tuple[int, int | None]]
    ) -> None:
        self.constraints = list(constraints)
        self.bounds = dict(bounds)
        self.variables = sorted(bounds, key=repr)
        self.index = {v: k for k, v in enumerate(self.variables)}
        self.lows = [Fraction(bounds[v][0]) for v in self.variables]
        rows: list[Row] = []
        rhs: list[Fraction] = []
        inequality: list[bool] = []
        for constraint in constraints:
            row: Row = {}
            shift = Fraction(constraint.rhs)
            for var, coefficient in constraint.coefficients.items():
                k = self.index[var]
                row[k] = row.get(k, ZERO) + coefficient
                shift -= coefficient * self.lows[k]
            rows.append({k: v for k, v in row.items() if v})
            rhs.append(shift)
            inequality.append(not constraint.equality)
        for k, var in enumerate(self.variables):
            upper = bounds[var][1]
            if upper is not None:
                rows.append({k: Fraction(1)})
                rhs.append(Fraction(upper) - self.lows[k])
                inequality.append(True)
        n = len(self.variables)
        for i, slack in enumerate(inequality):
            if slack:
                rows[i][n] = Fraction(1)
                n += 1
        self.width = n  # structural and slack columns; artificials come after
        self._phase1(rows, rhs)

    # --- The tableau ---------------------------------------------------------------------------

    def _pivot(self, r: int, c: int) -> None:
        rows, rhs = self.rows, self.rhs
        factor = rows[r][c]
        pivot_row = {j: v / factor for j, v in rows[r].items()}
        rows[r] = pivot_row
        rhs[r] /= factor
        for i, row in enumerate(rows):
            if i == r:
                continue
            f = row.get(c)
            if f is None:
                continue
            for j, v in pivot_row.items():
                value = row.get(j, ZERO) - f * v
                if value:
                    row[j] = value
                else:
                    row.pop(j, None)
            rhs[i] -= f * rhs[r]
        f = self.reduced.get(c)
        if f is not None:
            for j, v in pivot_row.items():
                value = self.reduced.get(j, ZERO) - f * v
                if value:
                    self.reduced[j] = value
                else:
                    self.reduced.pop(j, None)
        self.basis[r] = c

    def _run(self, allowed: int) -> bool:
        """Minimise the priced objective over columns < allowed; False when unbounded."""
        while True:
            entering = min(
                (j for j, d in self.reduced.items() if d < 0 and j < allowed), default=None
            )
            if entering is None:  # Bland: the lowest index with a negative reduced cost
                return True
            leaving: int | None = None
            best: Fraction | None = None
            for i, row in enumerate(self.rows):
                a = row.get(entering)
                if a is not None and a > 0:
                    ratio = self.rhs[i] / a
                    if (
                        best is None
                        or ratio < best
                        or (
                            ratio == best
                            and leaving is not None
                            and self.basis[i] < self.basis[leaving]
                        )
                    ):
                        best, leaving = ratio, i
            if leaving is None:
                return False
            self._pivot(leaving, entering)

    def _price(self, cost: Mapping[int, Fraction]) -> None:
        """Reduced costs c_j - c_B B⁻¹A_j of ``cost`` at the current basis."""
        reduced = {j: Fraction(c) for j, c in cost.items() if c}
        for i, b in enumerate(self.basis):
            cb = cost.get(b)
            if cb:
                for j, v in self.rows[i].items():
                    updated = reduced.get(j, ZERO) - cb * v
                    if updated:
                        reduced[j] = updated
                    else:
                        reduced.pop(j, None)
        self.reduced = reduced

    def _phase1(self, rows: list[Row], rhs: list[Fraction]) -> None:
        n = self.width
        for i in range(len(rows)):
            if rhs[i] < 0:
                rows[i] = {j: -v for j, v in rows[i].items()}
                rhs[i] = -rhs[i]
            rows[i][n + i] = Fraction(1)
        self.rows, self.rhs = rows, rhs
        self.basis = [n + i for i in range(len(rows))]
        self._price({n + i: Fraction(1) for i in range(len(rows))})
        self._run(n + len(rows))
        if any(self.rhs[i] for i, b in enumerate(self.basis) if b >= n):
            raise Infeasible
        # Drive artificials out of the basis; a row with no other column is redundant.
        keep = []
        for i in range(len(self.rows)):
            if self.basis[i] >= n:
                column = min((j for j in self.rows[i] if j < n), default=None)
                if column is None:
                    continue
                self._pivot(i, column)
            keep.append(i)
        self.rows = [{j: v for j, v in self.rows[i].items() if j < n} for i in keep]
        self.rhs = [self.rhs[i] for i in keep]
        self.basis = [self.basis[i] for i in keep]

    def _point(self) -> dict[Var, Fraction]:
        values = list(self.lows)
        for i, b in enumerate(self.basis):
            if b < len(values):
                values[b] += self.rhs[i]
        return dict(zip(self.variables, values, strict=True))

    # --- Questions -----------------------------------------------------------------------------

    def point(self) -> dict[Var, Fraction]:
        """The vertex the tableau stands at: a real solution."""
        return self._point()

    def optimum(
        self, target: Var, *, maximise: bool
    ) -> tuple[Fraction | None, dict[Var, Fraction]]:
        """The least (or greatest) real value of ``target`` (None: no upper limit) and a vertex
        reaching it (the last vertex reached, when unbounded)."""
        k = self.index[target]
        self._price({k: Fraction(-1 if maximise else 1)})
        if not self._run(self.width):
            return None, self._point()
        point = self._point()
        return point[target], point

    def integer_extreme(
        self, target: Var, *, maximise: bool, limit: int | None = None, depth: int = 0
    ) -> tuple[int | None, bool, dict[Var, int] | None]:
        """The least (or greatest) whole-number value of ``target`` over the whole-number
        solutions, by branch and bound: (value, found, a solution reaching it). ``found`` is
        False when there is no whole-number solution; value None when it has no upper limit
        over the reals (nor then over whole numbers, when any exist: a caller checks that with
        the least value, always bounded as every variable has a lower bound).
        ``limit`` prunes: only values beyond it (less when minimising) are looked for. Past
        ``MAX_BRANCH_DEPTH`` nested branches (never seen: the relations are sums) the real
        optimum rounded inwards is returned, a bound that every whole-number solution keeps."""
        value, point = self.optimum(target, maximise=maximise)
        if value is None:  # unbounded over the reals: so over whole numbers, if any exist
            return None, True, None
        rounded = math.floor(value) if maximise else math.ceil(value)
        if limit is not None and (rounded <= limit if maximise else rounded >= limit):
            return None, False, None  # nothing better than the limit here
        fractional = next((v for v in self.variables if point[v].denominator != 1), None)
        if fractional is None:
            return int(value), True, {v: int(x) for v, x in point.items()}
        if depth >= MAX_BRANCH_DEPTH:
            logger.warning("branch and bound stopped at depth %s for %s", depth, target)
            return rounded, True, None
        best: tuple[int | None, bool, dict[Var, int] | None] = (None, False, None)
        low, high = self.bounds[fractional]
        split = point[fractional]
        for branch in ((low, math.floor(split)), (math.ceil(split), high)):
            if branch[1] is not None and branch[0] > branch[1]:
                continue
            try:
                sub = Region(self.constraints, {**self.bounds, fractional: branch})
            except Infeasible:
                continue
            bound = best[0] if best[1] else limit
            result = sub.integer_extreme(target, maximise=maximise, limit=bound, depth=depth + 1)
            if not result[1]:
                continue
            if result[0] is None:
                return result
            if not best[1] or (result[0] > best[0] if maximise else result[0] < best[0]):  # type: ignore[operator]
                best = result
        return best


def interval(
    target: Var,
    constraints: Sequence[Constraint],
    bounds: Mapping[Var, tuple[int, int | None]],
) -> tuple[Fraction, Fraction | None]:
    """The least and greatest value of ``target`` (None: no upper limit) over real solutions.

    Every variable in the constraints must have bounds (low, high-or-None)."""
    region = Region(constraints, bounds)
    low, _ = region.optimum(target, maximise=False)
    high, _ = region.optimum(target, maximise=True)
    assert low is not None
    return low, high
