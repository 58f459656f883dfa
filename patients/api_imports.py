"""API for the CSV imports (risk-stratification scores, hospital activity):
upload a CSV file and get its report, then confirm (apply its valid rows) or
discard it. The rules are in ``patients.imports``; an import is only ever
seen by the person who uploaded it. Both imports' endpoints work the same
way, through ``_ImportViewSet``."""

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
from patients.models import HospitalActivityImport, RiskImport


class ImportProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the file; 0 for the file as a whole")
    reason = serializers.CharField()


class _ImportSerializer(serializers.ModelSerializer):
    """The report of an upload: every problem by line, and once applied how
    many valid rows matched someone."""

    valid_count = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    ignored_columns = serializers.SerializerMethodField()
    not_found_count = serializers.SerializerMethodField()

    class Meta:
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

    def _report(self, an_import) -> imports.ImportReport:
        cache = self.context.setdefault("_reports", {})
        if an_import.pk not in cache:
            cache[an_import.pk] = imports.import_report(an_import)
        return cache[an_import.pk]

    def get_valid_count(self, an_import) -> int:
        return self._report(an_import).valid_count

    @extend_schema_field(ImportProblemSerializer(many=True))
    def get_errors(self, an_import):
        report = self._report(an_import)
        return [{"line": 0, "reason": reason} for reason in report.file_errors] + [
            {"line": line, "reason": reason} for line, reason in report.row_errors
        ]

    def get_ignored_columns(self, an_import) -> list[str]:
        return self._report(an_import).ignored_columns

    def get_not_found_count(self, an_import) -> int | None:
        return self._report(an_import).not_found_count


class RiskImportSerializer(_ImportSerializer):
    class Meta(_ImportSerializer.Meta):
        model = RiskImport


class HospitalActivityImportSerializer(_ImportSerializer):
    class Meta(_ImportSerializer.Meta):
        model = HospitalActivityImport


class ImportUploadSerializer(serializers.Serializer):
    # An empty file gets the service's message, not DRF's.
    file = serializers.FileField(
        allow_empty_file=True, help_text="The CSV file (UTF-8, with a header row)"
    )


def _raise_api_error(exc: DjangoValidationError):
    raise ValidationError({"detail": exc.messages})


class _ImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``POST`` a CSV file (multipart, field ``file``) to have it checked; the
    report lists every problem by line and nothing changes. ``confirm``
    imports its valid rows, ``discard`` throws it away. Navigators and admins
    only; each person sees only their own imports. A kind of import names
    its model, its access event and its services."""

    model: type[RiskImport | HospitalActivityImport]
    confirm_event: str
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = None

    def require_role(self) -> None:
        raise NotImplementedError

    def validate_file(self, *, filename: str, content: bytes):
        raise NotImplementedError

    def apply(self, an_import):
        raise NotImplementedError

    def get_queryset(self):
        return self.model.objects.filter(created_by_id=self.request.user.pk)

    def create(self, request, *args, **kwargs):
        self.require_role()
        upload_serializer = ImportUploadSerializer(data=request.data)
        upload_serializer.is_valid(raise_exception=True)
        upload = upload_serializer.validated_data["file"]
        an_import = self.validate_file(
            filename=upload.name, content=upload.read(imports.max_upload_bytes() + 1)
        )
        return Response(self.get_serializer(an_import).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        an_import = self.get_object()
        try:
            with transaction.atomic():
                an_import = self.apply(an_import)
                access_record(
                    request=request,
                    what=self.confirm_event,
                    patient_ids=an_import.matched_patient_ids,
                    network_ids=an_import.matched_network_ids,
                )
        except DjangoValidationError as exc:
            _raise_api_error(exc)
        return Response(self.get_serializer(an_import).data)

    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        an_import = self.get_object()
        try:
            an_import = imports.import_discard(by=request.user, an_import=an_import)
        except DjangoValidationError as exc:
            _raise_api_error(exc)
        return Response(self.get_serializer(an_import).data)


def _import_schema(serializer, *, checks: str, confirms: str):
    """The OpenAPI description of one kind of import's endpoints."""
    return extend_schema_view(
        retrieve=extend_schema(
            description="The report of one of your own imports (others: 404).",
            responses=serializer,
        ),
        create=extend_schema(
            description=checks,
            request={"multipart/form-data": ImportUploadSerializer},
            responses={201: serializer},
        ),
        confirm=extend_schema(description=confirms, request=None, responses=serializer),
        discard=extend_schema(
            description="Throw the import away without changing anything; it forgets its rows.",
            request=None,
            responses=serializer,
        ),
    )


@_import_schema(
    RiskImportSerializer,
    checks=(
        "Check a CSV file of risk scores: the report lists every problem by line (line 0: "
        "the file as a whole) and nothing on the register changes."
    ),
    confirms=(
        "Import the valid rows into the records of the people of your networks. Confirming "
        "twice imports once; a discarded import is a 400."
    ),
)
class RiskImportViewSet(_ImportViewSet):
    """Risk-stratification scores: NHS number, risk score, eFI category
    (optional) and score date, one person a row."""

    serializer_class = RiskImportSerializer
    model = RiskImport
    confirm_event = "api.risk-imports.confirm"

    def require_role(self) -> None:
        imports.risk_import_require_role(user=self.request.user)

    def validate_file(self, *, filename, content):
        return imports.risk_import_validate(
            by=self.request.user, filename=filename, content=content
        )

    def apply(self, an_import):
        return imports.risk_import_apply(by=self.request.user, risk_import=an_import)

    def get_object(self):
        return imports.risk_import_get_for_user(user=self.request.user, import_id=self.kwargs["pk"])


@_import_schema(
    HospitalActivityImportSerializer,
    checks=(
        "Check a CSV file of hospital activity (nhs_number, month as YYYY-MM, "
        "ae_attendances, non_elective_admissions, elective_admissions, "
        "outpatient_attendances, bed_days; one row per person per month): the report lists "
        "every problem by line (line 0: the file as a whole), among them NHS numbers not on "
        "the register of your networks, and no activity changes."
    ),
    confirms=(
        "Import the valid rows: a person's month already in mdtcare gets the file's counts "
        "in its place. Confirming twice imports once; a discarded import is a 400."
    ),
)
class HospitalActivityImportViewSet(_ImportViewSet):
    """Hospital activity for the outcome evaluation, one person's month a row."""

    serializer_class = HospitalActivityImportSerializer
    model = HospitalActivityImport
    confirm_event = "api.hospital-activity-imports.confirm"

    def require_role(self) -> None:
        imports.hospital_activity_import_require_role(user=self.request.user)

    def validate_file(self, *, filename, content):
        return imports.hospital_activity_import_validate(
            by=self.request.user, filename=filename, content=content
        )

    def apply(self, an_import):
        return imports.hospital_activity_import_apply(
            by=self.request.user, activity_import=an_import
        )

    def get_object(self):
        return imports.hospital_activity_import_get_for_user(
            user=self.request.user, import_id=self.kwargs["pk"]
        )
