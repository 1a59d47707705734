from django.urls import path

from support.views import adult, caseload, cases, cyp, groups, referral

app_name = "support"

ADULT = {"kind": "adult"}
CYP = {"kind": "cyp"}

urlpatterns = [
    path("", caseload.caseload, name="caseload"),
    path("team/", caseload.team, name="team"),
    path("team/<uuid:worker_id>/", caseload.worker_caseload_view, name="worker-caseload"),
    # Adult support cases
    path("adult/<uuid:case_id>/", cases.adult_detail, name="adult-detail"),
    path("adult/<uuid:case_id>/allocate/", cases.case_allocate, ADULT, name="adult-allocate"),
    path("adult/<uuid:case_id>/transfer/", cases.case_transfer, ADULT, name="adult-transfer"),
    path("adult/<uuid:case_id>/contact/", cases.case_contact, ADULT, name="adult-contact"),
    path("adult/<uuid:case_id>/close/", cases.case_close, ADULT, name="adult-close"),
    path("adult/<uuid:case_id>/closed/", cases.case_closed, ADULT, name="adult-closed"),
    path("adult/<uuid:case_id>/share/", cases.case_share, ADULT, name="adult-share"),
    path("adult/<uuid:case_id>/session/", adult.adult_session, name="adult-session"),
    path("adult/<uuid:case_id>/outcomes/", adult.adult_outcomes, name="adult-outcomes"),
    path("adult/<uuid:case_id>/needs/", adult.adult_needs, name="adult-needs"),
    path("adult/<uuid:case_id>/safety-plan/", adult.adult_safety_plan, name="adult-safety-plan"),
    path("adult/<uuid:case_id>/goal/", adult.adult_goal, name="adult-goal"),
    path(
        "adult/<uuid:case_id>/goal/<uuid:goal_id>/status/",
        adult.adult_goal_status,
        name="adult-goal-status",
    ),
    # Children and young people
    path("cyp/<uuid:case_id>/", cases.cyp_detail, name="cyp-detail"),
    path("cyp/<uuid:case_id>/allocate/", cases.case_allocate, CYP, name="cyp-allocate"),
    path("cyp/<uuid:case_id>/transfer/", cases.case_transfer, CYP, name="cyp-transfer"),
    path("cyp/<uuid:case_id>/contact/", cases.case_contact, CYP, name="cyp-contact"),
    path("cyp/<uuid:case_id>/close/", cases.case_close, CYP, name="cyp-close"),
    path("cyp/<uuid:case_id>/closed/", cases.case_closed, CYP, name="cyp-closed"),
    path("cyp/<uuid:case_id>/share/", cases.case_share, CYP, name="cyp-share"),
    path("cyp/<uuid:case_id>/review/", cyp.cyp_review, name="cyp-review"),
    path("cyp/<uuid:case_id>/function/", cyp.cyp_function, name="cyp-function"),
    path("cyp/<uuid:case_id>/session/", cyp.cyp_session, name="cyp-session"),
    path("cyp/<uuid:case_id>/goal/", cyp.cyp_goal, name="cyp-goal"),
    path(
        "cyp/<uuid:case_id>/goal/<uuid:goal_id>/score/",
        cyp.cyp_goal_score,
        name="cyp-goal-score",
    ),
    path("cyp/<uuid:case_id>/exit-plan/", cyp.cyp_exit_plan, name="cyp-exit-plan"),
    path("cyp/<uuid:case_id>/feedback/", cyp.cyp_feedback, name="cyp-feedback"),
    path("cyp/<uuid:case_id>/safeguarding/", cyp.cyp_concern, name="cyp-concern"),
    path(
        "cyp/<uuid:case_id>/safeguarding/<uuid:concern_id>/referral/",
        cyp.cyp_concern_referral,
        name="cyp-concern-referral",
    ),
    # Group work
    path("groups/", groups.group_list, name="groups"),
    path("groups/<uuid:group_id>/", groups.group_detail, name="group-detail"),
    path("groups/<uuid:group_id>/add/", groups.group_add_member, name="group-add-member"),
    path("groups/<uuid:group_id>/session/", groups.group_record_session, name="group-session"),
    # Direct referrals from accommodation providers
    path("refer-child/", referral.refer_child, name="refer-child"),
    path("refer-child/sent/", referral.refer_child_done, name="refer-child-done"),
]
