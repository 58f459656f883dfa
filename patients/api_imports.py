"""API for risk-stratification imports: upload a CSV file and get its report,
then confirm (apply its valid rows) or discard it. The rules are in
``patients.imports``; an import is only ever seen by the person who uploaded it."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from mdtcare.audit.services import access_record
from patients import imports
from patients.models import RiskImport


class RiskImportProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the file; 0 for the file as a whole")
    reason = serializers.CharField()


class RiskImportSerializer(serializers.ModelSerializer):
    """The report of an upload: every problem by line, and once applied how
    many valid rows matched someone."""

    valid_count = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    ignored_columns = serializers.SerializerMethodField()
    not_found_count = serializers.SerializerMethodField()

    class Meta:
        model = RiskImport
        fields = [
            "id",
            "filename",
            "status",
            "row_count",
            "valid_count",
            "errors",
            "ignored_columns",
            "matched_count",
            "not_found_count",
            "created_at",
            "applied_at",
        ]
        read_only_fields = fields

    def _report(self, risk_import) -> imports.ImportReport:
        cache = self.context.setdefault("_reports", {})
        if risk_import.pk not in cache:
            cache[risk_import.pk] = imports.risk_import_report(risk_import)
        return cache[risk_import.pk]

    def get_valid_count(self, risk_import) -> int:
        return self._report(risk_import).valid_count

    @extend_schema_field(RiskImportProblemSerializer(many=True))
    def get_errors(self, risk_import):
        report = self._report(risk_import)
        return [{"line": 0, "reason": reason} for reason in report.file_errors] + [
            {"line": line, "reason": reason} for line, reason in report.row_errors
        ]

    def get_ignored_columns(self, risk_import) -> list[str]:
        return self._report(risk_import).ignored_columns

    def get_not_found_count(self, risk_import) -> int | None:
        return self._report(risk_import).not_found_count


class RiskImportUploadSerializer(serializers.Serializer):
    # An empty file gets the service's message, not DRF's.
    file = serializers.FileField(
        allow_empty_file=True, help_text="The CSV file (UTF-8, with a header row)"
    )


def _raise_api_error(exc: DjangoValidationError):
    raise ValidationError({"detail": exc.messages})


@extend_schema_view(
    retrieve=extend_schema(description="The report of one of your own imports (others: 404).")
)
class RiskImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``POST`` a CSV file (multipart, field ``file``) to have it checked; the
    report lists every problem by line and nothing changes. ``confirm``
    imports its valid rows, ``discard`` throws it away. Navigators and admins
    only; each person sees only their own imports."""

    serializer_class = RiskImportSerializer
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = None

    def get_queryset(self):
        return RiskImport.objects.filter(created_by_id=self.request.user.pk)

    def get_object(self):
        return imports.risk_import_get_for_user(user=self.request.user, import_id=self.kwargs["pk"])

    @extend_schema(
        request={"multipart/form-data": RiskImportUploadSerializer},
        responses={201: RiskImportSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Check a CSV file of risk scores: the report lists every problem by
        line (line 0: the file as a whole) and nothing on the register changes."""
        imports.risk_import_require_role(user=request.user)
        upload_serializer = RiskImportUploadSerializer(data=request.data)
        upload_serializer.is_valid(raise_exception=True)
        upload = upload_serializer.validated_data["file"]
        risk_import = imports.risk_import_validate(
            by=request.user,
            filename=upload.name,
            content=upload.read(imports.max_upload_bytes() + 1),
        )
        return Response(self.get_serializer(risk_import).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RiskImportSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Import the valid rows into the records of the people of your
        networks. Confirming twice imports once; a discarded import is a 400."""
        risk_import = self.get_object()
        try:
            with transaction.atomic():
                risk_import = imports.risk_import_apply(by=request.user, risk_import=risk_import)
                access_record(
                    request=request,
                    what="api.risk-imports.confirm",
                    patient_ids=risk_import.matched_patient_ids,
                    network_ids=risk_import.matched_network_ids,
                )
        except DjangoValidationError as exc:
            _raise_api_error(exc)
        return Response(self.get_serializer(risk_import).data)

    @extend_schema(request=None, responses=RiskImportSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Throw the import away without changing anything; it forgets its rows."""
        risk_import = self.get_object()
        try:
            risk_import = imports.risk_import_discard(by=request.user, risk_import=risk_import)
        except DjangoValidationError as exc:
            _raise_api_error(exc)
        return Response(self.get_serializer(risk_import).data)
