"""The register's API: patients and register entries (with their status
actions). Serializers parse and name their writable fields; every rule is in
``patients.services``."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.response import Response

from mdtcare.accounts.models import Organisation, User
from mdtcare.api.views import GatedReadOnlyViewSet
from mdtcare.core import nhs_number
from patients import services
from patients.models import Patient, PatientCondition, RegisterEntry
from patients.selectors import patient_search_filter


def _raise_api_error(exc: DjangoValidationError, **extra):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    raise ValidationError({**detail, **extra})


class PracticeField(serializers.SlugRelatedField):
    """A GP practice by its ODS code."""

    def __init__(self, **kwargs):
        super().__init__(
            slug_field="ods_code",
            queryset=Organisation.objects.filter(type=Organisation.Type.GP_PRACTICE),
            **kwargs,
        )


class PatientSerializer(serializers.ModelSerializer):
    practice = PracticeField()
    # Declared, not from the model: uniqueness is the service's rule (with the
    # link to the existing record), and spaces are allowed when typed.
    nhs_number = serializers.CharField(max_length=20)
    conditions = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "nhs_number",
            "title",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "address",
            "postcode",
            "phone",
            "practice",
            "preferred_language",
            "interpreter_needed",
            "accessibility_needs",
            "date_of_death",
            "conditions",
            "risk_score",
            "risk_scored_on",
            "frailty_category",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "conditions",
            "risk_score",
            "risk_scored_on",
            "frailty_category",
            "created_at",
            "updated_at",
        ]

    def get_conditions(self, patient) -> list[str]:
        return [condition.condition_id for condition in patient.conditions.all()]

    def validate_nhs_number(self, value):
        if self.instance is not None and nhs_number.normalise(value) != self.instance.nhs_number:
            raise ValidationError("The NHS number is a person's identity and cannot be changed.")
        try:
            return nhs_number.validate(value)
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc


class PatientFilter(filters.FilterSet):
    practice = filters.CharFilter(field_name="practice__ods_code")
    network = filters.CharFilter(field_name="practice__network__code")

    class Meta:
        model = Patient
        fields = ["practice", "network", "sex"]


class PatientSearchFilter(SearchFilter):
    """``?search=`` by name, NHS number (with or without spaces) or date of birth."""

    def filter_queryset(self, request, queryset, view):
        return queryset.filter(patient_search_filter(request.query_params.get("search", "")))


class PatientViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, GatedReadOnlyViewSet):
    serializer_class = PatientSerializer
    gated_queryset = Patient.objects.select_related("practice").prefetch_related(
        # The serializer lists only the condition keys (in the model's order).
        Prefetch("conditions", queryset=PatientCondition.objects.only("patient_id", "condition_id"))
    )
    filter_backends = [filters.DjangoFilterBackend, PatientSearchFilter]
    filterset_class = PatientFilter
    audit_what = "patients"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().order_by("family_name", "given_name", "id")

    def audit_patient_ids(self, objects):
        return [p.pk for p in objects], {p.practice.network_id for p in objects}

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            # The answer is the person's record: its access event is written
            # with the change.
            with transaction.atomic():
                saved = services.patient_create(
                    by=self.request.user,
                    practice=data.pop("practice"),
                    nhs_number=data.pop("nhs_number"),
                    **data,
                )
                self._record([saved.patient], f"api.{self.audit_what}.create")
        except services.DuplicatePatient as exc:
            visible = Patient.objects.visible_to(self.request.user).filter(pk=exc.existing.pk)
            extra = {"existing": str(exc.existing.pk)} if visible.exists() else {}
            _raise_api_error(exc, **extra)
        except DjangoValidationError as exc:
            _raise_api_error(exc)
        serializer.instance = saved.patient
        self._warnings = saved.warnings

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("nhs_number", None)
        try:
            with transaction.atomic():
                saved = services.patient_update(
                    by=self.request.user,
                    patient=serializer.instance,
                    practice=data.pop("practice", None),
                    **data,
                )
                self._record([saved.patient], f"api.{self.audit_what}.update")
        except DjangoValidationError as exc:
            _raise_api_error(exc)
        serializer.instance = saved.patient
        self._warnings = saved.warnings

    def finalize_response(self, request, response, *args, **kwargs):
        warnings = getattr(self, "_warnings", ())
        if warnings and isinstance(response.data, dict):
            response.data["warnings"] = list(warnings)
        return super().finalize_response(request, response, *args, **kwargs)


class UserField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.filter(is_active=True), **kwargs)


class RegisterEntrySerializer(serializers.ModelSerializer):
    """A register entry; written as a referral (``POST``)."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.none())
    # Blank until accepted: the schema must allow "" (a read-only model field
    # with choices would be documented as the enum alone).
    primary_need = serializers.ChoiceField(
        choices=RegisterEntry.PrimaryNeed.choices, allow_blank=True, read_only=True
    )
    referring_organisation = serializers.SlugRelatedField(
        slug_field="ods_code",
        queryset=Organisation.objects.exclude(ods_code=None),
        required=False,
        allow_null=True,
    )
    submission_key = serializers.UUIDField(required=False, write_only=True)
    status_history = serializers.SerializerMethodField()

    class Meta:
        model = RegisterEntry
        fields = [
            "id",
            "patient",
            "status",
            "source",
            "referrer_name",
            "referring_organisation",
            "reason",
            "urgency",
            "referred_on",
            "submission_key",
            "decided_on",
            "tier",
            "primary_need",
            "clinical_lead",
            "navigator",
            "closed_on",
            "status_history",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "decided_on",
            "tier",
            "primary_need",
            "clinical_lead",
            "navigator",
            "closed_on",
            "status_history",
            "created_at",
        ]
        # One open episode per person and one referral per submission key are
        # the service's rules (a repeated key returns the first referral).
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "patient" in self.fields:
            self.fields["patient"].queryset = Patient.objects.visible_to(request.user)

    def get_status_history(self, entry) -> list[dict]:
        return [
            {
                "from": change.from_status,
                "to": change.to_status,
                "at": change.at.isoformat(),
                "by": str(change.by_id),
                "reason": change.reason,
            }
            for change in entry.status_changes.all()
        ]


