"""Domain errors of security works. Views show ``message``; the API maps them to 409 / 400."""

from __future__ import annotations

from collections.abc import Iterable


class SecurityWorksError(Exception):
    """A job cannot be changed as asked; ``message`` is safe to show to staff and contractors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(SecurityWorksError):
    """The job is not in a state that allows this step (someone may have got there first)."""

    def __init__(self, *, current: str, attempted: str, allowed: Iterable[str]) -> None:
        allowed_labels = sorted(allowed)
        options = ", ".join(allowed_labels) if allowed_labels else "nothing (the job is closed)"
        super().__init__(
            f"This job is {current.lower()}, so it cannot be {attempted}. "
            f"From here it can go to: {options.lower()}."
        )
        self.current = current
        self.attempted = attempted
        self.allowed = tuple(allowed_labels)


class StepBlocked(SecurityWorksError):
    """The state allows the step, but something it needs is missing (consent, an approval, a
    fire-safety check)."""


class InvalidWorks(SecurityWorksError):
    """What was entered cannot be accepted (no measures, a measure outside the approved works)."""
