"""The one place reporting reads the other apps. Every figure of a return, a KPI report and a
dashboard comes from here, so a number means the same thing everywhere (domain.md §8).

The modules hold the definitions (``referrals``, ``people``, ``support``, ``security``, ``kpis``);
this module names the *families* a return template's lines may use and evaluates them with a
cache, so a section that shows ten lines of one family runs its query once.

When a source model changes, this package is the only part of reporting to adapt.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any

from reporting.metrics import commissioning, people, referrals, security, support
from reporting.metrics.alongside import run_alongside
from reporting.metrics.common import TOTAL, Policy, Scope, percent, policy_for
from reporting.metrics.kpis import NOT_MEASURABLE, KpiCount, kpi_breaches, kpi_measure
from reporting.metrics.security import ZERO
from reporting.periods import Period

__all__ = [
    "FAMILIES",
    "NOT_MEASURABLE",
    "SUPPORTED_SET_FAMILIES",
    "TOTAL",
    "KpiCount",
    "Metrics",
    "Policy",
    "Scope",
    "kpi_breaches",
    "kpi_measure",
    "percent",
    "policy_for",
]

Mappings = Mapping[str, Mapping[str, str]]
Family = Callable[["Metrics", Period, str], Mapping[str, Any]]


# The referral lines, the declines by reason and the referrals by district of a period all come
# from one pass over its referrals (``Metrics.referral_pass``; issue 17).
def _referrals(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return m.referral_pass(period).totals


def _declined(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return m.referral_pass(period).declined_by_reason(m.mapping("decline_reason"))


def _not_supported(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return m.referral_pass(period).not_supported_by_reason(m.mapping("decline_reason"))


def _individuals(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return people.individuals_by_group(scope=m.scope, period=period)


def _accommodation(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return people.individuals_by_accommodation(
        scope=m.scope, period=period, mapping=m.mapping("accommodation")
    )


def _ethnicity(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return people.individuals_by_ethnicity(
        scope=m.scope, period=period, mapping=m.mapping("ethnicity")
    )


def _age(band_set: str) -> Family:
    def family(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
        return people.individuals_by_age_band(scope=m.scope, period=period, band_set=band_set)

    return family


def _specialist(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return people.individuals_specialist(scope=m.scope, period=period, policy=m.policy)


def _support_types(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return people.support_types(
        scope=m.scope, period=period, mapping=m.mapping("support_type") or {}
    )


def _allocated(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return {TOTAL: people.allocated_not_supported(scope=m.scope, period=period)}


def _support_ended(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    # Every split comes from one evaluation per period (a return shows two or three of them).
    if period not in m.ended:
        m.ended[period] = support.support_ended(
            scope=m.scope, period=period, mapping=m.mapping("closure_reason")
        )
    return m.ended[period][split or "all"]


def _sanctuary(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return support.households_in_sanctuary(scope=m.scope, period=period)


def _security(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return {
        "jobs_installed": security.jobs_installed(scope=m.scope, period=period),
        "spend": m.security_spend(period),
    }


def _commissioned_units(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    return commissioning.commissioned_units(
        scope=m.scope, period=period, mapping=m.mapping("accommodation")
    )


def _spend_by_element(m: Metrics, period: Period, split: str) -> Mapping[str, Any]:
    """Spend per service element: security's measures installed, the others' recorded spend."""
    spend: dict[str, Any] = {
        "security": m.security_spend(period),
        **commissioning.recorded_spend_by_element(scope=m.scope, period=period),
    }
    return {**spend, TOTAL: sum(spend.values())}


FAMILIES: dict[str, Family] = {
    "referrals": _referrals,
    "declined_by_reason": _declined,
    "not_supported": _not_supported,
    "individuals": _individuals,
    "individuals_by_accommodation": _accommodation,
    "individuals_by_ethnicity": _ethnicity,
    "individuals_by_age_adult": _age("adult"),
    "individuals_by_age_ons": _age("ons5"),
    "individuals_specialist": _specialist,
    "support_types": _support_types,
    "allocated_not_supported": _allocated,
    "support_ended": _support_ended,
    "households_sanctuary": _sanctuary,
    "security": _security,
    "commissioned_units": _commissioned_units,
    "spend_by_element": _spend_by_element,
}

# Families whose categories add up to their total (each record in exactly one category), so a
# total line may be checked against its parts and secondary suppression applies.
ADDITIVE_FAMILIES = frozenset(
    {
        "declined_by_reason",
        "not_supported",
        "individuals",
        "individuals_by_accommodation",
        "individuals_by_ethnicity",
        "individuals_by_age_adult",
        "individuals_by_age_ons",
        "support_ended",
        "commissioned_units",
    }
)
# Families whose figures are money (never suppressed: they count no one).
MONEY_CATEGORIES = frozenset(
    {("security", "spend")}
    | {("spend_by_element", code) for code in ("security", "spa", "adult_support", "cyp", TOTAL)}
)
# Families that count places, not people: whole numbers never suppressed as small.
UNCOUNTED_FAMILIES = frozenset({"commissioned_units"})
# The supported-set families (below) that read only the period's supported cases, not its
# people: in a document, read on a connection of their own that builds only the cases
# (``Metrics.prefetch``).
CASES_ONLY_FAMILIES = frozenset({"support_types", "households_sanctuary"})
# Families read from a period's one pass over its referrals (``Metrics.referral_pass``).
REFERRAL_PASS_FAMILIES = frozenset({"referrals", "declined_by_reason", "not_supported"})
# Families read from a period's security spend (``Metrics.spend_cells``).
SPEND_FAMILIES = frozenset({"security", "spend_by_element"})
# Families read from a period's supported-people set (``people.supported_sets_built_once``).
SUPPORTED_SET_FAMILIES = frozenset(
    {
        "individuals",
        "individuals_by_accommodation",
        "individuals_by_ethnicity",
        "individuals_by_age_adult",
        "individuals_by_age_ons",
        "individuals_specialist",
        "support_types",
        "households_sanctuary",
    }
)


_READ_ORDER = {"pass": 0, "families": 1, "family": 1, "ended": 2, "spend": 3}


def _read_order(kind: str, key: Any) -> tuple[int, int]:
    period: Period = key[1] if kind == "family" else key
    return (-period.days, _READ_ORDER[kind])


class Metrics:
    """The figures for one scope, evaluated lazily and cached per (family, period, split)."""

    def __init__(
        self,
        scope: Scope,
        *,
        mappings: Mappings | None = None,
        policy: Policy | None = None,
        as_of: dt.datetime | None = None,
    ) -> None:
        from django.utils import timezone

        self.scope = scope
        self.mappings = mappings
        self.policy = policy or policy_for(scope.authority_ids)
        self.as_of = as_of or timezone.now()
        self._cache: dict[tuple[str, Period, str], Mapping[str, Any]] = {}
        self.ended: dict[Period, dict[str, dict[str, int]]] = {}  # support_ended, every split
        self._referral_passes: dict[Period, referrals.ReferralPass] = {}
        self._spend_cells: dict[Period, list[security.SpendCell]] = {}

    def spend_cells(self, period: Period) -> list[security.SpendCell]:
        """Security spend by contract and district, read once per period for the document's
        spend table and its spend lines (issue 17: the period's measures were read three
        times)."""
        if period not in self._spend_cells:
            self._spend_cells[period] = security.spend_by_contract_district(
                scope=self.scope, period=period
            )
        return self._spend_cells[period]

    def security_spend(self, period: Period) -> Decimal:
        """``security.spend_total``, as the sum of the period's ``spend_cells``."""
        return sum((cell.spend or ZERO for cell in self.spend_cells(period)), ZERO)

    def referral_pass(self, period: Period) -> referrals.ReferralPass:
        """The period's referrals read once, for every referral figure of the document."""
        if period not in self._referral_passes:
            self._referral_passes[period] = referrals.referral_pass(
                scope=self.scope, period=period, policy=self.policy
            )
        return self._referral_passes[period]

    def mapping(self, dimension: str) -> Mapping[str, str] | None:
        if self.mappings is None:
            return None
        return self.mappings.get(dimension, {})

    def family(self, name: str, period: Period, split: str = "") -> Mapping[str, Any]:
        if name not in FAMILIES:
            raise KeyError(f"Unknown metric family {name!r}.")
        key = (name, period, split)
        if key not in self._cache:
            self._cache[key] = FAMILIES[name](self, period, split)
        return self._cache[key]

    def prefetch(
        self,
        requests: Iterable[tuple[str, Period, str]],
        *,
        referral_periods: Iterable[Period] = (),
        spend_periods: Iterable[Period] = (),
    ) -> None:
        """Evaluate now the big reads behind the families of ``requests`` (name, period, split),
        side by side on connections of their own (``alongside.run_alongside``; issue 17): each
        period's pass over its referrals (also for ``referral_periods``: a districts table), its
        support ended, its security spend (also for ``spend_periods``: a spend table), and a
        supported-people family that is the only one of its period.

        Meanwhile, on this connection, the supported-people families of a period that more than
        one of them reads: together, in one short transaction on the primary that builds that
        period's set once (``people.supported_sets_built_once``) rather than once per breakdown;
        of those, the ones that read only the cases (``CASES_ONLY_FAMILIES``) together on another
        connection, which builds only the cases (the people are the longest build).
        A period with one such family (the quarterly update's "individuals") gains nothing from
        a temporary table, which costs more to write than one statement's CTE. The other
        families stay lazy (each a small statement)."""
        wanted = list(dict.fromkeys(requests))
        readers = Counter(period for name, period, _ in wanted if name in SUPPORTED_SET_FAMILIES)
        shared = [r for r in wanted if r[0] in SUPPORTED_SET_FAMILIES and readers[r[1]] > 1]
        reads: dict[tuple[str, Any], Callable[[], Any]] = {}
        cases_only: dict[Period, list[tuple[str, Period, str]]] = {}
        for request in shared:
            if request[0] in CASES_ONLY_FAMILIES and request not in self._cache:
                cases_only.setdefault(request[1], []).append(request)
        shared = [r for r in shared if r[0] not in CASES_ONLY_FAMILIES]
        # A period's support ended with its cases-only families: both read each household's
        # works, built once into that connection's temporary table (``support._works_cte``).
        for request in wanted:
            name, period, _ = request
            if name == "support_ended" and period in cases_only and period not in self.ended:
                cases_only[period].append(request)
        for period, families in cases_only.items():
            reads[("families", period)] = partial(self._families_over_cases, families)
        for name, period, split in wanted:
            if name in REFERRAL_PASS_FAMILIES:
                referral_periods = [*referral_periods, period]
            elif name in SPEND_FAMILIES:
                spend_periods = [*spend_periods, period]
            elif name == "support_ended" and period not in self.ended and period not in cases_only:
                reads[("ended", period)] = partial(
                    support.support_ended,
                    scope=self.scope,
                    period=period,
                    mapping=self.mapping("closure_reason"),
                )
            elif (
                name in SUPPORTED_SET_FAMILIES
                and readers[period] == 1
                and (name, period, split) not in self._cache
            ):
                reads[("family", (name, period, split))] = partial(
                    FAMILIES[name], self, period, split
                )
        for period in referral_periods:
            if period not in self._referral_passes:
                reads[("pass", period)] = partial(
                    referrals.referral_pass, scope=self.scope, period=period, policy=self.policy
                )
        for period in spend_periods:
            if period not in self._spend_cells:
                reads[("spend", period)] = partial(
                    security.spend_by_contract_district, scope=self.scope, period=period
                )

        # Longest first (a year's reads before a quarter's, a referral pass before the rest), so
        # the last to start is a short one (issue 17).
        reads = dict(sorted(reads.items(), key=lambda item: _read_order(*item[0])))

        def shared_people_sets() -> None:
            if not shared:
                return
            with people.supported_sets_built_once():
                for name, period, split in shared:
                    self.family(name, period, split)

        for (kind, key), value in run_alongside(reads, meanwhile=shared_people_sets).items():
            if kind == "pass":
                self._referral_passes[key] = value
            elif kind == "spend":
                self._spend_cells[key] = value
            elif kind == "ended":
                self.ended[key] = value
            elif kind == "families":
                self._cache.update(value)
            else:
                self._cache[key] = value

    def _families_over_cases(
        self, families: list[tuple[str, Period, str]]
    ) -> dict[tuple[str, Period, str], Mapping[str, Any]]:
        """``families`` (of ``CASES_ONLY_FAMILIES``, and support ended; one period) over that
        period's supported cases and works by household, each built once into a temporary table
        on this connection (the people are not)."""
        with people.supported_sets_built_once():
            return {(n, p, s): FAMILIES[n](self, p, s) for n, p, s in families}

    def value(self, name: str, category: str, period: Period, split: str = "") -> Any:
        return self.family(name, period, split).get(category, 0)

    def kpi(self, code: str, period: Period) -> KpiCount | None:
        return kpi_measure(code, scope=self.scope, period=period, as_of=self.as_of)
