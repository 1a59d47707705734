"""Security jobs at every stage, with surveyed and fitted measures and post-installation checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from benchmarks.data.base import (
    CONTRACTOR_EAST,
    CONTRACTOR_WEST,
    HOURS_24,
    INSTALL_TARGET,
    LOCAL_TZ,
    SURVEY_TARGET,
    BuilderBase,
    _bulk,
    _Household,
)
from safer import workdays
from safer.casefile.models import (
    Tenure,
)
from safer.demo import EAST_KENT
from security_works.models import (
    CancellationReason,
    FeelsSafer,
    HoldReason,
    InstalledMeasure,
    JobPriority,
    JobStatus,
    PostInstallationCheck,
    SecurityJob,
    SurveyMeasure,
)


class SecurityWriter(BuilderBase):
    # --- Security jobs ----------------------------------------------------------------------

    def security_jobs(self, households: list[_Household]) -> None:
        rng = self.rng
        jobs, surveyed_lines, fitted, checks = [], [], [], []
        contract_for = {
            CONTRACTOR_EAST: self.contracts["BENCH/23/00074"],
            CONTRACTOR_WEST: self.contracts["BENCH/23/00075"],
        }
        east = set(EAST_KENT)
        for h in households:
            r = h.referral
            if not r.route_security_works or r.decided_at is None:
                continue
            contractor = CONTRACTOR_EAST if h.district.code in east else CONTRACTOR_WEST
            contract = (
                self.contracts["BENCH/23/00076"]
                if h.district.code == "medway"
                else contract_for[contractor]
            )
            allocated = self.later(r.decided_at, 0.5, 6)
            emergency = r.urgent or rng.random() < 0.1
            job = SecurityJob(
                reference=f"SW-{allocated.year}-B{h.index:05d}",
                case_file=h.case_file,
                household=h.case_file.household,
                authority=h.authority,
                district=h.district,
                contract=contract,
                contractor=self.orgs[contractor],
                suggested_contractor=self.orgs[contractor],
                priority=JobPriority.EMERGENCY if emergency else JobPriority.STANDARD,
                allocated_at=allocated,
                make_safe_due_at=workdays.due_at(allocated, HOURS_24) if emergency else None,
                survey_due_at=workdays.due_at(allocated, SURVEY_TARGET),
            )
            if emergency:
                job.made_safe_at = self.later(allocated, 2, 30)
            job.survey_booked_for = self.later(allocated, 20, 80)
            job.surveyed_at = self.later(job.survey_booked_for, 0, 70)
            job.landlord_consent_required = Tenure.needs_landlord_consent(h.tenure)
            if job.landlord_consent_required:
                job.landlord_consent_at = self.later(job.surveyed_at, 24, 24 * 12)
            install_from = job.landlord_consent_at or job.surveyed_at
            job.installation_due_at = workdays.due_at(install_from, INSTALL_TARGET)
            job.installation_booked_for = self.later(install_from, 24, 24 * 10)
            job.installed_at = self.later(job.installation_booked_for, 0, 30)
            job.checked_at = self.later(job.installed_at, 24 * 7, 24 * 21)
            job.completed_at = self.later(job.checked_at, 2, 72)
            cancel_at = None
            if rng.random() < 0.08:
                cancel_at = self.later(allocated, 24, 24 * 30)
            self._job_state(job, cancel_at)
            jobs.append(job)
            if job.surveyed_at:
                plan = rng.sample(self.measures, rng.randint(2, 5))
                for m in plan:
                    qty = Decimal(rng.choice([1, 1, 1, 2, 3]))
                    surveyed_lines.append(
                        SurveyMeasure(
                            job=job,
                            measure=m,
                            quantity=qty,
                            unit_cost=m.unit_cost,
                            location=rng.choice(["front door", "back door", "windows", ""]),
                            created_at=job.surveyed_at,
                        )
                    )
                    if job.installed_at:
                        fitted.append(
                            InstalledMeasure(
                                job=job,
                                measure=m,
                                quantity=qty,
                                actual_cost=(qty * m.unit_cost).quantize(Decimal("0.01")),
                                created_at=job.installed_at,
                            )
                        )
            if job.checked_at:
                checks.append(
                    PostInstallationCheck(
                        job=job,
                        checked_on=job.checked_at.astimezone(LOCAL_TZ).date(),
                        measures_working=rng.random() < 0.97,
                        feels_safer=rng.choices(
                            [
                                FeelsSafer.MUCH_SAFER,
                                FeelsSafer.A_LITTLE_SAFER,
                                FeelsSafer.NO_DIFFERENT,
                                "",
                            ],
                            [60, 25, 7, 8],
                        )[0],
                        recorded_at=job.checked_at,
                    )
                )
            h.jobs_open = job.is_open
            h.end = max(filter(None, [h.end, job.completed_at, job.cancelled_at]), default=None)
        _bulk(SecurityJob, jobs)
        _bulk(SurveyMeasure, surveyed_lines)
        _bulk(InstalledMeasure, fitted)
        _bulk(PostInstallationCheck, checks)
        self.jobs = jobs
        self.counts.update(
            security_jobs=len(jobs),
            survey_lines=len(surveyed_lines),
            installed_measures=len(fitted),
        )

    def _job_state(self, job: SecurityJob, cancel_at: dt.datetime | None) -> None:
        """Keep the milestones that have happened by now (or by the cancellation) and set the
        status and the running clocks as the services would leave them."""
        cutoff = min(self.now, cancel_at) if cancel_at else self.now
        milestones = [
            ("made_safe_at", None),
            ("survey_booked_for", JobStatus.SURVEY_BOOKED),
            ("surveyed_at", JobStatus.SURVEYED),
            ("landlord_consent_at", None),
            ("installation_booked_for", JobStatus.INSTALLATION_BOOKED),
            ("installed_at", JobStatus.INSTALLED),
            ("checked_at", JobStatus.CHECKED),
            ("completed_at", JobStatus.COMPLETED),
        ]
        status = JobStatus.ALLOCATED
        for name, reached in milestones:
            value = getattr(job, name)
            if value is None:
                continue
            if value > cutoff:
                setattr(job, name, None)
            elif reached:
                status = reached
        if job.landlord_consent_required and job.landlord_consent_at is None and job.surveyed_at:
            status = JobStatus.AWAITING_LANDLORD_CONSENT
            job.installation_booked_for = job.installed_at = None
        if job.landlord_consent_required and job.landlord_consent_at is None:
            job.installation_due_at = None
        if job.surveyed_at is None:
            job.installation_due_at = None
        if cancel_at and cancel_at <= self.now and status != JobStatus.COMPLETED:
            job.cancelled_at = cancel_at
            job.cancellation_reason = self.rng.choice(list(CancellationReason.values))
            status = JobStatus.CANCELLED
        elif status not in (JobStatus.COMPLETED,) and self.rng.random() < 0.03:
            job.status_before_hold = status
            job.hold_reason = self.rng.choice(list(HoldReason.values))
            status = JobStatus.ON_HOLD
        job.status = status
        if job.is_open and status != JobStatus.ON_HOLD:
            running = [
                due
                for due, stop in (
                    (job.make_safe_due_at, job.made_safe_at),
                    (job.survey_due_at, job.surveyed_at),
                    (job.installation_due_at, job.installed_at),
                )
                if due is not None and stop is None
            ]
            job.next_due_at = min(running, default=None)
