"""Every app's refused transition is one core exception with one message shape."""

from __future__ import annotations

import pytest

from referrals.exceptions import InvalidTransition as ReferralInvalidTransition
from referrals.exceptions import ReferralError
from safer.transitions import InvalidTransition
from security_works.exceptions import InvalidTransition as JobInvalidTransition
from security_works.exceptions import SecurityWorksError
from support.exceptions import InvalidTransition as CaseInvalidTransition
from support.exceptions import SupportError


def test_job_refusal_names_the_states_allowed_from_here() -> None:
    error = JobInvalidTransition(
        current="Surveyed", attempted="completed", allowed=["Installed", "On hold"]
    )
    assert isinstance(error, InvalidTransition)
    assert isinstance(error, SecurityWorksError)
    assert error.message == (
        "This job is surveyed, so it cannot be completed. "
        "From here it can go to: installed, on hold."
    )
    # The API's 409 lists the states as the service named them, not lower-cased.
    assert error.allowed == ("Installed", "On hold")


def test_case_refusal_from_a_closed_state_says_nothing_is_allowed() -> None:
    error = CaseInvalidTransition(current="Closed", attempted="allocated")
    assert isinstance(error, SupportError)
    assert str(error) == (
        "This case is closed, so it cannot be allocated. "
        "From here it can go to: nothing (the case is closed)."
    )


def test_referral_refusal_keeps_its_own_message() -> None:
    error = ReferralInvalidTransition("Someone has already decided about this possible match.")
    assert isinstance(error, ReferralError)
    assert error.message == "Someone has already decided about this possible match."


@pytest.mark.parametrize(
    "error",
    [
        JobInvalidTransition(current="Open", attempted="closed", allowed=[]),
        CaseInvalidTransition(current="Open", attempted="closed"),
        ReferralInvalidTransition("Decided already."),
    ],
)
def test_one_except_catches_a_refusal_from_any_app(error: Exception) -> None:
    with pytest.raises(InvalidTransition):
        raise error
