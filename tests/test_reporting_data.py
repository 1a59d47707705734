"""The hand-built dataset behind the reporting tests (no tests here: builders and a fixture).

Kent, financial year 2025-26, three districts (Ashford, Canterbury, Dover), three contracts. Every
branch a figure depends on has a record: women, men, a trans adult, a 17-year-old survivor who
counts as a child, a survivor whose sex is not recorded, children in each safe accommodation
type, each decline reason (with a duplicate and a withdrawal), each support-ended reason (the
support app's eight closure reasons), a case that crosses quarters, a referral arriving at
00:30 BST on 1 July (July's quarter in UK time, June in UTC), and SLA clocks that run over
Easter, the early May and the spring bank holidays. The expected figures are worked out by
hand in ``tests/test_reporting_metrics.py``; each test module has a ``dataset`` fixture that
calls ``build_dataset``.

Records are written with the ORM rather than the services so that every moment is exact; each
stored deadline is the one the services would store (``safer.workdays``), and the tests state
the bank-holiday ones as literal dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from referrals.models import (
    AdviceContact,
    DeclineReason,
    MaracReferral,
    Referral,
    ReferralContactAttempt,
    ReferralStatus,
    RiskAssessment,
    RiskLevel,
    RiskPolicy,
)
from reporting.models import CommissionedUnits, ContractSpend
from safer import workdays
from safer.accounts.models import User
from safer.casefile.models import CaseFile, Household, HouseholdRole, Person, Sex
from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    District,
    Organisation,
    OrganisationKind,
    ServiceElement,
)
from safer.organisations.services import contract_extension_record
from security_works.models import (
    CancellationReason,
    FeelsSafer,
    InstalledMeasure,
    JobPriority,
    JobStatus,
    Measure,
    PostInstallationCheck,
    SecurityJob,
)
from support.models import (
    AdultStatus,
    AdultSupportCase,
    ClosureReason,
    CypCase,
    CypSession,
    CypSource,
    CypStatus,
    ExitOutcome,
    FeedbackMethod,
    GboGoal,
    GboScore,
    GboTimePoint,
    NeedsArea,
    OutcomeMeasure,
    RatedBy,
    SessionMode,
    SupportGoal,
    TimePoint,
    VoiceOfChild,
)
from tests.factories import KentFactory, UserFactory

TZ = workdays.LOCAL_TZ
ONE_DAY = workdays.Target(1, workdays.TargetUnit.WORKING_DAYS)
TWO_DAYS = workdays.Target(2, workdays.TargetUnit.WORKING_DAYS)
FIVE_DAYS = workdays.Target(5, workdays.TargetUnit.WORKING_DAYS)
TEN_DAYS = workdays.Target(10, workdays.TargetUnit.WORKING_DAYS)
DAY_HOURS = workdays.Target(24, workdays.TargetUnit.HOURS)


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    """A moment in UK local time."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


@dataclass
class Dataset:
    kent: CommissioningAuthority
    districts: dict[str, District]
    contracts: dict[str, Contract]
    organisations: dict[str, Organisation]
    worker: User
    households: dict[str, Household] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    case_files: dict[str, CaseFile] = field(default_factory=dict)
    referrals: dict[str, Referral] = field(default_factory=dict)
    jobs: dict[str, SecurityJob] = field(default_factory=dict)
    adult_cases: dict[str, AdultSupportCase] = field(default_factory=dict)
    cyp_cases: dict[str, CypCase] = field(default_factory=dict)


