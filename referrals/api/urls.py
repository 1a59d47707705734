"""/api/v1/referrals/ (mounted by safer/urls.py)."""

from django.urls import path

from referrals.api import views

app_name = "api-referrals"

urlpatterns = [
    path("", views.ReferralSubmitView.as_view(), name="submit"),
    path("districts/", views.DistrictListView.as_view(), name="districts"),
    path("<uuid:referral_id>/status/", views.ReferralStatusView.as_view(), name="status"),
]
