"""Which steps a job offers now: the job page shows only these, and a step's page refuses (back to
the job, with a message) when its job is not in a state for it. Reads only; the services still
decide, under a lock, whether a step goes through.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from safer.accounts.roles import Role
from security_works.models import (
    CLOSED_STATUSES,
    FIRE_SAFETY_CHECK_STATUSES,
    OPEN_STATUSES,
    TRANSITIONS,
    VARIATION_STATUSES,
    JobStatus,
    SecurityJob,
)

# Who records the work. A provider manager oversees but does not record.
WORK_ROLES = frozenset({Role.CONTRACTOR, Role.SPA_TRIAGE, Role.SPA_MANAGER})
# Steps that change the clocks or close the job are the SPA's: a contractor cannot pause its own
# targets or close its own job.
SPA_ONLY = frozenset({Role.SPA_TRIAGE, Role.SPA_MANAGER})


def _moves_to(target: JobStatus) -> frozenset[JobStatus]:
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


@dataclass(frozen=True)
class Step:
    name: str  # the URL name in security_works.urls
    roles: frozenset[str]
    statuses: frozenset[JobStatus]
    words: str  # "… cannot be <words> now"


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step("book-survey", WORK_ROLES, _moves_to(JobStatus.SURVEY_BOOKED), "booked for survey"),
        Step("record-survey", WORK_ROLES, _moves_to(JobStatus.SURVEYED), "recorded as surveyed"),
        Step(
            "fire-safety-check",
            WORK_ROLES,
            FIRE_SAFETY_CHECK_STATUSES,
            "given a fire-safety check",
        ),
        Step(
            "landlord-consent",
            WORK_ROLES,
            frozenset({JobStatus.AWAITING_LANDLORD_CONSENT}),
            "given the landlord's answer",
        ),
        Step("variation", WORK_ROLES, VARIATION_STATUSES, "varied"),
        Step(
            "book-installation",
            WORK_ROLES,
            _moves_to(JobStatus.INSTALLATION_BOOKED),
            "booked for installation",
        ),
        Step(
            "record-installation",
            WORK_ROLES,
            _moves_to(JobStatus.INSTALLED),
            "recorded as installed",
        ),
        Step(
            "post-installation-check",
            WORK_ROLES,
            _moves_to(JobStatus.CHECKED),
            "given its post-installation check",
        ),
        Step("document-upload", WORK_ROLES, frozenset(OPEN_STATUSES), "given a photo or document"),
        Step("access-notes", SPA_ONLY, frozenset(OPEN_STATUSES), "given access notes"),
        Step("hold", SPA_ONLY, _moves_to(JobStatus.ON_HOLD), "put on hold"),
        Step("resume", SPA_ONLY, frozenset({JobStatus.ON_HOLD}), "resumed"),
        Step("complete", SPA_ONLY, _moves_to(JobStatus.COMPLETED), "completed"),
        Step("cancel", SPA_ONLY, _moves_to(JobStatus.CANCELLED), "cancelled"),
    )
}


def step_refusal(job: SecurityJob, step_name: str) -> str | None:
    """Why the job's step page cannot be used now (None: it can)."""
    step = STEPS[step_name]
    if job.status in step.statuses:
        return None
    if job.status in CLOSED_STATUSES:
        return f"This job is {job.get_status_display().lower()}: nothing more can be done on it."
    return f"This job is {job.get_status_display().lower()}: it cannot be {step.words} now."


@dataclass(frozen=True)
class Action:
    label: str
    url: str
    style: str = "secondary"  # "primary", "secondary" or "warning"


# The job page's buttons, in the order the work goes: (step, label, primary when).
_LABELS: tuple[tuple[str, str], ...] = (
    ("book-survey", "Book the survey"),
    ("record-survey", "Record the survey"),
    ("fire-safety-check", "Record a fire-safety check"),
    ("landlord-consent", "Record the landlord's answer"),
    ("variation", "Ask for a variation"),
    ("book-installation", "Book the installation"),
    ("record-installation", "Record the installation"),
    ("post-installation-check", "Record the post-installation check"),
    ("complete", "Complete the job"),
    ("document-upload", "Upload a photo or document"),
    ("access-notes", "Access and hazard notes"),
    ("resume", "Resume"),
    ("hold", "Put on hold"),
    ("cancel", "Cancel the job"),
)
_NEXT_STEP: dict[JobStatus, str] = {
    JobStatus.ALLOCATED: "book-survey",
    JobStatus.SURVEY_BOOKED: "record-survey",
    JobStatus.AWAITING_LANDLORD_CONSENT: "landlord-consent",
    JobStatus.SURVEYED: "book-installation",
    JobStatus.INSTALLATION_BOOKED: "record-installation",
    JobStatus.INSTALLED: "post-installation-check",
    JobStatus.CHECKED: "complete",
    JobStatus.ON_HOLD: "resume",
}


def job_actions(
    job: SecurityJob, *, roles: set[str] | frozenset[str], fire_safety_check_due: bool
) -> list[Action]:
    """The steps this user may take on the job now, the next one first and marked primary.

    ``fire_safety_check_due``: the works affect a means of escape and no passing check is the
    latest, so the check is offered (and is the next step) rather than hidden among the others.
    """
    actions: list[Action] = []
    primary = _NEXT_STEP.get(JobStatus(job.status))
    if fire_safety_check_due and job.status in FIRE_SAFETY_CHECK_STATUSES:
        primary = "fire-safety-check"
    for name, label in _LABELS:
        step = STEPS[name]
        if not (roles & step.roles) or job.status not in step.statuses:
            continue
        if name == "fire-safety-check" and not fire_safety_check_due:
            continue
        if name == "record-survey" and job.status != JobStatus.SURVEY_BOOKED:
            label = "Revise the survey"
        if name == "book-survey" and job.status == JobStatus.SURVEY_BOOKED:
            label = "Re-book the survey"
        if name == "book-installation" and job.status == JobStatus.INSTALLATION_BOOKED:
            label = "Re-book the installation"
        style = "primary" if name == primary else "secondary"
        if name == "cancel":
            style = "warning"
        url = reverse(f"security_works:{name}", kwargs={"job_id": job.pk})
        actions.append(Action(label, url, style))
    actions.sort(key=lambda a: a.style != "primary")
    return actions
