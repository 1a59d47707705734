"""Domain errors of support casework. Views show ``message``; an API maps them to 409 / 400."""

from __future__ import annotations

from collections.abc import Iterable


class SupportError(Exception):
    """A case cannot be changed as asked; ``message`` is safe to show to staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(SupportError):
    """The case is not in a state that allows this step (someone may have got there first)."""

    def __init__(self, *, current: str, attempted: str, allowed: Iterable[str] = ()) -> None:
        labels = sorted(str(label).lower() for label in allowed)
        options = ", ".join(labels) if labels else "nothing (the case is closed)"
        super().__init__(
            f"This case is {current.lower()}, so it cannot be {attempted}. "
            f"From here it can go to: {options}."
        )
        self.current = current
        self.attempted = attempted
        self.allowed = tuple(labels)


class UnsafeChannel(SupportError):
    """The contact channel is not marked safe: the worker must be warned before going ahead."""


class InvalidRecord(SupportError):
    """What was entered cannot be accepted (a fourth GBO goal, an end score before a start)."""
