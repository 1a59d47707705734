"""Demo data for data protection: a subject access request received last week on a demo case,
waiting for its export (the SPA manager makes it, the second SPA manager approves it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from safer.dataprotection.models import SubjectAccessRequest
from safer.dataprotection.subject_access import subject_access_request_record
from safer.demo import DemoContext, demo_seeder

SAR_CASE = "SAFER-DEMO-0002"


@demo_seeder
def data_protection_demo(context: DemoContext) -> Iterator[str]:
    case_file = context.case_files[SAR_CASE]
    if SubjectAccessRequest.objects.filter(case_file=case_file).exists():
        return
    subject_access_request_record(
        case_file=case_file,
        person=case_file.survivor,
        requested_by_description="The survivor, by email to the SPA",
        received_on=timezone.localdate() - dt.timedelta(days=7),
        by=context.users["spa_manager"],
    )
    yield f"Data protection: a subject access request on {SAR_CASE}, due in a month."