class AcceptSerializer(serializers.Serializer):
    clinical_lead = UserField()
    navigator = UserField()
    tier = serializers.IntegerField(min_value=0, max_value=3, required=False, allow_null=True)
    primary_need = serializers.ChoiceField(
        choices=RegisterEntry.PrimaryNeed.choices, required=False, allow_blank=True
    )
    expected = serializers.ChoiceField(choices=RegisterEntry.Status.choices, required=False)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, default="", allow_blank=True)
    expected = serializers.ChoiceField(choices=RegisterEntry.Status.choices, required=False)


class RegisterEntryFilter(filters.FilterSet):
    # A plain UUID filter: a choice filter would say whether the id exists.
    patient = filters.UUIDFilter(field_name="patient_id")

    class Meta:
        model = RegisterEntry
        fields = ["status", "patient", "urgency", "source"]


class RegisterEntryViewSet(mixins.CreateModelMixin, GatedReadOnlyViewSet):
    """Register entries. ``POST`` refers a patient; the actions move an
    episode on (accept, decline, activate, step down, discharge, died)."""

    serializer_class = RegisterEntrySerializer
    gated_queryset = RegisterEntry.objects.select_related("patient__practice").prefetch_related(
        "status_changes"
    )
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = RegisterEntryFilter
    audit_what = "register-entries"

    def get_queryset(self):
        return super().get_queryset().order_by("-referred_on", "id")

    def audit_patient_ids(self, objects):
        return [e.patient_id for e in objects], {e.patient.practice.network_id for e in objects}

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = services.referral_create(by=self.request.user, **data)
        except DjangoValidationError as exc:
            _raise_api_error(exc)

    def _move(self, request, service, serializer_class, **fixed):
        entry = self.get_object()
        payload = serializer_class(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            entry = service(by=request.user, entry=entry, **fixed, **payload.validated_data)
        except DjangoValidationError as exc:
            _raise_api_error(exc)
        self._record([entry], f"api.{self.audit_what}.{fixed.get('to_status', 'triage')}")
        entry = self.get_queryset().get(pk=entry.pk)
        return Response(self.get_serializer(entry).data, status=status.HTTP_200_OK)

    @extend_schema(request=AcceptSerializer, responses=RegisterEntrySerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._move(request, services.referral_accept, AcceptSerializer)

    @extend_schema(request=ReasonSerializer, responses=RegisterEntrySerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._move(request, services.referral_decline, ReasonSerializer)

    @extend_schema(request=ReasonSerializer, responses=RegisterEntrySerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._move(
            request, services.entry_status_change, ReasonSerializer, to_status="active"
        )

    @extend_schema(request=ReasonSerializer, responses=RegisterEntrySerializer)
    @action(detail=True, methods=["post"], url_path="step-down")
    def step_down(self, request, pk=None):
        return self._move(
            request, services.entry_status_change, ReasonSerializer, to_status="stepped_down"
        )

    @extend_schema(request=ReasonSerializer, responses=RegisterEntrySerializer)
    @action(detail=True, methods=["post"])
    def discharge(self, request, pk=None):
        return self._move(
            request, services.entry_status_change, ReasonSerializer, to_status="discharged"
        )

    @extend_schema(request=ReasonSerializer, responses=RegisterEntrySerializer)
    @action(detail=True, methods=["post"])
    def died(self, request, pk=None):
        return self._move(request, services.entry_status_change, ReasonSerializer, to_status="died")