class Builder:
    def __init__(self, data: Dataset) -> None:
        self.data = data
        self.counter = 0
        self.measure = Measure.objects.create(
            code="test-lock",
            description="BS 5-lever mortice lock",
            unit_cost=Decimal("50.00"),
            effective_from=dt.date(2020, 1, 1),
        )

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    # --- Case file ----------------------------------------------------------------------------

    def household(self, key: str, district: str, survivor: str, **person: Any) -> Household:
        household = Household.objects.create(
            authority=self.data.kent,
            district=self.data.districts[district],
            address_line_1=f"{self._next()} Test Road",
            town="Testtown",
            postcode="ZZ99 9ZZ",
            tenure="housing_association",
            created_at=at(2025, 1, 1),
        )
        self.data.households[key] = household
        survivor_person = self.person(survivor, key, **person)
        case_file = CaseFile.objects.create(
            reference=f"SAFER-T-{self._next():04d}",
            authority=self.data.kent,
            household=household,
            survivor=survivor_person,
            opened_at=at(2025, 1, 1),
        )
        self.data.case_files[key] = case_file
        return household

    def person(
        self,
        key: str,
        household: str,
        *,
        sex: str = Sex.FEMALE,
        dob: dt.date | None = None,
        role: str = HouseholdRole.SURVIVOR,
        **extra: Any,
    ) -> Person:
        person = Person.objects.create(
            household=self.data.households[household],
            household_role=role,
            given_name=key,
            family_name="Dataset",
            date_of_birth=dob,
            sex=sex,
            **extra,
        )
        self.data.people[key] = person
        return person

    # --- Referrals ----------------------------------------------------------------------------

    def referral(
        self,
        key: str,
        household: str,
        received: dt.datetime,
        *,
        decided: dt.datetime | None = None,
        status: str = ReferralStatus.ACCEPTED,
        reason: str = "",
        **extra: Any,
    ) -> Referral:
        referral = Referral.objects.create(
            reference=f"REF-{key}",
            case_file=self.data.case_files[household],
            authority_id=self.data.case_files[household].authority_id,
            source=extra.pop("source", "professional"),
            consent_given=True,
            received_at=received,
            sla_due_at=workdays.due_at(received, TWO_DAYS),
            status=status,
            decided_at=decided,
            decline_reason=DeclineReason.objects.get(code=reason) if reason else None,
            **extra,
        )
        self.data.referrals[key] = referral
        return referral

    def first_contact(
        self,
        key: str,
        *,
        attempts: tuple[tuple[dt.datetime, str], ...] = (),
        high_risk: bool = False,
    ) -> Referral:
        """The SPA's first-contact clock: the deadline the default ``SpaPolicy`` gives (next
        working day; high risk the same day, for referrals received on a working day before
        17:00, as all of these are) and the attempts, the earliest of which stops it."""
        referral = self.data.referrals[key]
        received = referral.received_at
        due: dt.datetime | None
        if high_risk:
            referral.risk_level = RiskLevel.HIGH
            due = workdays.end_of_day(workdays.local_date(received))
        else:
            due = workdays.due_at(received, ONE_DAY)
        for when, outcome in attempts:
            ReferralContactAttempt.objects.create(
                referral=referral,
                attempted_at=when,
                channel="phone",
                outcome=outcome,
                recorded_by=self.data.worker,
            )
        referral.first_contact_due_at = due
        referral.first_contact_attempted_at = min((w for w, _ in attempts), default=None)
        referral.save(
            update_fields=["risk_level", "first_contact_due_at", "first_contact_attempted_at"]
        )
        return referral

    def advice(
        self, district: str | None, contacted_on: dt.date, caller: str, agency: str = ""
    ) -> AdviceContact:
        return AdviceContact.objects.create(
            authority=self.data.kent,
            district=self.data.districts[district] if district else None,
            contacted_on=contacted_on,
            caller_type=caller,
            agency_type=agency,
            method="phone",
            topics=["scheme_eligibility"],
            recorded_by=self.data.worker,
        )

    def marac(
        self, key: str, referred_on: dt.date, heard_on: dt.date | None = None
    ) -> MaracReferral:
        referral = self.data.referrals[key]
        policy = RiskPolicy.objects.select_related("questionnaire").get(authority__isnull=True)
        assessment = RiskAssessment.objects.create(
            referral=referral,
            questionnaire=policy.questionnaire,
            policy=policy,
            assessed_by=self.data.worker,
            completed_on=referred_on,
            yes_count=15,
            not_known_count=0,
            actuarial_level=RiskLevel.HIGH,
            final_level=RiskLevel.HIGH,
            marac_grounds=["visible_high_risk"],
        )
        return MaracReferral.objects.create(
            referral=referral,
            assessment=assessment,
            area="Dataset MARAC",
            referred_on=referred_on,
            meeting_on=heard_on,
            heard_on=heard_on,
            outcome="Action plan agreed" if heard_on else "",
            grounds=["visible_high_risk"],
            recorded_by=self.data.worker,
        )

    # --- Security jobs ------------------------------------------------------------------------

    def job(
        self,
        key: str,
        household: str,
        allocated: dt.datetime,
        *,
        priority: str = JobPriority.STANDARD,
        made_safe: dt.datetime | None = None,
        surveyed: dt.datetime | None = None,
        landlord_consent: dt.datetime | None = None,
        installed: dt.datetime | None = None,
        cost: str = "0",
        status: str = JobStatus.ALLOCATED,
        cancelled: dt.datetime | None = None,
        completed: dt.datetime | None = None,
        check: tuple[dt.date, str] | None = None,
    ) -> SecurityJob:
        household_obj = self.data.households[household]
        install_start = landlord_consent if landlord_consent else surveyed
        job = SecurityJob.objects.create(
            reference=f"JOB-{key}",
            case_file=self.data.case_files[household],
            household=household_obj,
            authority=self.data.kent,
            district=household_obj.district,
            contract=self.data.contracts["security"],
            contractor=self.data.organisations["contractor"],
            priority=priority,
            status=status,
            allocated_at=allocated,
            made_safe_at=made_safe,
            surveyed_at=surveyed,
            landlord_consent_required=landlord_consent is not None,
            landlord_consent_at=landlord_consent,
            installed_at=installed,
            completed_at=completed,
            cancelled_at=cancelled,
            cancellation_reason=CancellationReason.SURVIVOR_MOVED if cancelled else "",
            make_safe_due_at=(
                workdays.due_at(allocated, DAY_HOURS) if priority == JobPriority.EMERGENCY else None
            ),
            survey_due_at=workdays.due_at(allocated, FIVE_DAYS),
            installation_due_at=workdays.due_at(install_start, TEN_DAYS) if install_start else None,
        )
        if installed and Decimal(cost):
            InstalledMeasure.objects.create(
                job=job, measure=self.measure, quantity=Decimal(1), actual_cost=Decimal(cost)
            )
        if check:
            PostInstallationCheck.objects.create(
                job=job, checked_on=check[0], measures_working=True, feels_safer=check[1]
            )
        self.data.jobs[key] = job
        return job

    # --- Support ------------------------------------------------------------------------------

    def _case_fields(
        self,
        household: str,
        provider: str,
        allocated: dt.datetime,
        contact: dt.datetime | None,
        closed: dt.datetime | None,
        reason: str,
        exit_outcome: str,
        contact_days: int,
    ) -> dict[str, Any]:
        return {
            "reference": f"CASE-{self._next():04d}",
            "case_file": self.data.case_files[household],
            "household": self.data.households[household],
            "authority": self.data.kent,
            "provider": self.data.organisations[provider],
            "allocated_worker": self.data.worker,
            "opened_at": allocated - dt.timedelta(hours=1),
            "allocated_at": allocated,
            "first_contact_due_on": workdays.due_date(workdays.local_date(allocated), contact_days),
            "first_contact_at": contact,
            "closed_at": closed,
            "closure_reason": ClosureReason.objects.get(code=reason) if reason else None,
            "exit_outcome": exit_outcome,
        }

    def adult(
        self,
        key: str,
        household: str,
        allocated: dt.datetime,
        *,
        contact: dt.datetime | None,
        closed: dt.datetime | None = None,
        reason: str = "",
        exit_outcome: str = "",
        goals: tuple[str, ...] = (),
        outcomes: tuple[int | None, int | None] = (None, None),
    ) -> AdultSupportCase:
        fields = self._case_fields(
            household, "adult", allocated, contact, closed, reason, exit_outcome, 2
        )
        status = (
            AdultStatus.CLOSED
            if closed
            else AdultStatus.ACTIVE
            if contact
            else AdultStatus.ALLOCATED
        )
        case = AdultSupportCase.objects.create(
            survivor=self.data.case_files[household].survivor, status=status, **fields
        )
        for area in goals:
            SupportGoal.objects.create(
                adult_case=case,
                need_area=NeedsArea.objects.get(code=area),
                description="A goal",
                created_on=workdays.local_date(contact or allocated),
                created_by=self.data.worker,
            )
        for point, score in zip((TimePoint.START, TimePoint.CLOSE), outcomes, strict=True):
            if score is not None:
                OutcomeMeasure.objects.create(
                    adult_case=case,
                    time_point=point,
                    recorded_on=workdays.local_date(contact or allocated),
                    feeling_safe=score,
                    quality_of_life=5,
                    confidence=5,
                    recorded_by=self.data.worker,
                )
        self.data.adult_cases[key] = case
        return case

    def cyp(
        self,
        key: str,
        household: str,
        child: str,
        accommodation: str,
        allocated: dt.datetime,
        *,
        contact: dt.datetime | None,
        closed: dt.datetime | None = None,
        reason: str = "",
        exit_outcome: str = "",
        sessions: tuple[tuple[str, dt.date], ...] = (),
        gbo: tuple[tuple[int, int | None], ...] = (),
        feedback: bool = False,
        source: str = CypSource.SPA,
    ) -> CypCase:
        fields = self._case_fields(
            household, "cyp", allocated, contact, closed, reason, exit_outcome, 5
        )
        status = (
            CypStatus.CLOSED if closed else CypStatus.ENGAGEMENT if contact else CypStatus.ALLOCATED
        )
        case = CypCase.objects.create(
            child=self.data.people[child],
            status=status,
            source=source,
            accommodation_type=accommodation,
            **fields,
        )
        for function, day in sessions:
            CypSession.objects.create(
                cyp_case=case,
                function=function,
                occurred_on=day,
                mode=SessionMode.FACE_TO_FACE,
                duration_minutes=45,
                recorded_by=self.data.worker,
            )
        for number, (start, end) in enumerate(gbo, start=1):
            goal = GboGoal.objects.create(
                cyp_case=case,
                number=number,
                description="A goal",
                agreed_on=workdays.local_date(allocated),
                created_by=self.data.worker,
            )
            for point, score in ((GboTimePoint.START, start), (GboTimePoint.END, end)):
                if score is not None:
                    GboScore.objects.create(
                        goal=goal,
                        time_point=point,
                        score=score,
                        rated_by=RatedBy.CHILD,
                        scored_on=workdays.local_date(closed or allocated),
                        recorded_by=self.data.worker,
                    )
        if feedback:
            VoiceOfChild.objects.create(
                cyp_case=case,
                collected_on=workdays.local_date(closed or allocated),
                time_point=GboTimePoint.END,
                method=FeedbackMethod.CONVERSATION,
                recorded_by=self.data.worker,
            )
        self.data.cyp_cases[key] = case
        return case


