"""Scoring a risk questionnaire: pure functions, no database.

Rules (domain.md §5): the actuarial level comes from the number of "yes" answers and the
authority's bands (SafeLives: 14+ is visible high risk). Professional judgement may raise the
level but never lower it. Escalation (enough incidents or crimes in the window), a repeat within
a year of the last MARAC referral, and (where the area says so) honour-based abuse are separate
MARAC grounds that also make the case high risk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from referrals.models.referral import RISK_RANK, RiskLevel
from referrals.models.risk import MaracGround, RiskAnswerValue


class RiskInputError(ValueError):
    """The answers or the policy do not fit the questionnaire."""


@dataclass(frozen=True)
class RiskRules:
    """An authority's reading of a questionnaire, detached from the database."""

    bands: Sequence[tuple[int, str]]  # (min_yes, level), any order
    escalation_min_incidents: int | None = 3
    escalation_min_crimes: int | None = None
    honour_based_abuse_refers: bool = False

    def __post_init__(self) -> None:
        levels = [level for _, level in self.bands]
        if not self.bands or len(set(levels)) != len(levels):
            raise RiskInputError("Risk bands need one row per level.")
        if min(min_yes for min_yes, _ in self.bands) != 0:
            raise RiskInputError("The lowest risk band must start at 0 'yes' answers.")

    @property
    def high_risk_min_yes(self) -> int | None:
        return next((m for m, level in self.bands if level == RiskLevel.HIGH), None)


@dataclass(frozen=True)
class RiskResult:
    yes_count: int
    not_known_count: int
    actuarial_level: str
    final_level: str
    grounds: tuple[str, ...]

    @property
    def marac_recommended(self) -> bool:
        return bool(self.grounds)


def level_max(*levels: str) -> str:
    return max(levels, key=lambda level: RISK_RANK[level])


def actuarial_level(yes_count: int, rules: RiskRules) -> str:
    """The level of the highest band whose minimum the count reaches."""
    reached = [(m, level) for m, level in rules.bands if yes_count >= m]
    return max(reached)[1]


def risk_evaluate(
    *,
    answers: Mapping[int, str],
    question_numbers: Sequence[int],
    rules: RiskRules,
    professional_judgement_level: str = "",
    incidents_in_window: int | None = None,
    crimes_in_window: int | None = None,
    repeat_within_window: bool = False,
    honour_based_abuse: bool = False,
) -> RiskResult:
    """Score one set of answers (question number → yes/no/not known) against the rules."""
    missing = sorted(set(question_numbers) - set(answers))
    unknown = sorted(set(answers) - set(question_numbers))
    if missing or unknown:
        raise RiskInputError(
            f"Answers do not fit the questionnaire: missing {missing}, unknown {unknown}."
        )
    bad = {n: a for n, a in answers.items() if a not in RiskAnswerValue.values}
    if bad:
        raise RiskInputError(f"Answers must be yes, no or not known: {sorted(bad)}.")
    if professional_judgement_level and professional_judgement_level not in RISK_RANK:
        raise RiskInputError("Unknown professional judgement level.")

    yes_count = sum(1 for a in answers.values() if a == RiskAnswerValue.YES)
    not_known_count = sum(1 for a in answers.values() if a == RiskAnswerValue.NOT_KNOWN)
    scored = actuarial_level(yes_count, rules)
    grounds: list[str] = []
    if scored == RiskLevel.HIGH:
        grounds.append(MaracGround.VISIBLE_HIGH_RISK)
    if professional_judgement_level == RiskLevel.HIGH and scored != RiskLevel.HIGH:
        grounds.append(MaracGround.PROFESSIONAL_JUDGEMENT)
    if _escalated(rules, incidents_in_window, crimes_in_window):
        grounds.append(MaracGround.ESCALATION)
    if repeat_within_window:
        grounds.append(MaracGround.REPEAT)
    if honour_based_abuse and rules.honour_based_abuse_refers:
        grounds.append(MaracGround.HONOUR_BASED_ABUSE)

    # Judgement only ever raises: the higher of the two stands.
    final = level_max(scored, professional_judgement_level or scored)
    if grounds:
        final = RiskLevel.HIGH
    return RiskResult(
        yes_count=yes_count,
        not_known_count=not_known_count,
        actuarial_level=scored,
        final_level=final,
        grounds=tuple(grounds),
    )


def level_from_score(score: int | None, rules: RiskRules) -> str:
    """The level a referrer's reported DASH score implies (no answers to hand)."""
    if score is None:
        return RiskLevel.NOT_ASSESSED
    return actuarial_level(score, rules)


def _escalated(rules: RiskRules, incidents: int | None, crimes: int | None) -> bool:
    min_incidents = rules.escalation_min_incidents
    if min_incidents is not None and incidents is not None and incidents >= min_incidents:
        return True
    if rules.escalation_min_crimes is not None and crimes is not None:
        return crimes >= rules.escalation_min_crimes
    return False
