"""What support tells retention and subject access about adult and CYP cases
(``safer.dataprotection``).

A closed case's period runs from its closure; a CYP case is also a child's record, kept until the
child reaches the age in the authority's rule (25 by default); an open case keeps the case file.
The notes, plans and the child's own words are blanked; outcome scores and codes stay (the
returns and KPIs are built from them).
"""

from __future__ import annotations

from django.utils import timezone

from safer.casefile.models import CaseFile, HouseholdRole, Person
from safer.dataprotection.casefile import MAY_NAME_OTHERS
from safer.dataprotection.models import RecordType
from safer.dataprotection.registry import (
    Anchor,
    ErasableModel,
    SarGroup,
    SarSection,
    retention_anchor_source_register,
    retention_erasable_register,
    subject_access_section_register,
)
from support.models import (
    AdultSupportCase,
    ContactAttempt,
    CypCase,
    CypSession,
    ExitPlan,
    GboGoal,
    Handover,
    NeedsAssessment,
    NeedsAssessmentItem,
    SafeguardingConcern,
    SafetyPlan,
    SessionLog,
    SupportAction,
    SupportGoal,
    VoiceOfChild,
)
from support.models.cases import CLOSED


def support_anchors(case_file: CaseFile) -> list[Anchor]:
    anchors = []
    for case in AdultSupportCase.objects.filter(case_file=case_file).only("status", "closed_at"):
        if case.status == CLOSED and case.closed_at is not None:
            anchors.append(Anchor(RecordType.CLOSED_CASE, timezone.localdate(case.closed_at)))
        else:
            anchors.append(Anchor(RecordType.CLOSED_CASE, None))
    cyp_cases = CypCase.objects.filter(case_file=case_file).select_related("child")
    for cyp in cyp_cases.only("status", "closed_at", "child__date_of_birth"):
        if cyp.status != CLOSED or cyp.closed_at is None:
            anchors.append(Anchor(RecordType.CHILD_RECORD, None))
            continue
        anchors.append(Anchor(RecordType.CLOSED_CASE, timezone.localdate(cyp.closed_at)))
        if cyp.child.date_of_birth is not None:
            anchors.append(Anchor(RecordType.CHILD_RECORD, cyp.child.date_of_birth))
    return anchors


def _both(
    label: str, model: type, suffix: str, blank: tuple[str, ...]
) -> tuple[ErasableModel, ...]:
    """A record that belongs to an adult case or a CYP case: one entry for each path."""
    return (
        ErasableModel(label, model, f"adult_case__{suffix}", blank=blank, order=40),
        ErasableModel(label, model, f"cyp_case__{suffix}", blank=blank, order=40),
    )


ERASABLE = (
    ErasableModel(
        "Adult support cases",
        AdultSupportCase,
        "case_file",
        blank=("closure_note", "exit_measures_missing_reason"),
        order=40,
    ),
    ErasableModel(
        "CYP cases",
        CypCase,
        "case_file",
        blank=("closure_note", "exit_measures_missing_reason", "referral_note"),
        order=40,
    ),
    ErasableModel(
        "Needs assessments", NeedsAssessment, "adult_case__case_file", blank=("summary",), order=40
    ),
    ErasableModel(
        "Needs assessments",
        NeedsAssessmentItem,
        "assessment__adult_case__case_file",
        blank=("note",),
        order=40,
    ),
    ErasableModel("Safety plans", SafetyPlan, "adult_case__case_file", blank=("plan",), order=40),
    ErasableModel(
        "Support goals", SupportGoal, "adult_case__case_file", blank=("description",), order=40
    ),
    ErasableModel(
        "Support goals",
        SupportAction,
        "goal__adult_case__case_file",
        blank=("description", "responsible"),
        order=40,
    ),
    ErasableModel("Session notes", SessionLog, "adult_case__case_file", blank=("note",), order=40),
    *_both(
        "Support contact attempts", ContactAttempt, "case_file", ("note", "unsafe_channel_reason")
    ),
    *_both("Handovers", Handover, "case_file", ("note",)),
    ErasableModel("Session notes", CypSession, "cyp_case__case_file", blank=("note",), order=40),
    ErasableModel("Exit plans", ExitPlan, "cyp_case__case_file", blank=("plan",), order=40),
    ErasableModel("GBO goals", GboGoal, "cyp_case__case_file", blank=("description",), order=40),
    ErasableModel(
        "Children's feedback",
        VoiceOfChild,
        "cyp_case__case_file",
        blank=("what_helped", "what_could_be_better", "in_their_words"),
        order=40,
    ),
    ErasableModel(
        "Safeguarding concerns",
        SafeguardingConcern,
        "cyp_case__case_file",
        blank=("details", "immediate_action", "social_care_outcome"),
        order=40,
    ),
)


def _support_section(case_file: CaseFile, person: Person) -> list[SarGroup]:
    groups = []
    if person.household_role == HouseholdRole.SURVIVOR:
        for case in AdultSupportCase.objects.filter(case_file=case_file, survivor=person):
            group = SarGroup(title=f"Adult support case {case.reference}")
            group.add("Status", case.get_status_display())
            group.add("Opened", case.opened_at)
            group.add("Closed", case.closed_at)
            group.add("Closure note", case.closure_note, redact=MAY_NAME_OTHERS)
            for plan in case.safety_plans.order_by("agreed_on"):
                group.add(
                    f"Safety plan of {plan.agreed_on:%d %B %Y}", plan.plan, redact=MAY_NAME_OTHERS
                )
            for goal in case.support_goals.order_by("created_on"):
                group.add("Goal", goal.description)
            for session in case.sessions.order_by("occurred_on"):
                group.add(
                    f"Session on {session.occurred_on:%d %B %Y}",
                    session.note,
                    redact=MAY_NAME_OTHERS,
                )
            groups.append(group)
    for cyp in CypCase.objects.filter(case_file=case_file, child=person):
        group = SarGroup(title=f"Children and young people's case {cyp.reference}")
        group.add("Status", cyp.get_status_display())
        group.add("Opened", cyp.opened_at)
        group.add("Closed", cyp.closed_at)
        for goal in cyp.gbo_goals.order_by("number"):
            group.add("Goal", goal.description)
        for cyp_session in cyp.sessions.order_by("occurred_on"):
            group.add(
                f"Session on {cyp_session.occurred_on:%d %B %Y}",
                cyp_session.note,
                redact=MAY_NAME_OTHERS,
            )
        for feedback in cyp.feedback.order_by("collected_on"):
            group.add("In your words", feedback.in_their_words)
        groups.append(group)
    return groups


def register() -> None:
    retention_anchor_source_register(support_anchors)
    retention_erasable_register(*ERASABLE)
    subject_access_section_register(SarSection(title="Support", build=_support_section, order=40))
