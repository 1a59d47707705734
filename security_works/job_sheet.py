"""The job sheet: a PDF of the job for the visit, built from the contractor's allow-list.

It shows what the job page shows a contractor (``security_works.contractor_view``), no more: the
reference, the dates, the works, and, only while the job is open and the organisation holds the
address grant, the address, the access and hazard notes and how to arrange the visit safely.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from security_works.contractor_view import JobAddress, address_data
from security_works.models import SecurityJob
from security_works.selectors import planned_lines


def job_sheet_render(*, job: SecurityJob, address: JobAddress | None) -> bytes:
    """``address`` comes from ``selectors.job_address_reveal`` (which decides and logs)."""
    from weasyprint import HTML

    html = render_to_string(
        "security_works/job_sheet.html",
        {
            "job": job,
            "address": address_data(address),
            "channels": address.safe_contact.channel_labels
            if address and address.safe_contact
            else [],
            "warnings": address.safe_contact.warnings if address and address.safe_contact else [],
            "plan": planned_lines(job),
            "generated_at": timezone.localtime(),
        },
    )
    return bytes(HTML(string=html, base_url=None).write_pdf())
