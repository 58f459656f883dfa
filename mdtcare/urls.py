from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from mdtcare.core import views as core_views

admin.site.site_header = "mdtcare administration"
admin.site.site_title = "mdtcare"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("reports/", include("mdtcare.reports.urls")),
    path("account/", include("mdtcare.accounts.urls")),
    path("patients/", include("patients.urls")),
    path("", include("careplans.urls")),
    path("", include("meetings.urls")),
    path("notifications/", include("mdtcare.notifications.urls")),
    path("api/v1/", include("mdtcare.api.urls")),
    # One log-in page for everyone (lockout, two-factor), the admin's included.
    path(
        "admin/login/", RedirectView.as_view(url=reverse_lazy("accounts:login"), query_string=True)
    ),
    path("admin/", admin.site.urls),
]

handler400 = "mdtcare.core.views.error_400"
handler403 = "mdtcare.core.views.error_403"
handler404 = "mdtcare.core.views.error_404"
handler500 = "mdtcare.core.views.error_500"
