from django.urls import path

from careplans.views import assessments

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
]
