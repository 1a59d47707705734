"""Referrals with their households, people and case files, the children asked for and routed,
and possible repeat matches."""

from __future__ import annotations

import datetime as dt
import uuid

from benchmarks.data.base import (
    AGENCIES,
    DECLINE_WEIGHTS,
    TRIAGE_TARGET,
    BuilderBase,
    _bulk,
    _Household,
)
from referrals.models import (
    MatchStatus,
    Referral,
    ReferralMatch,
    ReferralSource,
    ReferralStatus,
    RiskLevel,
)
from safer import workdays
from safer.casefile.models import (
    CaseFile,
    ContactChannel,
    Household,
    HouseholdRole,
    Perpetrator,
    Person,
    SafeContactRules,
    Sex,
    TenancyHolder,
    Tenure,
)
from safer.organisations.models import (
    Organisation,
)


class ReferralWriter(BuilderBase):
    # --- Referrals, households and case files -----------------------------------------------

    def referrals(self) -> list[_Household]:
        rng = self.rng
        districts = list(self.districts.values())
        weights = [float(d.population or 1) for d in districts]
        start, end = self.window_start, self.now - dt.timedelta(hours=1)
        received = sorted(self.moment_between(start, end) for _ in range(self.volume.referrals))
        ethnicities = ["white_british"] * 12 + [
            "white_other",
            "asian_indian",
            "asian_pakistani",
            "black_african",
            "mixed_other",
            "white_gypsy_traveller",
            "other_arab",
            "",
        ]
        agencies = [self.orgs[name] for name, _ in AGENCIES]
        rows_household: list[Household] = []
        rows_person: list[Person] = []
        rows_case: list[CaseFile] = []
        rows_rules: list[SafeContactRules] = []
        rows_perp: list[Perpetrator] = []
        rows_ref: list[Referral] = []
        households: list[_Household] = []
        for i, arrived in enumerate(received, start=1):
            district = rng.choices(districts, weights)[0]
            authority = self.authorities["medway" if district.code == "medway" else "kent"]
            tenure = rng.choices(
                [
                    Tenure.HOUSING_ASSOCIATION,
                    Tenure.COUNCIL,
                    Tenure.PRIVATE_RENTED,
                    Tenure.OWNER_OCCUPIER,
                    Tenure.OTHER,
                ],
                [35, 20, 25, 17, 3],
            )[0]
            household = Household(
                authority=authority,
                district=district,
                address_line_1=f"{rng.randint(1, 240)} {self.name_prefix} Example Road",
                town=f"Exampleton ({district.name})",
                postcode=f"ZZ{rng.randint(10, 99)} {rng.randint(1, 9)}ZZ",
                tenure=tenure,
                tenancy_holder=TenancyHolder.SURVIVOR,
                created_at=arrived,
            )
            rows_household.append(household)
            year = arrived.year - rng.choice([19, 24, 29, 34, 39, 44, 52, 63, 71])
            trans = rng.random() < 0.01
            survivor = Person(
                household=household,
                household_role=HouseholdRole.SURVIVOR,
                given_name=f"{self.name_prefix}{i}",
                family_name="Survivor",
                date_of_birth=dt.date(year, rng.randint(1, 12), rng.randint(1, 28)),
                sex=Sex.FEMALE if rng.random() < 0.88 else Sex.MALE,
                is_trans=trans,
                gender_identity="Trans woman" if trans else "",
                ethnicity=rng.choice(ethnicities),
                disability="Mobility" if rng.random() < 0.12 else "",
                sexual_orientation=rng.choices(
                    ["heterosexual", "gay_lesbian", "bisexual", ""], [80, 4, 3, 13]
                )[0],
                no_recourse_to_public_funds=rng.random() < 0.03,
                interpreter_needed=rng.random() < 0.04,
                created_at=arrived,
            )
            rows_person.append(survivor)
            children = []
            for c in range(rng.choices([0, 1, 2, 3], [45, 30, 18, 7])[0]):
                children.append(
                    Person(
                        household=household,
                        household_role=HouseholdRole.CHILD,
                        given_name=f"{self.name_prefix}{i}Child{c + 1}",
                        family_name="Survivor",
                        date_of_birth=dt.date(arrived.year - rng.randint(1, 16), 6, 1),
                        sex=rng.choice([Sex.FEMALE, Sex.MALE]),
                        created_at=arrived,
                    )
                )
            rows_person += children
            case_file = CaseFile(
                reference=f"SAFER-{arrived.year}-B{i:05d}",
                authority=authority,
                household=household,
                survivor=survivor,
                opened_at=arrived,
                safeguarding_flag=bool(children) and rng.random() < 0.15,
            )
            rows_case.append(case_file)
            rows_rules.append(
                SafeContactRules(
                    case_file=case_file,
                    phone=f"07700 900{i % 1000:03d}",  # Ofcom's drama range
                    safe_channels=[ContactChannel.PHONE]
                    + ([ContactChannel.TEXT] if i % 3 == 0 else []),
                    voicemail_safe=i % 4 == 0,
                    text_safe=i % 3 == 0,
                    safe_times="Weekdays 10:00 to 14:00",
                )
            )
            rows_perp.append(
                Perpetrator(
                    case_file=case_file,
                    name="Pat Fictitious",
                    relationship=rng.choice(["Ex-partner", "Partner", "Son", "Brother"]),
                    lives_at_address=False,
                    has_keys=rng.random() < 0.4,
                    whereabouts_known=rng.random() < 0.7,
                )
            )
            referral = self._referral(i, arrived, case_file, children, rng.choice(agencies))
            rows_ref.append(referral)
            households.append(
                _Household(i, district, authority, case_file, survivor, children, referral, tenure)
            )
        _bulk(Household, rows_household)
        _bulk(Person, rows_person)
        _bulk(CaseFile, rows_case)
        _bulk(SafeContactRules, rows_rules)
        _bulk(Perpetrator, rows_perp)
        _bulk(Referral, rows_ref)
        self._referral_children(households)
        self._matches(households)
        self.counts.update(
            referrals=len(rows_ref), households=len(rows_household), people=len(rows_person)
        )
        return households

    def _referral(
        self,
        i: int,
        arrived: dt.datetime,
        case_file: CaseFile,
        children: list[Person],
        agency: Organisation,
    ) -> Referral:
        rng = self.rng
        age = self.now - arrived
        dash = rng.choices(
            [None, rng.randint(2, 9), rng.randint(10, 13), rng.randint(14, 22)], [15, 40, 25, 20]
        )[0]
        risk = (
            RiskLevel.NOT_ASSESSED
            if dash is None
            else RiskLevel.HIGH
            if dash >= 14
            else RiskLevel.MEDIUM
            if dash >= 10
            else RiskLevel.STANDARD
        )
        if age < dt.timedelta(days=2):
            status = rng.choice([ReferralStatus.RECEIVED, ReferralStatus.IN_TRIAGE])
        elif age < dt.timedelta(days=14) and rng.random() < 0.35:
            status = rng.choice([ReferralStatus.IN_TRIAGE, ReferralStatus.AWAITING_INFORMATION])
        elif rng.random() < 0.004:
            status = ReferralStatus.AWAITING_INFORMATION  # the odd one that waits for weeks
        else:
            status = rng.choices(
                [ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN],
                [72, 22, 6],
            )[0]
        decided = status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED)
        # Mostly within the day's target; one in ten runs late.
        decided_at = self.later(arrived, 1, 20 if rng.random() < 0.9 else 90) if decided else None
        if decided_at and decided_at > self.now:
            decided_at = self.now - dt.timedelta(minutes=5)
        worker = rng.choice(self.triage)
        reason = ""
        if status == ReferralStatus.DECLINED:
            codes = list(self.decline_reasons)
            reason = rng.choices(codes, [DECLINE_WEIGHTS.get(c, 5) for c in codes])[0]
        accepted = status == ReferralStatus.ACCEPTED
        started = status != ReferralStatus.RECEIVED
        other_risks = [r for r in ("mental_health", "substance_use") if rng.random() < 0.2]
        return Referral(
            reference=f"REF-{arrived.year}-B{i:05d}",
            case_file=case_file,
            authority_id=case_file.authority_id,
            source=ReferralSource.SELF if rng.random() < 0.08 else ReferralSource.PROFESSIONAL,
            referrer_name="Robin Referrer",
            referrer_organisation=agency.name,
            referrer_agency_type=agency.agency_type,
            referrer_email="referrer@example.org",
            consent_given=True,
            consent_date=arrived.date(),
            consent_method="verbal",
            requests_security_works=rng.random() < 0.8,
            requests_adult_support=True,
            urgent=rng.random() < 0.1,
            dash_completed=dash is not None,
            dash_score=dash,
            dash_date=arrived.date() if dash is not None else None,
            marac_referred=bool(dash and dash >= 14),
            other_risks=other_risks,
            risk_level=risk,
            status=status,
            received_at=arrived,
            sla_due_at=None
            if status == ReferralStatus.AWAITING_INFORMATION
            else workdays.due_at(arrived, TRIAGE_TARGET),
            triage_started_at=self.later(arrived, 0.2, 1) if started else None,
            triage_worker=worker if started else None,
            elig_resident_in_area=True if decided else None,
            elig_domestic_abuse=True if decided else None,
            elig_wishes_to_remain=accepted if decided else None,
            elig_perpetrator_not_resident=accepted if decided else None,
            elig_consent=True if decided else None,
            eligibility_checked_at=decided_at,
            eligibility_checked_by=worker if decided else None,
            decided_at=decided_at,
            decided_by=worker if decided else None,
            decline_reason=self.decline_reasons[reason] if reason else None,
            route_security_works=accepted and rng.random() < 0.72,
            route_adult_support=accepted and rng.random() < 0.95,
        )

    def _referral_children(self, households: list[_Household]) -> None:
        asked, routed = [], []
        through_asked = Referral.children_for_support.through
        through_routed = Referral.routed_children.through
        for h in households:
            for child in h.children:
                asked.append(through_asked(referral_id=h.referral.pk, person_id=child.pk))
                if h.referral.status == ReferralStatus.ACCEPTED and self.rng.random() < 0.65:
                    routed.append(through_routed(referral_id=h.referral.pk, person_id=child.pk))
        _bulk(through_asked, asked)
        _bulk(through_routed, routed)
        self.routed_children = {(r.referral_id, r.person_id) for r in routed}

    def _matches(self, households: list[_Household]) -> None:
        """A possible earlier referral for about one in twenty-five (repeat victimisation)."""
        by_district: dict[uuid.UUID, list[_Household]] = {}
        rows = []
        for h in households:
            earlier = by_district.setdefault(h.district.pk, [])
            if earlier and self.rng.random() < 0.04:
                candidate = self.rng.choice(earlier[-50:])
                rows.append(
                    ReferralMatch(
                        referral=h.referral,
                        candidate=candidate.referral,
                        on_address=True,
                        similarity=round(self.rng.uniform(0.5, 0.95), 2),
                        status=MatchStatus.OPEN
                        if h.referral.is_open
                        else self.rng.choice([MatchStatus.LINKED, MatchStatus.DISMISSED]),
                    )
                )
            earlier.append(h)
        _bulk(ReferralMatch, rows)
