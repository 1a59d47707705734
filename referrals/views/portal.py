"""The referrer portal: the status of the referrals you made, and nothing else."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from referrals.selectors import referral_status_for_referrer, referrals_made_by
from safer.access.roles import role_required
from safer.accounts.models import User
from safer.accounts.roles import Role


@role_required(Role.REFERRER)
@require_GET
def my_referrals(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    return render(request, "referrals/portal/mine.html", {"rows": referrals_made_by(user=user)})


@role_required(Role.REFERRER)
@require_GET
def referral_status(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    """One referral's status, for the referrer who made it (404 for anyone else's)."""
    user = request.user
    assert isinstance(user, User)
    detail = referral_status_for_referrer(user=user, referral_id=referral_id, request=request)
    return render(request, "referrals/portal/status.html", {"referral": detail})
