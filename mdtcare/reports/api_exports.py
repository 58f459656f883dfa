"""The actions detail export in the API (``/api/v1/reports/actions/``) and
background exports' status and download (``/api/v1/reports/exports/<id>/``).

As on the site (``mdtcare.reports.views.exports``) and with the same services
(``mdtcare.reports.background``): a small export is the file itself (200);
a large one is queued and answered 202 with the export's id and status URL,
polled until ``status`` is ``ready`` and ``download_url`` is set. Networks
pass the report gate (not a member: 404; a member without a reporting role:
403); an export is only ever seen by the user who asked (others: 404).
Each answer writes one access event; a refusal writes none.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from mdtcare.audit.services import access_record
from mdtcare.core.exports import XLSX_CONTENT_TYPE
from mdtcare.reports import background
from mdtcare.reports.access import networks_chosen
from mdtcare.reports.models import ReportExport
from mdtcare.reports.views.exports import actions_export_ask, export_file_response

CSV_CONTENT_TYPE = "text/csv"


class FileFormatNegotiation(BaseContentNegotiation):
    """Here ``?format=`` names the export's file format, not the renderer
    (DRF would otherwise look for a "csv" renderer and answer 404): every
    answer that is not a file is JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ReportExportSerializer(serializers.ModelSerializer):
    """A background export: how far it has got, and once ``ready`` where to
    download it (until ``expires_at``)."""

    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportExport
        fields = [
            "id",
            "kind",
            "format",
            "status",
            "rows_done",
            "rows_total",
            "error",
            "created_at",
            "finished_at",
            "expires_at",
            "status_url",
            "download_url",
        ]
        read_only_fields = fields

    def _url(self, name, export) -> str:
        return self.context["request"].build_absolute_uri(reverse(name, args=[export.pk]))

    def get_status_url(self, export) -> str:
        return self._url("api-report-export", export)

    def get_download_url(self, export) -> str | None:
        if export.status != ReportExport.Status.READY or background.export_is_expired(export):
            return None
        return self._url("api-report-export-download", export)


EXPORT_PARAMETERS = [
    OpenApiParameter(
        "from", str, description="First month the actions were created in (London), YYYY-MM"
    ),
    OpenApiParameter(
        "to", str, description="Last month (London), YYYY-MM; not in the future. Default: now"
    ),
    OpenApiParameter(
        "network",
        str,
        many=True,
        explode=True,
        description="A network's code (repeat for several); none: all your report networks",
    ),
    OpenApiParameter("format", str, enum=["csv", "xlsx"], description="The file's format (csv)"),
]
FILE_RESPONSES = {
    (200, CSV_CONTENT_TYPE): OpenApiResponse(
        OpenApiTypes.BINARY, description="The export, when small enough to be sent at once"
    ),
    (200, XLSX_CONTENT_TYPE): OpenApiResponse(
        OpenApiTypes.BINARY, description="The export, when small enough to be sent at once"
    ),
}
NOT_VISIBLE = OpenApiResponse(description="Not yours, or no such export or network")


class ActionsExportView(APIView):
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="reports_actions_export",
        parameters=EXPORT_PARAMETERS,
        responses={
            **FILE_RESPONSES,
            202: OpenApiResponse(
                ReportExportSerializer,
                description="Too large to send at once: written in the background; poll "
                "``status_url``",
            ),
            400: OpenApiResponse(description="Bad months or format: a message per field"),
            403: OpenApiResponse(description="Reports are for service admins and GP chairs"),
            404: NOT_VISIBLE,
        },
    )
    def get(self, request):
        """One row per action created in the months, for commissioners: the
        network, dates (London), status, priority, source, the owner's
        profession or organisation type, and whether it came from an MDT
        discussion. No patient identifier and no person's name."""
        chosen = networks_chosen(user=request.user, codes=request.query_params.getlist("network"))
        first, last, fmt = background.export_params_parse(
            from_text=request.query_params.get("from"),
            to_text=request.query_params.get("to"),
            fmt=request.query_params.get("format"),
        )
        decision = actions_export_ask(request, chosen=chosen, first=first, last=last, fmt=fmt)
        if not decision.queued:
            return export_file_response(decision.detail, fmt)
        data = ReportExportSerializer(decision.export, context={"request": request}).data
        return Response(
            data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]}
        )


def _own_export(request, pk) -> ReportExport:
    export = background.export_get_for_user(user=request.user, export_id=pk)
    if export is None:
        raise Http404("No such export")
    return export


class ExportStatusView(APIView):
    @extend_schema(
        operation_id="reports_export_status",
        responses={200: ReportExportSerializer, 404: NOT_VISIBLE},
    )
    def get(self, request, pk):
        """One of your background exports: its status and progress, and its
        ``download_url`` once ready (until it expires, a day later)."""
        export = _own_export(request, pk)
        access_record(
            request=request,
            what="report.export.status",
            network_ids=background.export_network_ids(export),
        )
        return Response(ReportExportSerializer(export, context={"request": request}).data)


class ExportDownloadView(APIView):
    @extend_schema(
        operation_id="reports_export_download",
        responses={
            (200, CSV_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The file"),
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The file"),
            404: NOT_VISIBLE,
            409: OpenApiResponse(description="Not ready yet (or failed): see its status"),
            410: OpenApiResponse(description="Expired: ask for the export again"),
        },
    )
    def get(self, request, pk):
        """The file of one of your ready exports, until it expires."""
        export = _own_export(request, pk)
        if export.status != ReportExport.Status.READY:
            return Response(
                {"detail": f"The export is not ready: it is {export.get_status_display().lower()}"},
                status=status.HTTP_409_CONFLICT,
            )
        try:
            if background.export_is_expired(export):
                raise FileNotFoundError(export.file_name)
            file = background.export_path(export).open("rb")
        except FileNotFoundError:
            return Response(
                {"detail": "The export has expired: ask for it again"},
                status=status.HTTP_410_GONE,
            )
        access_record(
            request=request,
            what="report.export.download",
            network_ids=background.export_network_ids(export),
        )
        return FileResponse(
            file,
            as_attachment=True,
            filename=background.export_download_name(export),
            content_type=XLSX_CONTENT_TYPE
            if export.format == ReportExport.Format.XLSX
            else f"{CSV_CONTENT_TYPE}; charset=utf-8",
        )


# Joined into mdtcare/api/urls.py (mounted at /api/v1/).
urlpatterns = [
    path("reports/actions/", ActionsExportView.as_view(), name="api-report-actions"),
    path("reports/exports/<uuid:pk>/", ExportStatusView.as_view(), name="api-report-export"),
    path(
        "reports/exports/<uuid:pk>/download/",
        ExportDownloadView.as_view(),
        name="api-report-export-download",
    ),
]
