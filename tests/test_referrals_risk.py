"""DASH RIC scoring, per-authority thresholds, escalation, and MARAC reusing the answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from referrals.exceptions import ReferralError
from referrals.models import (
    MaracGround,
    RiskAnswer,
    RiskBand,
    RiskLevel,
    RiskPolicy,
    RiskQuestion,
)
from referrals.risk import RiskInputError, RiskRules, level_from_score, risk_evaluate
from referrals.services import marac_referral_record, risk_assessment_record
from referrals.services.risk_policy import risk_questionnaire_current, risk_rules_for
from safer.accounts.roles import Role
from tests.referrals_support import geography, make_referral, staff

NUMBERS = list(range(1, 25))
DEFAULT = RiskRules(bands=[(0, "standard"), (10, "medium"), (14, "high")])


def answers(yes: int, not_known: int = 0) -> dict[int, str]:
    values = ["yes"] * yes + ["not_known"] * not_known
    values += ["no"] * (24 - len(values))
    return dict(zip(NUMBERS, values, strict=True))


@pytest.mark.parametrize(
    ("yes", "level"),
    [(0, "standard"), (9, "standard"), (10, "medium"), (13, "medium"), (14, "high"), (24, "high")],
)
def test_bands_from_the_number_of_yes_answers(yes: int, level: str) -> None:
    result = risk_evaluate(answers=answers(yes), question_numbers=NUMBERS, rules=DEFAULT)
    assert result.yes_count == yes
    assert result.actuarial_level == result.final_level == level
    assert result.marac_recommended is (level == "high")


def test_not_known_answers_are_counted_but_do_not_score() -> None:
    result = risk_evaluate(
        answers=answers(13, not_known=5), question_numbers=NUMBERS, rules=DEFAULT
    )
    assert (result.yes_count, result.not_known_count) == (13, 5)
    assert result.final_level == RiskLevel.MEDIUM


def test_fourteen_yes_is_visible_high_risk() -> None:
    result = risk_evaluate(answers=answers(14), question_numbers=NUMBERS, rules=DEFAULT)
    assert result.grounds == (MaracGround.VISIBLE_HIGH_RISK,)


def test_professional_judgement_raises_the_level_as_a_separate_ground() -> None:
    result = risk_evaluate(
        answers=answers(6),
        question_numbers=NUMBERS,
        rules=DEFAULT,
        professional_judgement_level=RiskLevel.HIGH,
    )
    assert result.actuarial_level == RiskLevel.STANDARD
    assert result.final_level == RiskLevel.HIGH
    assert result.grounds == (MaracGround.PROFESSIONAL_JUDGEMENT,)


def test_professional_judgement_never_lowers_the_score() -> None:
    result = risk_evaluate(
        answers=answers(15),
        question_numbers=NUMBERS,
        rules=DEFAULT,
        professional_judgement_level=RiskLevel.STANDARD,
    )
    assert result.final_level == RiskLevel.HIGH


def test_escalation_is_a_separate_high_risk_ground_with_a_configurable_threshold() -> None:
    below = risk_evaluate(
        answers=answers(3), question_numbers=NUMBERS, rules=DEFAULT, incidents_in_window=2
    )
    at = risk_evaluate(
        answers=answers(3), question_numbers=NUMBERS, rules=DEFAULT, incidents_in_window=3
    )
    assert below.final_level == RiskLevel.STANDARD
    assert not below.grounds
    assert at.final_level == RiskLevel.HIGH
    assert at.grounds == (MaracGround.ESCALATION,)
    stricter = RiskRules(bands=DEFAULT.bands, escalation_min_incidents=5, escalation_min_crimes=3)
    assert not risk_evaluate(
        answers=answers(3), question_numbers=NUMBERS, rules=stricter, incidents_in_window=4
    ).grounds
    assert risk_evaluate(
        answers=answers(3),
        question_numbers=NUMBERS,
        rules=stricter,
        incidents_in_window=1,
        crimes_in_window=3,
    ).grounds == (MaracGround.ESCALATION,)


def test_repeat_and_honour_based_abuse_grounds() -> None:
    repeat = risk_evaluate(
        answers=answers(2), question_numbers=NUMBERS, rules=DEFAULT, repeat_within_window=True
    )
    assert repeat.grounds == (MaracGround.REPEAT,)
    assert repeat.final_level == RiskLevel.HIGH
    # Honour-based abuse refers only where the area's policy says so.
    assert not risk_evaluate(
        answers=answers(2), question_numbers=NUMBERS, rules=DEFAULT, honour_based_abuse=True
    ).grounds
    auto = RiskRules(bands=DEFAULT.bands, honour_based_abuse_refers=True)
    assert risk_evaluate(
        answers=answers(2), question_numbers=NUMBERS, rules=auto, honour_based_abuse=True
    ).grounds == (MaracGround.HONOUR_BASED_ABUSE,)


def test_answers_must_fit_the_questionnaire() -> None:
    with pytest.raises(RiskInputError, match="missing"):
        risk_evaluate(answers={1: "yes"}, question_numbers=NUMBERS, rules=DEFAULT)
    with pytest.raises(RiskInputError, match="yes, no or not known"):
        risk_evaluate(answers={**answers(0), 3: "maybe"}, question_numbers=NUMBERS, rules=DEFAULT)
    with pytest.raises(RiskInputError):
        RiskRules(bands=[(1, "standard"), (14, "high")])


@pytest.mark.django_db
def test_dash_is_seeded_as_versioned_data_with_24_questions_and_default_bands() -> None:
    geography()
    questionnaire = risk_questionnaire_current()
    assert questionnaire is not None
    assert questionnaire.version == 1
    assert RiskQuestion.objects.filter(questionnaire=questionnaire).count() == 24
    rules = risk_rules_for(authority_id=None)
    assert rules is not None
    assert rules.high_risk_min_yes == 14


@pytest.mark.django_db
def test_thresholds_are_per_authority() -> None:
    districts = geography()
    medway = districts["medway"].authority
    questionnaire = risk_questionnaire_current()
    assert questionnaire is not None
    policy = RiskPolicy.objects.create(
        questionnaire=questionnaire, authority=medway, escalation_min_incidents=5
    )
    RiskBand.objects.bulk_create(
        [
            RiskBand(policy=policy, level="standard", min_yes=0),
            RiskBand(policy=policy, level="medium", min_yes=8),
            RiskBand(policy=policy, level="high", min_yes=12),
        ]
    )
    medway_rules = risk_rules_for(authority_id=medway.pk)
    kent_rules = risk_rules_for(authority_id=districts["maidstone"].authority_id)
    assert medway_rules is not None
    assert kent_rules is not None
    assert level_from_score(12, medway_rules) == RiskLevel.HIGH
    assert level_from_score(12, kent_rules) == RiskLevel.MEDIUM
    assert make_referral(district="medway", postcode="ME4 4AA", dash_score=12).risk_level == "high"
    assert make_referral(dash_score=12).risk_level == "medium"


@pytest.mark.django_db
def test_assessment_at_triage_and_marac_reuses_its_answers() -> None:
    worker = staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)
    referral = make_referral(dash_score=4)
    today = timezone.localdate()
    with pytest.raises(ReferralError, match="never lower"):
        risk_assessment_record(
            referral=referral,
            user=worker,
            answers=answers(15),
            completed_on=today,
            professional_judgement_level=RiskLevel.MEDIUM,
            professional_judgement_reason="x",
        )
    assessment = risk_assessment_record(
        referral=referral, user=worker, answers=answers(15), completed_on=today
    )
    referral.refresh_from_db()
    assert referral.risk_level == RiskLevel.HIGH
    assert assessment.yes_count == 15
    assert assessment.marac_grounds == ["visible_high_risk"]
    assert RiskAnswer.objects.filter(assessment=assessment).count() == 24
    marac = marac_referral_record(
        referral=referral,
        user=worker,
        assessment=assessment,
        area="Maidstone MARAC",
        referred_on=today - dt.timedelta(days=1),
    )
    # The MARAC record points at the assessment's answers; nothing is asked or copied again.
    assert marac.assessment == assessment
    assert marac.grounds == assessment.marac_grounds
    assert list(marac.assessment.answers.values_list("answer", flat=True)).count("yes") == 15
    # A new incident within a year of that MARAC referral is a repeat ground.
    again = risk_assessment_record(
        referral=referral, user=worker, answers=answers(3), completed_on=today
    )
    assert again.marac_grounds == ["repeat"]
    assert again.final_level == RiskLevel.HIGH


@pytest.mark.django_db
def test_marac_page_shows_the_dash_answers_instead_of_asking_again(client: Any) -> None:
    from django.urls import reverse

    from tests.helpers import sign_in

    worker = staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)
    referral = make_referral()
    sign_in(client, worker)
    form = {f"q{n}": "yes" if n <= 14 else "no" for n in NUMBERS}
    form.update({"completed_on_0": "6", "completed_on_1": "1", "completed_on_2": "2026"})
    response = client.post(reverse("referrals:risk", kwargs={"referral_id": referral.id}), form)
    assert response.status_code == 302
    page = client.get(reverse("referrals:marac", kwargs={"referral_id": referral.id}))
    content = page.content.decode()
    assert "Has the current incident resulted in injury?" in content
    assert 'name="q1"' not in content  # shown, not asked
    response = client.post(
        reverse("referrals:marac", kwargs={"referral_id": referral.id}),
        {
            "area": "Maidstone MARAC",
            "referred_on_0": "7",
            "referred_on_1": "1",
            "referred_on_2": "2026",
        },
    )
    assert response.status_code == 302
    assert referral.marac_referrals.get().grounds == ["visible_high_risk"]
