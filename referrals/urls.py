"""Triage (SPA staff) and the referrer portal, mounted at /referrals/."""

from django.urls import path

from referrals.views import advice, portal, triage

app_name = "referrals"

urlpatterns = [
    path("", triage.queue, name="queue"),
    path("mine/", portal.my_referrals, name="mine"),
    path("mine/<uuid:referral_id>/", portal.referral_status, name="mine-status"),
    path("advice/", advice.advice_list, name="advice-list"),
    path("advice/new/", advice.advice_create, name="advice-create"),
    path("<uuid:referral_id>/", triage.detail, name="detail"),
    path("<uuid:referral_id>/start/", triage.start, name="start"),
    path("<uuid:referral_id>/eligibility/", triage.eligibility, name="eligibility"),
    path(
        "<uuid:referral_id>/matches/<uuid:match_id>/",
        triage.match_resolve,
        name="match-resolve",
    ),
    path("<uuid:referral_id>/risk/", triage.risk, name="risk"),
    path("<uuid:referral_id>/marac/", triage.marac, name="marac"),
    path(
        "<uuid:referral_id>/marac/<uuid:marac_id>/hearing/",
        triage.marac_hearing,
        name="marac-hearing",
    ),
    path("<uuid:referral_id>/contact/", triage.contact_attempt, name="contact-attempt"),
    path("<uuid:referral_id>/accept/", triage.accept, name="accept"),
    path("<uuid:referral_id>/decline/", triage.decline, name="decline"),
    path(
        "<uuid:referral_id>/request-information/",
        triage.request_information,
        name="request-information",
    ),
    path(
        "<uuid:referral_id>/information-received/",
        triage.information_received,
        name="information-received",
    ),
    path("<uuid:referral_id>/withdraw/", triage.withdraw, name="withdraw"),
]
