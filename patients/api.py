from rest_framework import filters, serializers

from mdtcare.api.views import GatedReadOnlyViewSet
from patients.models import Patient, RegisterEntry
from patients.selectors import patient_search_filter


class PatientSerializer(serializers.ModelSerializer):
    practice = serializers.SlugRelatedField(slug_field="ods_code", read_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "postcode",
            "practice",
        ]
        read_only_fields = fields


class PatientSearchFilter(filters.SearchFilter):
    """``?search=`` by name, NHS number (with or without spaces) or date of birth."""

    def filter_queryset(self, request, queryset, view):
        return queryset.filter(patient_search_filter(request.query_params.get("search", "")))


class PatientViewSet(GatedReadOnlyViewSet):
    serializer_class = PatientSerializer
    gated_queryset = Patient.objects.select_related("practice")
    filter_backends = [PatientSearchFilter]
    audit_what = "patients"
    ordering = ["family_name", "given_name", "id"]

    def get_queryset(self):
        return super().get_queryset().order_by("family_name", "given_name", "id")

    def audit_patient_ids(self, objects):
        return [p.pk for p in objects], {p.practice.network_id for p in objects}


class RegisterEntrySerializer(serializers.ModelSerializer):
    patient = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = RegisterEntry
        fields = ["id", "patient", "status", "source", "reason", "urgency", "referred_on"]
        read_only_fields = fields


class RegisterEntryViewSet(GatedReadOnlyViewSet):
    serializer_class = RegisterEntrySerializer
    gated_queryset = RegisterEntry.objects.select_related("patient__practice")
    audit_what = "register-entries"

    def get_queryset(self):
        return super().get_queryset().order_by("-referred_on", "id")

    def audit_patient_ids(self, objects):
        return [e.patient_id for e in objects], {e.patient.practice.network_id for e in objects}
