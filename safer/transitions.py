"""The one shape of a refused state change, shared by every app's transition services.

Each app subclasses :class:`InvalidTransition` alongside its own error base, so a view catches
its app's error family while cross-cutting code (the API's 409 mapping, tests) can catch a
refused transition from any app with one ``except``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar


class InvalidTransition(Exception):
    """The record is not in a state that allows this step (someone may have got there first).

    Raise it either with a ready message, or with the current state, the attempted step and the
    states allowed from here, from which a message safe to show to staff is written.
    """

    subject: ClassVar[str] = "record"

    def __init__(
        self,
        message: str | None = None,
        *,
        current: str = "",
        attempted: str = "",
        allowed: Iterable[str] = (),
    ) -> None:
        allowed_labels = tuple(sorted(str(label) for label in allowed))
        if message is None:
            options = ", ".join(allowed_labels) if allowed_labels else None
            message = (
                f"This {self.subject} is {current.lower()}, so it cannot be {attempted}. "
                f"From here it can go to: "
                f"{options.lower() if options else f'nothing (the {self.subject} is closed)'}."
            )
        super().__init__(message)
        self.message = message
        self.current = current
        self.attempted = attempted
        self.allowed = allowed_labels