def build_dataset() -> Dataset:
    kent = KentFactory.create()
    districts = {
        name.lower(): District.objects.create(
            authority=kent, code=f"ds-{name.lower()}", name=name, population=population
        )
        for name, population in (("Ashford", 132_700), ("Canterbury", 157_400), ("Dover", 116_400))
    }
    organisations = {
        "contractor": Organisation.objects.create(
            name="Dataset Locks", kind=OrganisationKind.SECURITY_CONTRACTOR
        ),
        "adult": Organisation.objects.create(
            name="Dataset Adult Support", kind=OrganisationKind.ADULT_SUPPORT
        ),
        "cyp": Organisation.objects.create(
            name="Dataset Young People", kind=OrganisationKind.CYP_SUPPORT
        ),
    }
    for organisation in organisations.values():
        organisation.authorities.add(kent)
    contracts = {
        "security": Contract.objects.create(
            authority=kent,
            provider=organisations["contractor"],
            service_element=ServiceElement.SECURITY,
            reference="23/00074",
            start_date=dt.date(2023, 12, 1),
            end_date=dt.date(2025, 11, 30),
            value_per_year=Decimal("400000.00"),
            extension_options=2,
        ),
        "adult": Contract.objects.create(
            authority=kent,
            provider=organisations["adult"],
            service_element=ServiceElement.ADULT_SUPPORT,
            reference="ADULT-1",
            start_date=dt.date(2025, 4, 1),
            end_date=dt.date(2027, 3, 31),
            value_per_year=Decimal("365000.00"),
        ),
        "cyp": Contract.objects.create(
            authority=kent,
            provider=organisations["cyp"],
            service_element=ServiceElement.CYP,
            reference="CYP-1",
            start_date=dt.date(2025, 4, 1),
            end_date=dt.date(2027, 3, 31),
            value_per_year=Decimal("730000.00"),
        ),
    }
    # The first optional year exercised: to 30 November 2026.
    contract_extension_record(
        contract=contracts["security"], exercised_on=dt.date(2025, 9, 1), recorded_by=None
    )
    worker = UserFactory.create(organisation=organisations["adult"])
    data = Dataset(kent, districts, contracts, organisations, worker)
    b = Builder(data)
    F, M = Sex.FEMALE, Sex.MALE
    d = dt.date

    # Households and their survivors (H19's case predates the year; H20-H24 are children's).
    b.household("H1", "ashford", "W1", dob=d(1985, 6, 1), ethnicity="white_british")
    b.household(
        "H2",
        "ashford",
        "M1",
        sex=M,
        dob=d(1960, 3, 10),
        ethnicity="white_british",
        disability="Mobility",
    )
    b.household(
        "H3",
        "canterbury",
        "T1",
        sex=M,
        dob=d(2002, 7, 20),
        ethnicity="black_african",
        is_trans=True,
        gender_identity="Woman",
    )
    b.household(
        "H4",
        "ashford",
        "W2",
        dob=d(1990, 5, 21),
        ethnicity="asian_pakistani",
        sexual_orientation="bisexual",
        no_recourse_to_public_funds=True,
    )
    b.person(
        "C1", "H4", sex=M, dob=d(2016, 9, 1), role=HouseholdRole.CHILD, ethnicity="asian_pakistani"
    )
    b.person(
        "C2",
        "H4",
        sex=F,
        dob=d(2009, 8, 1),
        role=HouseholdRole.CHILD,
        ethnicity="asian_pakistani",
        disability="Autism",
    )
    b.household("H5", "canterbury", "W3", dob=d(2008, 1, 15), ethnicity="mixed_white_asian")
    b.household("H6", "dover", "W4", dob=d(1988, 2, 2), ethnicity="white_british")
    b.household("H7", "dover", "W5", dob=d(1995, 3, 3), ethnicity="white_british")
    b.household("H8", "ashford", "W6", dob=d(1993, 9, 9), ethnicity="white_british")
    for key, district in (
        ("H9", "canterbury"),
        ("H10", "ashford"),
        ("H11", "ashford"),
        ("H12", "canterbury"),
        ("H13", "canterbury"),
        ("H14", "ashford"),
        ("H15", "dover"),
        ("H16", "canterbury"),
        ("H17", "canterbury"),
        ("H18", "canterbury"),
    ):
        b.household(key, district, f"S{key}", dob=d(1980, 1, 1))
    b.household(
        "H19", "canterbury", "NR", sex=Sex.PREFER_NOT, dob=d(1975, 2, 1), ethnicity="prefer_not"
    )
    b.household("H20", "canterbury", "R20", dob=d(1992, 1, 1))
    b.person("C3", "H20", sex=M, dob=d(2018, 11, 11), role=HouseholdRole.CHILD)
    b.household("H21", "ashford", "R21", dob=d(1987, 1, 1))
    b.person(
        "C4",
        "H21",
        sex=F,
        dob=d(2012, 12, 30),
        role=HouseholdRole.CHILD,
        ethnicity="white_gypsy_traveller",
    )
    b.household("H22", "dover", "R22", dob=d(1983, 1, 1))
    b.person(
        "C5", "H22", sex=M, dob=d(2008, 6, 30), role=HouseholdRole.CHILD, ethnicity="other_arab"
    )
    b.household("H23", "canterbury", "R23", dob=d(1986, 1, 1))
    b.person(
        "C6", "H23", sex=F, dob=d(2014, 10, 10), role=HouseholdRole.CHILD, ethnicity="white_irish"
    )
    b.household("H24", "ashford", "R24", dob=d(1996, 1, 1))
    b.person(
        "C7",
        "H24",
        sex=F,
        dob=None,
        role=HouseholdRole.CHILD,
        ethnicity="white_other",
        stated_age=3,
    )

    # Referrals. Accepted:
    b.referral("R1", "H1", at(2025, 4, 7, 9), decided=at(2025, 4, 8), other_risks=["mental_health"])
    # Easter: Good Friday 18 and Easter Monday 21 April do not count: due Wed 23 April.
    b.referral(
        "R2",
        "H2",
        at(2025, 4, 17),
        decided=at(2025, 4, 23, 15),
        other_risks=["substance_use", "mental_health"],
    )
    # Early May bank holiday (5 May): due Tue 6 May.
    b.referral("R3", "H3", at(2025, 5, 1), decided=at(2025, 5, 6, 11), source="self")
    b.referral("R4", "H4", at(2025, 5, 19), decided=at(2025, 5, 20))
    b.referral("R5", "H5", at(2025, 5, 8), decided=at(2025, 5, 9))
    b.referral("R6", "H6", at(2025, 6, 2, 9), decided=at(2025, 6, 5))  # late: due Wed 4 June
    # Across quarters: received Mon 30 June, accepted Tue 1 July.
    b.referral("R7", "H7", at(2025, 6, 30, 16), decided=at(2025, 7, 1, 10))
    # 00:30 BST on 1 July is 23:30 UTC on 30 June: July's quarter in UK time.
    b.referral("R8", "H8", at(2025, 7, 1, 0, 30), decided=at(2025, 7, 2))
    b.referral("R9", "H2", at(2025, 6, 10), decided=at(2025, 6, 11), repeat_of=data.referrals["R2"])
    # Still in triage: due Mon 29 September, breached.
    b.referral("R10", "H18", at(2025, 9, 25), status=ReferralStatus.IN_TRIAGE)
    b.referral("R11", "H19", at(2025, 3, 3), decided=at(2025, 3, 4))  # the year before
    # Declined, one per reason (all within the deadline), a duplicate, and a withdrawal.
    declined = ReferralStatus.DECLINED
    for key, household, reason, received in (
        ("D1", "H9", "outside_area", at(2025, 4, 2)),
        ("D2", "H10", "perpetrator_lives_at_property", at(2025, 4, 9)),
        ("D3", "H11", "not_safe_to_remain", at(2025, 4, 23)),
        ("D4", "H12", "no_consent", at(2025, 5, 13)),
        ("D5", "H13", "survivor_declined", at(2025, 5, 14)),
        ("D6", "H14", "unable_to_contact", at(2025, 5, 27)),
        ("D7", "H1", "duplicate", at(2025, 4, 15)),
        ("D8", "H15", "referred_elsewhere", at(2025, 6, 3)),
        ("D9", "H16", "other", at(2025, 6, 17)),
    ):
        b.referral(
            key,
            household,
            received,
            decided=received + dt.timedelta(days=1),
            status=declined,
            reason=reason,
            source="self" if key == "D5" else "professional",
        )
    b.referral(
        "X1", "H17", at(2025, 6, 18), decided=at(2025, 6, 19), status=ReferralStatus.WITHDRAWN
    )

    # The SPA's first contact attempt with the survivor (next working day; high risk same day).
    no_answer, spoke = "no_answer", "spoke_to_survivor"
    b.first_contact("R1", attempts=((at(2025, 4, 7, 14), no_answer), (at(2025, 4, 8, 9), spoke)))
    # Received Thu 17 April: Good Friday and Easter Monday skipped, due Tue 22 April; met.
    b.first_contact("R2", attempts=((at(2025, 4, 22, 11), spoke),))
    b.first_contact("R4", high_risk=True, attempts=((at(2025, 5, 19, 15), spoke),))  # same day
    b.first_contact("R5", high_risk=True, attempts=((at(2025, 5, 9, 9, 30), no_answer),))  # late
    b.first_contact("R6", attempts=((at(2025, 6, 4), no_answer),))  # due Tue 3 June: late
    b.first_contact("R9")  # never attempted, though accepted: due Wed 11 June, breached
    b.first_contact("D1")  # declined before its deadline, never attempted: not counted
    b.first_contact("X1")  # withdrawn before its deadline: not counted
    b.first_contact("R7", attempts=((at(2025, 7, 1, 10), spoke),))  # due Tue 1 July
    b.first_contact("R8", high_risk=True, attempts=((at(2025, 7, 1, 9), no_answer),))
    b.first_contact("R10")  # still in triage, due Fri 26 September: breached in Q2

    # Information-and-advice-only contacts (the one in March is the year before).
    b.advice("ashford", d(2025, 4, 14), "survivor")
    b.advice("canterbury", d(2025, 6, 30), "professional", "police")
    b.advice(None, d(2025, 8, 5), "friend_or_family")
    b.advice("dover", d(2025, 3, 28), "professional", "health")

    # MARAC: R4's household (H4) has two children living there; R2's and R1's have none.
    b.marac("R4", d(2025, 5, 20), heard_on=d(2025, 6, 5))
    b.marac("R2", d(2025, 4, 24), heard_on=d(2025, 7, 10))
    b.marac("R1", d(2025, 4, 8))  # not heard yet

    # Security jobs (contract 23/00074).
    b.job(
        "J1",
        "H1",
        at(2025, 4, 8),
        surveyed=at(2025, 4, 14),
        installed=at(2025, 4, 29),
        cost="750.00",
        status=JobStatus.COMPLETED,
        completed=at(2025, 5, 20),
        check=(d(2025, 5, 20), FeelsSafer.MUCH_SAFER),
    )
    b.job(
        "J2",
        "H2",
        at(2025, 4, 23, 15),
        priority=JobPriority.EMERGENCY,
        made_safe=at(2025, 4, 24, 18),
        surveyed=at(2025, 4, 29),
        landlord_consent=at(2025, 5, 9, 12),
        installed=at(2025, 6, 6),
        cost="1200.00",
        status=JobStatus.CHECKED,
        check=(d(2025, 6, 20), FeelsSafer.NO_DIFFERENT),
    )
    b.job(
        "J3",
        "H3",
        at(2025, 5, 6, 11),
        surveyed=at(2025, 5, 19),
        installed=at(2025, 6, 2),
        cost="600.00",
        status=JobStatus.CHECKED,
        check=(d(2025, 6, 16), FeelsSafer.A_LITTLE_SAFER),
    )
    # Spring bank holiday (26 May): the survey is due Wed 28 May, and met that afternoon.
    b.job(
        "J4",
        "H4",
        at(2025, 5, 20),
        surveyed=at(2025, 5, 28, 14),
        installed=at(2025, 7, 1),
        cost="900.00",
        status=JobStatus.CHECKED,
        check=(d(2025, 7, 15), ""),
    )
    b.job("J5", "H6", at(2025, 6, 5))  # never surveyed: due 12 June, breached
    b.job(
        "J6",
        "H8",
        at(2025, 7, 2),
        priority=JobPriority.EMERGENCY,
        made_safe=at(2025, 7, 2, 20),
        status=JobStatus.CANCELLED,
        cancelled=at(2025, 7, 10),
    )
    b.job("J7", "H7", at(2025, 7, 1, 12), surveyed=at(2025, 7, 3), status=JobStatus.SURVEYED)
    b.job(
        "J8",
        "H19",
        at(2025, 3, 4),
        surveyed=at(2025, 3, 7),
        installed=at(2025, 3, 20),
        cost="500.00",
        status=JobStatus.COMPLETED,
        completed=at(2025, 3, 31),
    )

    # Adult support.
    b.adult(
        "A1",
        "H1",
        at(2025, 4, 8, 11),
        contact=at(2025, 4, 9),
        closed=at(2025, 6, 25),
        reason="no_longer_needed",
        exit_outcome=ExitOutcome.PLANNED_GOALS_MET,
        goals=("safety", "housing"),
        outcomes=(3, 8),
    )
    b.adult(
        "A2",
        "H2",
        at(2025, 4, 23, 15),
        contact=at(2025, 4, 28),
        goals=("drugs_alcohol", "finances_benefits"),
    )
    b.adult(
        "A3",
        "H3",
        at(2025, 5, 6, 11),
        contact=at(2025, 5, 7),
        closed=at(2025, 5, 30),
        reason="perpetrator_returned",
        exit_outcome=ExitOutcome.UNPLANNED,
        goals=("legal_court",),
        outcomes=(5, 4),
    )
    b.adult(
        "A4",
        "H4",
        at(2025, 5, 20, 11),
        contact=at(2025, 5, 21),
        closed=at(2025, 8, 15),
        reason="moved_out_of_area",
        exit_outcome=ExitOutcome.PLANNED_PARTLY_MET,
        goals=("immigration", "children_parenting"),
    )
    b.adult(
        "A5",
        "H5",
        at(2025, 5, 9, 11),
        contact=at(2025, 5, 12),
        closed=at(2025, 6, 10),
        reason="disengaged",
        exit_outcome=ExitOutcome.UNPLANNED,
        goals=("social_isolation",),
        outcomes=(4, None),
    )
    b.adult("A6", "H6", at(2025, 6, 5, 11), contact=None)  # allocated, never contacted
    # Lost touch after the summer: closed "unable to contact" on Fri 14 November (Q3).
    b.adult(
        "A7",
        "H7",
        at(2025, 7, 1, 11),
        contact=at(2025, 7, 2),
        closed=at(2025, 11, 14),
        reason="unable_to_contact",
        exit_outcome=ExitOutcome.UNPLANNED,
        goals=("housing",),
    )
    b.adult("A9", "H19", at(2025, 3, 5), contact=at(2025, 3, 6))

    # Children and young people.
    engagement, therapeutic, coordination = "engagement", "therapeutic", "coordination"
    b.cyp(
        "K1",
        "H4",
        "C1",
        "sanctuary",
        at(2025, 5, 21),
        contact=at(2025, 5, 28),
        closed=at(2025, 6, 27),
        reason="no_longer_needed",
        exit_outcome=ExitOutcome.PLANNED_GOALS_MET,
        sessions=((engagement, d(2025, 5, 28)), (therapeutic, d(2025, 6, 10))),
        gbo=((2, 7), (3, 5)),
        feedback=True,
    )
    b.cyp(
        "K2",
        "H4",
        "C2",
        "sanctuary",
        at(2025, 5, 21),
        contact=at(2025, 6, 4),
        sessions=((therapeutic, d(2025, 6, 4)),),
    )
    b.cyp(
        "K3",
        "H20",
        "C3",
        "refuge",
        at(2025, 4, 2),
        contact=at(2025, 4, 8),
        closed=at(2025, 6, 5),
        reason="moved_other_accommodation",
        exit_outcome=ExitOutcome.UNPLANNED,
        sessions=((coordination, d(2025, 4, 3)), (engagement, d(2025, 4, 8))),
        gbo=((4, 5), (5, None)),
        source=CypSource.DIRECT,
    )
    # The family declined further support on Fri 12 September (Q2): no goals, no feedback.
    b.cyp(
        "K4",
        "H21",
        "C4",
        "dispersed",
        at(2025, 4, 1, 9),
        contact=at(2025, 4, 3),
        closed=at(2025, 9, 12),
        reason="declined",
        exit_outcome=ExitOutcome.UNPLANNED,
        sessions=((engagement, d(2025, 4, 3)),),
    )
    # Closed at 22:30 BST on 30 June (21:30 UTC): still June, still the first quarter.
    b.cyp(
        "K5",
        "H22",
        "C5",
        "move_on",
        at(2025, 4, 14),
        contact=at(2025, 4, 22),
        closed=at(2025, 6, 30, 22, 30),
        reason="other",
        exit_outcome=ExitOutcome.PLANNED_PARTLY_MET,
        sessions=((therapeutic, d(2025, 4, 22)),),
        gbo=((1, 4),),
        feedback=True,
    )
    b.cyp(
        "K6",
        "H23",
        "C6",
        "specialist",
        at(2025, 6, 2),
        contact=at(2025, 6, 10),
        sessions=((therapeutic, d(2025, 6, 10)),),
    )
    b.cyp(
        "K7",
        "H24",
        "C7",
        "emergency",
        at(2025, 3, 3),
        contact=at(2025, 3, 5),
        sessions=((engagement, d(2025, 5, 6)),),
    )

    # Complex or multiple needs, ticked by the referrer: W3 (a child, already minoritised) and
    # W5 (no other specialist characteristic, first supported in July).
    for key in ("R5", "R7"):
        referral = data.referrals[key]
        referral.other_risks = [*referral.other_risks, "complex_needs"]
        referral.save(update_fields=["other_risks"])

    # Commissioned units for 2025-26 (two refuge rows add up), and 2024-25's (not this year).
    for year, kind, units, contract in (
        ("2025-26", "refuge", 10, None),
        ("2025-26", "refuge", 4, None),
        ("2025-26", "dispersed", 6, None),
        ("2025-26", "sanctuary", 300, contracts["security"]),
        ("2024-25", "sanctuary", 250, contracts["security"]),
    ):
        CommissionedUnits.objects.create(
            authority=kent,
            financial_year=year,
            accommodation_type=kind,
            units=units,
            contract=contract,
            provider=contract.provider if contract else None,
            recorded_by=worker,
        )

    # Support-contract payments. ADULT-1: April (£30,000), then May to July (£92,000 for 92
    # days: 61 in the first quarter, 31 in the second) and a -£2,000 correction to April.
    # CYP-1: the first quarter (£175,000) and the third (£180,000).
    def paid(
        contract: str, start: dt.date, end: dt.date, amount: str, corrects: Any = None
    ) -> ContractSpend:
        return ContractSpend.objects.create(
            contract=contracts[contract],
            period_start=start,
            period_end=end,
            amount=Decimal(amount),
            reference=f"INV-{contract}-{start:%Y%m}-{amount}",
            corrects=corrects,
            recorded_by=worker,
        )

    april = paid("adult", d(2025, 4, 1), d(2025, 4, 30), "30000.00")
    paid("adult", d(2025, 5, 1), d(2025, 7, 31), "92000.00")
    paid("adult", d(2025, 4, 1), d(2025, 4, 30), "-2000.00", corrects=april)
    paid("cyp", d(2025, 4, 1), d(2025, 6, 30), "175000.00")
    paid("cyp", d(2025, 10, 1), d(2025, 12, 31), "180000.00")
    return data
