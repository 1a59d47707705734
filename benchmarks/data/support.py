"""Adult and CYP support cases with their contacts, sessions, goals, outcome measures and GBO
scores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from benchmarks.data.base import (
    ADULT,
    CYP,
    LOCAL_TZ,
    REFUGE,
    BuilderBase,
    _bulk,
    _Household,
    at_local,
)
from safer import workdays
from safer.accounts.models import User
from safer.casefile.models import (
    ContactChannel,
)
from safer.demo import EAST_KENT
from support.models import (
    AbuseStatus,
    AbuseType,
    AdultStatus,
    AdultSupportCase,
    ContactAttempt,
    ContactOutcome,
    CypCase,
    CypSession,
    CypSource,
    CypStatus,
    ExitOutcome,
    ExitPlan,
    FeedbackMethod,
    GboGoal,
    GboScore,
    GboTimePoint,
    GoalStatus,
    NeedLevel,
    NeedsAssessment,
    NeedsAssessmentItem,
    OutcomeMeasure,
    RatedBy,
    SafeAccommodationType,
    SafeguardingConcern,
    SafetyPlan,
    ServiceFunction,
    SessionLog,
    SessionMode,
    SupportAction,
    SupportGoal,
    TimePoint,
    VoiceOfChild,
)
from support.models.cyp import ConcernCategory


class SupportWriter(BuilderBase):
    # --- Adult support ----------------------------------------------------------------------

    def _team_for(self, h: _Household) -> str:
        if h.district.code == "medway":
            return "medway_adults"
        return "east_adults" if h.district.code in EAST_KENT else "west_adults"

    def adult_cases(self, households: list[_Household]) -> None:
        rng = self.rng
        provider = self.orgs[ADULT]
        rows: dict[str, list[Any]] = {
            k: []
            for k in (
                "cases",
                "attempts",
                "sessions",
                "outcomes",
                "goals",
                "actions",
                "plans",
                "assessments",
                "items",
            )
        }
        open_east: list[AdultSupportCase] = []
        for h in households:
            r = h.referral
            if not r.route_adult_support or r.decided_at is None:
                continue
            team = self._team_for(h)
            opened = self.later(r.decided_at, 0, 1)
            case = AdultSupportCase(
                reference=f"AS-{opened.year}-B{h.index:05d}",
                case_file=h.case_file,
                household=h.case_file.household,
                authority=h.authority,
                provider=provider,
                team=self.teams[team],
                survivor=h.survivor,
                opened_at=opened,
                opened_by=r.decided_by,
            )
            allocated = self.later(opened, 1, 70)
            if not self.past(allocated):
                case.status = AdultStatus.AWAITING_ALLOCATION
                rows["cases"].append(case)
                h.services_open = True
                continue
            worker = rng.choice(self.workers[team])
            case.allocated_worker = worker
            case.allocated_at = allocated
            case.first_contact_due_on = workdays.due_date(workdays.local_date(allocated), 2)
            reached = rng.random() < 0.9
            contact = self.later(allocated, 1, 24 * (2.5 if rng.random() < 0.85 else 8))
            attempts = rng.randint(1, 3)
            for n in range(attempts):
                moment = allocated + (contact - allocated) * (n + 1) / attempts
                if not self.past(moment):
                    break
                last = n == attempts - 1
                rows["attempts"].append(
                    ContactAttempt(
                        adult_case=case,
                        attempted_at=moment,
                        channel=ContactChannel.PHONE,
                        outcome=ContactOutcome.CONTACTED
                        if last and reached
                        else rng.choice(
                            [ContactOutcome.NO_ANSWER, ContactOutcome.NOT_SAFE_TO_TALK]
                        ),
                        recorded_by=worker,
                        recorded_at=moment,
                    )
                )
            if reached and self.past(contact):
                case.first_contact_at = contact
                end = self.later(contact, 24 * 45, 24 * 200)
            else:
                end = self.later(allocated, 24 * 20, 24 * 40)
            if self.past(end):
                case.status = AdultStatus.CLOSED
                case.closed_at = end
                if case.first_contact_at:
                    code = rng.choices(
                        [
                            "no_longer_needed",
                            "moved_out_of_area",
                            "moved_other_accommodation",
                            "disengaged",
                            "declined",
                            "perpetrator_returned",
                            "other",
                        ],
                        [70, 6, 6, 8, 4, 3, 3],
                    )[0]
                    case.exit_outcome = (
                        rng.choice([ExitOutcome.PLANNED_GOALS_MET, ExitOutcome.PLANNED_PARTLY_MET])
                        if code == "no_longer_needed"
                        else ExitOutcome.UNPLANNED
                    )
                else:
                    code = "unable_to_contact"
                    case.exit_outcome = ExitOutcome.UNPLANNED
                case.closure_reason = self.closure_reasons[code]
                case.retention_until = end.date() + dt.timedelta(days=6 * 365)
                h.end = max(filter(None, [h.end, end]))
            else:
                case.status = AdultStatus.ACTIVE if case.first_contact_at else AdultStatus.ALLOCATED
                h.services_open = True
                if team == "east_adults":
                    open_east.append(case)
            if case.first_contact_at:
                self._adult_records(case, worker, rows)
            rows["cases"].append(case)
        # The caseload persona carries ~40 of the East Kent team's open cases.
        me = self.personas["adult_support_worker"]
        for case in open_east[-self.volume.caseload :]:
            case.allocated_worker = me
        _bulk(AdultSupportCase, rows["cases"])
        for key, model in (
            ("attempts", ContactAttempt),
            ("sessions", SessionLog),
            ("outcomes", OutcomeMeasure),
            ("goals", SupportGoal),
            ("actions", SupportAction),
            ("plans", SafetyPlan),
            ("assessments", NeedsAssessment),
            ("items", NeedsAssessmentItem),
        ):
            _bulk(model, rows[key])
        self.adult = rows["cases"]
        self.counts.update(
            adult_cases=len(rows["cases"]),
            adult_sessions=len(rows["sessions"]),
            contact_attempts=len(rows["attempts"]),
        )

    def _adult_records(
        self, case: AdultSupportCase, worker: User, rows: dict[str, list[Any]]
    ) -> None:
        rng = self.rng
        assert case.first_contact_at is not None
        start = case.first_contact_at
        stop = case.closed_at or self.now
        start_day = start.astimezone(LOCAL_TZ).date()
        moment = start
        while moment <= stop:
            rows["sessions"].append(
                SessionLog(
                    adult_case=case,
                    occurred_on=moment.astimezone(LOCAL_TZ).date(),
                    mode=rng.choice(
                        [SessionMode.PHONE, SessionMode.FACE_TO_FACE, SessionMode.VIDEO]
                    ),
                    duration_minutes=rng.choice([30, 45, 60, 90]),
                    recorded_by=worker,
                    recorded_at=moment,
                )
            )
            moment = self.later(moment, 24 * 7, 24 * 21)
        scores = [rng.randint(1, 6), rng.randint(2, 7), rng.randint(2, 7)]
        rows["outcomes"].append(
            OutcomeMeasure(
                adult_case=case,
                time_point=TimePoint.START,
                recorded_on=start_day,
                feeling_safe=scores[0],
                abuse_types=rng.sample(list(AbuseType.values), rng.randint(1, 3)),
                abuse_status=AbuseStatus.CONTINUING,
                dash_score=rng.randint(5, 20),
                quality_of_life=scores[1],
                confidence=scores[2],
                recorded_by=worker,
            )
        )
        if case.closed_at and rng.random() < 0.8:
            rows["outcomes"].append(
                OutcomeMeasure(
                    adult_case=case,
                    time_point=TimePoint.CLOSE,
                    recorded_on=case.closed_at.astimezone(LOCAL_TZ).date(),
                    feeling_safe=min(10, scores[0] + rng.randint(-1, 5)),
                    abuse_status=rng.choice([AbuseStatus.STOPPED, AbuseStatus.REDUCED]),
                    risk_reduced=rng.random() < 0.8,
                    quality_of_life=min(10, scores[1] + rng.randint(-1, 4)),
                    confidence=min(10, scores[2] + rng.randint(0, 4)),
                    recorded_by=worker,
                )
            )
        for area in rng.sample(self.need_areas, min(len(self.need_areas), rng.randint(1, 3))):
            goal = SupportGoal(
                adult_case=case,
                need_area=area,
                description=f"Support with {area.label.lower()}",
                status=GoalStatus.ACHIEVED if case.closed_at else GoalStatus.OPEN,
                created_on=start_day,
                created_by=worker,
            )
            rows["goals"].append(goal)
            due = start_day + dt.timedelta(days=rng.randint(7, 60))
            rows["actions"].append(
                SupportAction(
                    goal=goal,
                    description="Agree the next step",
                    responsible="Support worker",
                    due_on=due,
                    done_on=due if case.closed_at or rng.random() < 0.5 else None,
                )
            )
        rows["plans"].append(
            SafetyPlan(
                adult_case=case,
                agreed_on=start_day,
                plan="Agreed safety plan (bench data).",
                review_due_on=start_day + dt.timedelta(weeks=4),
                created_by=worker,
            )
        )
        assessment = NeedsAssessment(adult_case=case, assessed_on=start_day, assessed_by=worker)
        rows["assessments"].append(assessment)
        for area in rng.sample(self.need_areas, min(len(self.need_areas), 4)):
            rows["items"].append(
                NeedsAssessmentItem(
                    assessment=assessment,
                    area=area,
                    level=rng.choice([NeedLevel.LOW, NeedLevel.MEDIUM, NeedLevel.HIGH]),
                )
            )
        if not case.closed_at:
            case.review_due_on = start_day + dt.timedelta(weeks=12)

    # --- Children and young people ----------------------------------------------------------

    def cyp_cases(self, households: list[_Household]) -> None:
        rng = self.rng
        provider = self.orgs[CYP]
        workers = [self.personas["cyp_worker"], *self.workers["cyp"]]
        rows: dict[str, list[Any]] = {
            k: []
            for k in (
                "cases",
                "attempts",
                "sessions",
                "goals",
                "scores",
                "feedback",
                "plans",
                "concerns",
            )
        }
        for h in households:
            r = h.referral
            for child in h.children:
                if (r.pk, child.pk) not in self.routed_children or r.decided_at is None:
                    continue
                opened = self.later(r.decided_at, 0, 2)
                direct = rng.random() < 0.08
                case = CypCase(
                    reference=f"CY-{opened.year}-B{h.index:05d}{child.given_name[-1]}",
                    case_file=h.case_file,
                    household=h.case_file.household,
                    authority=h.authority,
                    provider=provider,
                    team=self.teams["cyp"],
                    child=child,
                    opened_at=opened,
                    opened_by=r.decided_by,
                    source=CypSource.DIRECT if direct else CypSource.SPA,
                    referring_organisation=self.orgs[REFUGE] if direct else None,
                    accommodation_type=rng.choice(
                        [SafeAccommodationType.REFUGE, SafeAccommodationType.DISPERSED]
                    )
                    if direct
                    else SafeAccommodationType.SANCTUARY,
                )
                rows["cases"].append(case)
                allocated = self.later(opened, 4, 24 * 6)
                if not self.past(allocated):
                    h.services_open = True
                    continue
                worker = rng.choice(workers)
                case.allocated_worker = worker
                case.allocated_at = allocated
                case.referral_reviewed_at = allocated
                case.referral_reviewed_by = worker
                case.first_contact_due_on = workdays.due_date(workdays.local_date(allocated), 5)
                contact = self.later(allocated, 4, 24 * (6 if rng.random() < 0.85 else 15))
                reached = rng.random() < 0.92
                if self.past(contact):
                    rows["attempts"].append(
                        ContactAttempt(
                            cyp_case=case,
                            attempted_at=contact,
                            channel=ContactChannel.PHONE,
                            outcome=ContactOutcome.CONTACTED
                            if reached
                            else ContactOutcome.NO_ANSWER,
                            recorded_by=worker,
                            recorded_at=contact,
                        )
                    )
                if reached and self.past(contact):
                    case.first_contact_at = contact
                    end = self.later(contact, 24 * 60, 24 * 240)
                else:
                    end = self.later(allocated, 24 * 25, 24 * 45)
                if self.past(end):
                    case.status = CypStatus.CLOSED
                    case.closed_at = end
                    code = rng.choices(
                        ["no_longer_needed", "moved_out_of_area", "disengaged", "declined"],
                        [75, 8, 10, 7],
                    )[0]
                    if not case.first_contact_at:
                        code = "unable_to_contact"
                    case.closure_reason = self.closure_reasons[code]
                    case.exit_outcome = (
                        ExitOutcome.PLANNED_GOALS_MET
                        if code == "no_longer_needed"
                        else ExitOutcome.UNPLANNED
                    )
                    case.retention_until = end.date() + dt.timedelta(days=6 * 365)
                    h.end = max(filter(None, [h.end, end]))
                else:
                    h.services_open = True
                    case.status = (
                        rng.choice([CypStatus.ENGAGEMENT, CypStatus.THERAPEUTIC])
                        if case.first_contact_at
                        else CypStatus.ALLOCATED
                    )
                if case.first_contact_at:
                    self._cyp_records(case, worker, rows)
        _bulk(CypCase, rows["cases"])
        for key, model in (
            ("attempts", ContactAttempt),
            ("sessions", CypSession),
            ("goals", GboGoal),
            ("scores", GboScore),
            ("feedback", VoiceOfChild),
            ("plans", ExitPlan),
            ("concerns", SafeguardingConcern),
        ):
            _bulk(model, rows[key])
        self.cyp = rows["cases"]
        self.counts.update(
            cyp_cases=len(rows["cases"]),
            cyp_sessions=len(rows["sessions"]),
            gbo_scores=len(rows["scores"]),
        )

    def _cyp_records(self, case: CypCase, worker: User, rows: dict[str, list[Any]]) -> None:
        rng = self.rng
        assert case.first_contact_at is not None
        start = case.first_contact_at
        stop = case.closed_at or self.now
        start_day = start.astimezone(LOCAL_TZ).date()
        moment = start
        while moment <= stop:
            rows["sessions"].append(
                CypSession(
                    cyp_case=case,
                    function=rng.choices(list(ServiceFunction.values), [2, 3, 5])[0],
                    occurred_on=moment.astimezone(LOCAL_TZ).date(),
                    mode=rng.choice([SessionMode.FACE_TO_FACE, SessionMode.SCHOOL]),
                    duration_minutes=rng.choice([30, 45, 60]),
                    recorded_by=worker,
                    recorded_at=moment,
                )
            )
            moment = self.later(moment, 24 * 7, 24 * 18)
        agreed = start_day + dt.timedelta(days=14)
        for number in range(1, rng.randint(1, 3) + 1):
            goal = GboGoal(
                cyp_case=case,
                number=number,
                description=f"Goal {number} in the child's words",
                agreed_on=agreed,
                created_by=worker,
            )
            rows["goals"].append(goal)
            first = rng.randint(1, 5)
            points = [(GboTimePoint.START, first, agreed)]
            review = agreed + dt.timedelta(days=42)
            if review <= (case.closed_at or self.now).date():
                points.append((GboTimePoint.REVIEW, min(10, first + rng.randint(0, 3)), review))
            if case.closed_at and rng.random() < 0.85:
                end = case.closed_at.astimezone(LOCAL_TZ).date()
                points.append((GboTimePoint.END, min(10, first + rng.randint(-1, 6)), end))
            for point, score, day in points:
                rows["scores"].append(
                    GboScore(
                        goal=goal,
                        time_point=point,
                        score=score,
                        rated_by=RatedBy.CHILD if rng.random() < 0.8 else RatedBy.PARENT,
                        scored_on=day,
                        recorded_by=worker,
                        recorded_at=at_local(day, 12),
                    )
                )
        if case.closed_at and rng.random() < 0.7:
            rows["feedback"].append(
                VoiceOfChild(
                    cyp_case=case,
                    collected_on=case.closed_at.astimezone(LOCAL_TZ).date(),
                    time_point=GboTimePoint.END,
                    method=rng.choice(list(FeedbackMethod.values)),
                    what_helped="Talking to someone (bench data).",
                    recorded_by=worker,
                )
            )
        if case.status == CypStatus.THERAPEUTIC:
            rows["plans"].append(
                ExitPlan(
                    cyp_case=case,
                    planned_end_on=start_day + dt.timedelta(weeks=20),
                    plan="Step down to group work (bench data).",
                    agreed_with_child=True,
                    updated_by=worker,
                )
            )
        if rng.random() < 0.05:
            rows["concerns"].append(
                SafeguardingConcern(
                    cyp_case=case,
                    raised_on=start_day + dt.timedelta(days=rng.randint(1, 30)),
                    category=rng.choice(list(ConcernCategory.values)),
                    details="Concern recorded (bench data).",
                    raised_by=worker,
                )
            )
        if not case.closed_at:
            case.review_due_on = start_day + dt.timedelta(weeks=12)
