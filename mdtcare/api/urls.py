from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from careplans.api import AssessmentViewSet
from careplans.plans_api import CarePlanViewSet
from mdtcare.api.views import MeView, TokenView
from mdtcare.notifications.api import NotificationViewSet
from mdtcare.reports import api_exports
from mdtcare.reports.api import MonthlyActivityView
from meetings.api import ActionViewSet, MeetingViewSet
from patients.api import PatientViewSet, RegisterEntryViewSet
from patients.api_imports import HospitalActivityImportViewSet, RiskImportViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("patients", PatientViewSet, basename="patient")
router.register("register-entries", RegisterEntryViewSet, basename="register-entry")
router.register("risk-imports", RiskImportViewSet, basename="risk-import")
router.register(
    "hospital-activity-imports", HospitalActivityImportViewSet, basename="hospital-activity-import"
)
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("careplans", CarePlanViewSet, basename="careplan")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("actions", ActionViewSet, basename="action")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI sets inline style attributes; scripts stay 'self' only.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("reports/monthly-activity/", MonthlyActivityView.as_view(), name="api-monthly-activity"),
    *api_exports.urlpatterns,
    path("", include(router.urls)),
]
