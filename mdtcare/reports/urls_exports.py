"""Report exports' pages (joined into ``reports`` urls, mounted at /reports/)."""

from django.urls import path

from mdtcare.reports.views import exports

urlpatterns: list = [
    path("actions/export/", exports.actions_export, name="actions_export"),
    path("exports/", exports.export_list, name="export_list"),
    path("exports/<uuid:export_id>/", exports.export_status, name="export"),
    path("exports/<uuid:export_id>/download/", exports.export_download, name="export_download"),
]
