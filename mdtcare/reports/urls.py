from django.urls import path

from mdtcare.reports import urls_evaluation, urls_exports
from mdtcare.reports.views import activity

app_name = "reports"

urlpatterns = [
    path("", activity.monthly_activity_page, name="monthly_activity"),
    path(
        "monthly-activity.<str:fmt>",
        activity.monthly_activity_export,
        name="monthly_activity_export",
    ),
    *urls_evaluation.urlpatterns,
    *urls_exports.urlpatterns,
]
