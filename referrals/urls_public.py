"""The public referral form, mounted at /refer/."""

from django.urls import path

from referrals.views import public

app_name = "refer"

urlpatterns = [
    path("", public.start, name="start"),
    path("session-ended/", public.session_ended, name="session-ended"),
    path("no-consent/", public.no_consent, name="no-consent"),
    path("not-eligible/", public.not_eligible, name="not-eligible"),
    path("check/", public.check, name="check"),
    path("confirmation/", public.confirmation, name="confirmation"),
]
for _kind in ("children", "adults"):
    urlpatterns += [
        path(f"{_kind}/list/", public.people_list, {"kind": _kind}, name=f"{_kind}-list"),
        path(f"{_kind}/add/", public.person_edit, {"kind": _kind}, name=f"{_kind}-add"),
        path(f"{_kind}/<int:index>/", public.person_edit, {"kind": _kind}, name=f"{_kind}-edit"),
        path(
            f"{_kind}/<int:index>/remove/",
            public.person_remove,
            {"kind": _kind},
            name=f"{_kind}-remove",
        ),
    ]
urlpatterns.append(path("<slug:slug>/", public.question, name="question"))
