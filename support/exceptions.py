"""Domain errors of support casework. Views show ``message``; an API maps them to 409 / 400."""

from __future__ import annotations

from collections.abc import Iterable

from safer.transitions import InvalidTransition as CoreInvalidTransition


class SupportError(Exception):
    """A case cannot be changed as asked; ``message`` is safe to show to staff. ``field`` names
    the form field the message belongs to, when there is one (the form shows it there)."""

    field: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(SupportError, CoreInvalidTransition):
    """The case is not in a state that allows this step (someone may have got there first)."""

    subject = "case"

    def __init__(self, *, current: str, attempted: str, allowed: Iterable[str] = ()) -> None:
        CoreInvalidTransition.__init__(self, current=current, attempted=attempted, allowed=allowed)


class UnsafeChannel(SupportError):
    """The contact channel is not marked safe: the worker must be warned before going ahead."""


class InvalidRecord(SupportError):
    """What was entered cannot be accepted (a fourth GBO goal, an end score before a start)."""


class ExitMeasuresMissing(InvalidRecord):
    """A planned ending without its exit measures, and no reason given why they are missing."""

    field = "exit_measures_missing_reason"

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = list(missing)
        super().__init__(
            "This is a planned ending, so first record "
            + "; ".join(self.missing)
            + ". If they cannot be recorded, say why in "
            "“Why the exit measures are not recorded”."
        )
