"""Domain errors of support casework. Views show ``message``; an API maps them to 409 / 400."""

from __future__ import annotations

from collections.abc import Iterable

from safer.transitions import InvalidTransition as CoreInvalidTransition


class SupportError(Exception):
    """A case cannot be changed as asked; ``message`` is safe to show to staff."""

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
