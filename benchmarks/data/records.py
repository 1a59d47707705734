"""Closing case files, the grants that make cases visible, the timeline, the audit log and past
report runs."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from benchmarks.data.base import (
    BATCH,
    BuilderBase,
    _bulk,
    _Household,
)
from referrals.models import (
    ReferralStatus,
)
from reporting.models import ReportKind, ReportRun, RunStatus
from reporting.periods import Period
from safer.access.grants import organisation_group_name, team_group_name
from safer.accounts.models import User
from safer.audit.models import AccessAction, AccessLog, AuthEvent, AuthEventKind
from safer.casefile.models import (
    VIEW_CASEFILE_ADDRESS,
    WORK_ON_CASEFILE,
    CaseEvent,
    CaseFile,
    CaseFileGroupObjectPermission,
    CaseStatus,
)


class RecordsWriter(BuilderBase):
    # --- Case files, grants, timeline, audit -------------------------------------------------

    def close_case_files(self, households: list[_Household]) -> None:
        """A case file closes when the referral was declined or withdrawn, or when its last
        service has ended."""
        to_close = []
        for h in households:
            r = h.referral
            if r.is_open or h.jobs_open or h.services_open:
                continue
            if r.status == ReferralStatus.ACCEPTED and h.end is None:
                continue  # accepted with no service routed: stays open for the SPA to follow up
            closed = h.end or r.decided_at or self.later(r.received_at, 24, 24 * 5)
            if closed > self.now:
                continue
            to_close.append(h.case_file.pk)
            h.case_file.closed_at = closed
        closed_at = {h.case_file.pk: h.case_file.closed_at for h in households}
        files = list(CaseFile.objects.filter(pk__in=to_close))
        for f in files:
            f.status = CaseStatus.CLOSED
            f.closed_at = closed_at[f.pk]
            assert f.closed_at is not None
            f.retention_until = f.closed_at.date() + dt.timedelta(days=6 * 365)
        CaseFile.objects.bulk_update(
            files, ["status", "closed_at", "retention_until"], batch_size=BATCH
        )

    def grants(self) -> None:
        """The rows ``casefile_access_grant`` writes, in bulk: the team works on its adult cases,
        the CYP team on its children's, and the contractor organisation on its jobs (with the
        address only while the job is open, as the services withdraw it on closure)."""
        permissions = {
            p.codename: p
            for p in Permission.objects.filter(
                codename__in=[WORK_ON_CASEFILE, VIEW_CASEFILE_ADDRESS],
                content_type__app_label="casefile",
            )
        }
        groups: dict[str, Group] = {}

        def group(name: str) -> Group:
            if name not in groups:
                groups[name] = Group.objects.get_or_create(name=name)[0]
            return groups[name]

        wanted: set[tuple[str, str, uuid.UUID]] = set()
        for case in [*self.adult, *self.cyp]:
            assert case.team_id is not None
            wanted.add((team_group_name(case.team_id), WORK_ON_CASEFILE, case.case_file_id))
        for job in self.jobs:
            name = organisation_group_name(job.contractor_id)
            wanted.add((name, WORK_ON_CASEFILE, job.case_file_id))
            if job.is_open:
                wanted.add((name, VIEW_CASEFILE_ADDRESS, job.case_file_id))
        rows = [
            CaseFileGroupObjectPermission(
                group=group(name), permission=permissions[codename], content_object_id=case_file
            )
            for name, codename, case_file in sorted(wanted, key=str)
        ]
        _bulk(CaseFileGroupObjectPermission, rows)
        self.counts["grants"] = len(rows)

    def case_events(self, households: list[_Household]) -> None:
        rows = []
        for h in households:
            r = h.referral
            rows.append(
                CaseEvent(
                    case_file=h.case_file,
                    occurred_at=r.received_at,
                    kind="referral_received",
                    summary="Referral received",
                    data={"referral_id": str(r.pk)},
                )
            )
            if r.decided_at:
                rows.append(
                    CaseEvent(
                        case_file=h.case_file,
                        occurred_at=r.decided_at,
                        actor=r.decided_by,
                        kind=f"referral_{r.status}",
                        summary=f"Referral {r.get_status_display().lower()}",
                        data={"referral_id": str(r.pk)},
                    )
                )
        for job in self.jobs:
            rows.append(
                CaseEvent(
                    case_file_id=job.case_file_id,
                    occurred_at=job.allocated_at,
                    kind="security_job.allocated",
                    summary="Security job allocated",
                    data={"job_id": str(job.pk)},
                )
            )
        for case in [*self.adult, *self.cyp]:
            rows.append(
                CaseEvent(
                    case_file_id=case.case_file_id,
                    occurred_at=case.opened_at,
                    kind="support_case_opened",
                    summary="Support case opened",
                    data={"case_id": str(case.pk)},
                )
            )
        _bulk(CaseEvent, rows)
        self.counts["case_events"] = len(rows)

    def audit_rows(self) -> None:
        """A year of the access log (reads of case files, referrals, jobs and support cases by
        the staff who work on them, each stamped with the record's authority as the access
        services do) and of sign-in events."""
        rng = self.rng
        staff = list(User.objects.filter(email__startswith="bench-"))
        records = (
            [
                ("casefile.casefile", str(pk), authority_id)
                for pk, authority_id in CaseFile.objects.values_list("pk", "authority_id")
            ]
            + [("security_works.securityjob", str(j.pk), j.authority_id) for j in self.jobs]
            + [("support.adultsupportcase", str(c.pk), c.authority_id) for c in self.adult]
            + [("support.cypcase", str(c.pk), c.authority_id) for c in self.cyp]
        )
        start = self.now - dt.timedelta(days=365)
        moments = sorted(
            start + dt.timedelta(seconds=rng.randrange(365 * 86_400))
            for _ in range(self.volume.access_logs)
        )
        rows = []
        for moment in moments:
            user = rng.choice(staff)
            record_type, record_id, authority_id = rng.choice(records)
            rows.append(
                AccessLog(
                    occurred_at=moment,
                    user=user,
                    user_label=f"{user.full_name} <{user.email}>",
                    action=rng.choices(
                        [AccessAction.VIEW, AccessAction.SEARCH, AccessAction.DOWNLOAD], [80, 18, 2]
                    )[0],
                    record_type=record_type,
                    record_id=record_id,
                    authority_id=authority_id,
                    source_ip=f"192.0.2.{rng.randint(1, 254)}",
                )
            )
        _bulk(AccessLog, rows)
        events = [
            AuthEvent(
                occurred_at=start + dt.timedelta(seconds=rng.randrange(365 * 86_400)),
                kind=rng.choices(
                    [
                        AuthEventKind.SIGN_IN,
                        AuthEventKind.OTP_VERIFIED,
                        AuthEventKind.SIGN_OUT,
                        AuthEventKind.SIGN_IN_FAILED,
                    ],
                    [40, 40, 15, 5],
                )[0],
                user=rng.choice(staff),
                source_ip=f"192.0.2.{rng.randint(1, 254)}",
            )
            for _ in range(self.volume.auth_events)
        ]
        _bulk(AuthEvent, events)
        self.counts.update(access_log=len(rows), auth_events=len(events))

    def report_runs(self) -> None:
        """Past runs for the reports index: the quarterly updates, annual returns and monthly
        contract KPI reports a council asks for in a year and a half."""
        rng = self.rng
        commissioner = self.personas["commissioner"]
        kent = self.authorities["kent"]
        security = self.contracts["BENCH/23/00074"]
        runs = []
        for n in range(self.volume.report_runs):
            requested = self.now - dt.timedelta(days=n * 9, hours=rng.randint(0, 8))
            period = Period.quarter_containing(timezone.localdate(requested))
            kind = rng.choice(list(ReportKind.values))
            runs.append(
                ReportRun(
                    kind=kind,
                    period_code=period.code
                    if kind != ReportKind.ANNUAL_RETURN
                    else period.code[:7],
                    contract=security if kind == ReportKind.CONTRACT_KPI else None,
                    requested_by=commissioner,
                    requested_at=requested,
                    status=RunStatus.SUCCEEDED,
                    progress=100,
                    started_at=requested,
                    finished_at=requested + dt.timedelta(seconds=20),
                )
            )
        _bulk(ReportRun, runs)
        through = ReportRun.authorities.through
        _bulk(
            through, [through(reportrun_id=r.pk, commissioningauthority_id=kent.pk) for r in runs]
        )
        self.counts["report_runs"] = len(runs)
