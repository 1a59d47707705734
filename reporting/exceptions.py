"""Reporting's domain errors: each carries a message fit to show the user."""

from __future__ import annotations


class ReportingError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReportRequestError(ReportingError):
    """The request cannot be made as asked (wrong period for the kind, no template, …)."""
