"""Domain errors of security works. Views show ``message``; the API maps them to 409 / 400."""

from __future__ import annotations

from collections.abc import Iterable

from safer.transitions import InvalidTransition as CoreInvalidTransition


class SecurityWorksError(Exception):
    """A job cannot be changed as asked; ``message`` is safe to show to staff and contractors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(SecurityWorksError, CoreInvalidTransition):
    """The job is not in a state that allows this step (someone may have got there first)."""

    subject = "job"

    def __init__(self, *, current: str, attempted: str, allowed: Iterable[str]) -> None:
        CoreInvalidTransition.__init__(self, current=current, attempted=attempted, allowed=allowed)


class StepBlocked(SecurityWorksError):
    """The state allows the step, but something it needs is missing (consent, an approval, a
    fire-safety check)."""


class InvalidWorks(SecurityWorksError):
    """What was entered cannot be accepted (no measures, a measure outside the approved works)."""


class UnsafeContact(SecurityWorksError):
    """The survivor's safe-contact rules warn against how or when the visit was arranged: the
    contractor reads the warnings and gives a reason before going ahead."""
