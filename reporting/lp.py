"""A small exact linear-programming solver: the least and greatest value a variable can take
under linear equalities, inequalities and bounds.

Suppression (``reporting.disclosure``) asks, for each hidden cell, what a reader could work out
from everything published: the interval its value must lie in, as statistical disclosure control
tools such as τ-Argus do ("interval bounds by linear programming"). The problems are small (one
connected group of hidden cells at a time), so this is a textbook two-phase simplex over exact
fractions with Bland's rule (no cycling, no rounding): a floating-point solver could call a range
of width 1e-9 "one value" or miss one. Checked against brute-force enumeration in
``tests/test_reporting_disclosure.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

Var = Any  # any hashable name


@dataclass(frozen=True)
class Constraint:
    """``sum(coefficients[v] * v) (== or <=) rhs``."""

    coefficients: Mapping[Var, int]
    rhs: int = 0
    equality: bool = True


class Infeasible(Exception):
    """No values satisfy the constraints (the published figures contradict each other)."""


def _simplex(
    rows: list[list[Fraction]], rhs: list[Fraction], cost: list[Fraction]
) -> Fraction | None:
    """min cost·y subject to rows·y = rhs, y ≥ 0. None when unbounded below; raises Infeasible."""
    m, n = len(rows), len(cost)
    # Phase 1: an artificial variable per row (rhs made non-negative first).
    table = []
    for i in range(m):
        sign = -1 if rhs[i] < 0 else 1
        row = [sign * a for a in rows[i]] + [Fraction(1 if k == i else 0) for k in range(m)]
        table.append([*row, sign * rhs[i]])
    basis = [n + i for i in range(m)]
    width = n + m

    def pivot(r: int, c: int) -> None:
        factor = table[r][c]
        table[r] = [v / factor for v in table[r]]
        for i in range(m):
            if i != r and table[i][c] != 0:
                f = table[i][c]
                pivot_row = table[r]
                table[i] = [a - f * b for a, b in zip(table[i], pivot_row, strict=True)]
        basis[r] = c

    def run(objective: list[Fraction], allowed: int) -> bool:
        """Minimise objective over columns < allowed; False when unbounded."""
        while True:
            # Reduced costs: c_j - c_B B^-1 A_j (the table is B^-1 [A | b]).
            entering = None
            for j in range(allowed):
                if j in basis:
                    continue
                reduced = objective[j] - sum(
                    objective[basis[i]] * table[i][j] for i in range(m) if basis[i] < len(objective)
                )
                if reduced < 0:
                    entering = j  # Bland: the lowest index
                    break
            if entering is None:
                return True
            leaving: int | None = None
            best: Fraction | None = None
            for i in range(m):
                if table[i][entering] > 0:
                    ratio = table[i][-1] / table[i][entering]
                    tie = (
                        best is not None
                        and leaving is not None
                        and ratio == best
                        and basis[i] < basis[leaving]
                    )
                    if best is None or ratio < best or tie:
                        best, leaving = ratio, i
            if leaving is None:
                return False
            pivot(leaving, entering)

    phase1 = [Fraction(0)] * n + [Fraction(1)] * m
    run(phase1, width)
    if sum(table[i][-1] for i in range(m) if basis[i] >= n) != 0:
        raise Infeasible
    # Drive artificials out of the basis where possible (degenerate rows).
    for i in range(m):
        if basis[i] >= n:
            for j in range(n):
                if table[i][j] != 0:
                    pivot(i, j)
                    break
    objective = cost + [Fraction(0)] * m
    if not run(objective, n):
        return None
    return sum((cost[basis[i]] * table[i][-1] for i in range(m) if basis[i] < n), Fraction(0))


def interval(
    target: Var,
    constraints: Sequence[Constraint],
    bounds: Mapping[Var, tuple[int, int | None]],
) -> tuple[Fraction, Fraction | None]:
    """The least and greatest value of ``target`` (None: no upper limit) over real solutions.

    Every variable in the constraints must have bounds (low, high-or-None)."""
    variables = sorted(bounds, key=repr)
    index = {v: k for k, v in enumerate(variables)}
    lows = [Fraction(bounds[v][0]) for v in variables]
    rows: list[list[Fraction]] = []
    rhs: list[Fraction] = []
    slack_rows: list[int] = []
    for constraint in constraints:
        row = [Fraction(0)] * len(variables)
        shift = Fraction(constraint.rhs)
        for var, coefficient in constraint.coefficients.items():
            row[index[var]] += coefficient
            shift -= coefficient * lows[index[var]]
        if not constraint.equality:
            slack_rows.append(len(rows))
        rows.append(row)
        rhs.append(shift)
    for var in variables:
        upper = bounds[var][1]
        if upper is not None:
            row = [Fraction(0)] * len(variables)
            row[index[var]] = Fraction(1)
            slack_rows.append(len(rows))
            rows.append(row)
            rhs.append(Fraction(upper) - lows[index[var]])
    # One slack column per inequality row.
    for r in slack_rows:
        for i, row in enumerate(rows):
            row.append(Fraction(1 if i == r else 0))
    width = len(variables) + len(slack_rows)
    cost = [Fraction(0)] * width
    t = index[target]
    cost[t] = Fraction(1)
    least = _simplex([list(r) for r in rows], list(rhs), cost)
    cost[t] = Fraction(-1)
    most = _simplex([list(r) for r in rows], list(rhs), cost)
    low = lows[t] + (least if least is not None else Fraction(0))
    high = None if most is None else lows[t] - most
    return low, high
