"""``GET /api/v1/reports/monthly-activity/``: the monthly activity as JSON,
CSV or XLSX, the same figures as the report page (read from the same
``monthly_activity``) and under the same access rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from mdtcare.audit.services import access_record
from mdtcare.core.exports import XLSX_CONTENT_TYPE
from mdtcare.reports import activity_export
from mdtcare.reports.access import networks_chosen, report_networks
from mdtcare.reports.activity import monthly_activity
from mdtcare.reports.months import month_range


class _FormatChosenByTheView(DefaultContentNegotiation):
    """``?format=`` names the file to send (csv, xlsx, json), not a DRF
    renderer: errors are still rendered as JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class MonthlyActivityView(APIView):
    content_negotiation_class = _FormatChosenByTheView

    @extend_schema(
        summary="Monthly activity per network and month",
        parameters=[
            OpenApiParameter(
                "from", str, description="First month, YYYY-MM (default: 11 months before `to`)"
            ),
            OpenApiParameter("to", str, description="Last month, YYYY-MM (default: this month)"),
            OpenApiParameter(
                "network",
                str,
                many=True,
                description="Network code; repeat for several (default: all yours)",
            ),
            OpenApiParameter(
                "format",
                str,
                enum=list(activity_export.FORMATS),
                description="json (default), csv or xlsx",
            ),
        ],
        # The file ``format`` names: JSON by default, or CSV or XLSX.
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        fmt = request.query_params.get("format") or "json"
        if fmt not in activity_export.FORMATS:
            raise ValidationError({"format": ["Choose json, csv or xlsx"]})
        allowed = report_networks(user=request.user)
        networks = networks_chosen(
            user=request.user, codes=request.query_params.getlist("network"), allowed=allowed
        )
        first, last = month_range(request.query_params.get("from"), request.query_params.get("to"))
        report = monthly_activity(networks=networks, first=first, last=last)
        access_record(
            request=request,
            what=f"api.report.monthly_activity.{fmt}",
            network_ids=[network.pk for network in networks],
        )
        if fmt == "json":
            return Response(activity_export.as_json(report))
        return activity_export.response(report, fmt)
