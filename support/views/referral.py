"""The direct CYP referral form for refuge, dispersed and move-on accommodation providers.

Signed-in staff of an accommodation provider only (not the public form). The confirmation shows
the reference and nothing about the child; the referrer sees nothing of the case afterwards.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from safer.access.roles import role_required
from safer.access.scoping import user_authorities
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.intake import AddressDetails, PersonDetails, SafeContactDetails
from safer.organisations.models import District, OrganisationKind
from support.exceptions import SupportError
from support.forms import DirectReferralForm
from support.services.direct_referral import DirectCypReferral, cyp_direct_referral_submit
from support.views.common import user_of

SESSION_KEY = "support:direct_referral_reference"


def _accommodation_staff(request: HttpRequest) -> User:
    user = user_of(request)
    if user.organisation is None or user.organisation.kind != OrganisationKind.ACCOMMODATION:
        raise PermissionDenied
    return user


@role_required(Role.REFERRER)
@never_cache
@require_http_methods(["GET", "POST"])
def refer_child(request: HttpRequest) -> HttpResponse:
    user = _accommodation_staff(request)
    districts = District.objects.filter(authority__in=user_authorities(user).values("id"))
    form = DirectReferralForm(request.POST or None, districts=districts)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        referral = DirectCypReferral(
            child=PersonDetails(
                given_name=d["child_given_name"].strip(),
                family_name=d["child_family_name"].strip(),
                date_of_birth=d["child_date_of_birth"],
                sex=d["child_sex"],
            ),
            parent=PersonDetails(
                given_name=d["parent_given_name"].strip(),
                family_name=d["parent_family_name"].strip(),
                date_of_birth=d["parent_date_of_birth"],
            ),
            address=AddressDetails(
                district=d["district"],
                address_line_1=d["address_line_1"].strip(),
                address_line_2=d["address_line_2"].strip(),
                town=d["town"].strip(),
                postcode=d["postcode"].strip().upper(),
                tenure="other",
            ),
            safe_contact=SafeContactDetails(
                safe_channels=d["safe_channels"],
                phone=d["phone"].strip(),
                voicemail_safe=d["voicemail_safe"],
                text_safe=d["text_safe"],
                safe_times=d["safe_times"].strip(),
            ),
            accommodation_type=d["accommodation_type"],
            parent_consents=d["parent_consents"],
            reason=d["reason"],
        )
        try:
            case = cyp_direct_referral_submit(referral=referral, submitted_by=user)
        except SupportError as error:
            form.add_error(None, error.message)
            status = 400
        else:
            request.session[SESSION_KEY] = case.case_file.reference
            return redirect("support:refer-child-done")
    elif request.method == "POST":
        status = 400
    return render(request, "support/refer_child.html", {"form": form}, status=status)


@role_required(Role.REFERRER)
@never_cache
@require_GET
def refer_child_done(request: HttpRequest) -> HttpResponse:
    _accommodation_staff(request)
    reference = request.session.pop(SESSION_KEY, None)
    if reference is None:
        return redirect("support:refer-child")
    return render(request, "support/refer_child_done.html", {"reference": reference})
