from django.urls import path

from careplans.views import assessments, plans

app_name = "careplans"

urlpatterns = [
    path("assessments/", assessments.assessment_list, name="assessment_list"),
    path(
        "patients/<uuid:patient_id>/assessments/new/",
        assessments.assessment_start,
        name="assessment_start",
    ),
    path("assessments/<uuid:assessment_id>/", assessments.assessment_view, name="assessment"),
    path(
        "assessments/<uuid:assessment_id>/details/",
        assessments.assessment_details,
        name="assessment_details",
    ),
    path(
        "assessments/<uuid:assessment_id>/sections/<slug:section>/",
        assessments.assessment_section,
        name="assessment_section",
    ),
    path(
        "assessments/<uuid:assessment_id>/sections/<slug:section>/autosave/",
        assessments.assessment_autosave,
        name="assessment_autosave",
    ),
    path(
        "assessments/<uuid:assessment_id>/check/",
        assessments.assessment_check,
        name="assessment_check",
    ),
    path(
        "assessments/<uuid:assessment_id>/complete/",
        assessments.assessment_complete,
        name="assessment_complete",
    ),
    path(
        "assessments/<uuid:assessment_id>/print/",
        assessments.assessment_print,
        name="assessment_print",
    ),
    path(
        "assessments/<uuid:assessment_id>/sections/<slug:section>/amend/",
        assessments.assessment_amend,
        name="assessment_amend",
    ),
    # Integrated care and support plans.
    path("patients/<uuid:patient_id>/care-plan/new/", plans.plan_create, name="plan_create"),
    path("care-plans/attention/", plans.plan_attention, name="plan_attention"),
    path("care-plans/<uuid:plan_id>/", plans.plan_view, name="plan"),
    path("care-plans/<uuid:plan_id>/edit/", plans.plan_edit, name="plan_edit"),
    # One name for adding (without a goal) and changing (with one).
    path("care-plans/<uuid:plan_id>/goals/add/", plans.plan_goal, name="plan_goal"),
    path("care-plans/<uuid:plan_id>/goals/<uuid:goal_id>/", plans.plan_goal, name="plan_goal"),
    path(
        "care-plans/<uuid:plan_id>/goals/<uuid:goal_id>/remove/",
        plans.plan_goal_remove,
        name="plan_goal_remove",
    ),
    path("care-plans/<uuid:plan_id>/team/add/", plans.plan_team_add, name="plan_team_add"),
    path(
        "care-plans/<uuid:plan_id>/team/<uuid:member_id>/remove/",
        plans.plan_team_remove,
        name="plan_team_remove",
    ),
    path("care-plans/<uuid:plan_id>/propose/", plans.plan_propose, name="plan_propose"),
    path("care-plans/<uuid:plan_id>/ratify/", plans.plan_ratify, name="plan_ratify"),
    path("care-plans/<uuid:plan_id>/share/", plans.plan_share, name="plan_share"),
    path("care-plans/<uuid:plan_id>/new-version/", plans.plan_new_version, name="plan_new_version"),
    path("care-plans/<uuid:plan_id>/compare/", plans.plan_compare, name="plan_compare"),
    path("care-plans/<uuid:plan_id>/print/", plans.plan_print, name="plan_print"),
]
