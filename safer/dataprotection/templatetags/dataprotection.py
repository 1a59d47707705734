"""The data protection panel on the case page (SPA managers only): how long the case is kept, any
legal hold, and the links to place or lift a hold and to record a subject access request. A
template tag, so the case file's views need not import this app."""

from __future__ import annotations

from typing import Any

from django import template

from safer.access.roles import user_has_role
from safer.accounts.roles import Role
from safer.casefile.models import CaseFile
from safer.dataprotection.models import SubjectAccessRequest
from safer.dataprotection.selectors import casefile_retention_status

register = template.Library()


@register.inclusion_tag("dataprotection/_casefile_panel.html", takes_context=True)
def data_protection_panel(context: dict[str, Any], case_file: CaseFile) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not user_has_role(user, Role.SPA_MANAGER):
        return {"show": False}
    return {
        "show": True,
        "case_file": case_file,
        "status": casefile_retention_status(case_file=case_file),
        "requests": SubjectAccessRequest.objects.filter(case_file=case_file).order_by(
            "-recorded_at"
        ),
    }
