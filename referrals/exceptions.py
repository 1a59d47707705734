"""Domain errors of the SPA. Views turn them into clear messages (and the API into 409s)."""

from __future__ import annotations

from safer.transitions import InvalidTransition as CoreInvalidTransition


class ReferralError(Exception):
    """A referral cannot be changed as asked; ``message`` is safe to show to staff. ``field``
    names the form field at fault, when one is, so a form can show the error against it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(ReferralError, CoreInvalidTransition):
    """The referral is not in a state that allows this decision (someone may have got there
    first)."""

    subject = "referral"


class ReferralRejected(ReferralError):
    """A submission the service will not store (no consent, an address outside the scheme)."""


class UnsafeContact(ReferralError):
    """The safe-contact rules warn against this contact: the worker must read the warning and
    give a reason before going ahead."""
