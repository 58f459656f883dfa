"""API for risk-stratification imports (to be written)."""

from rest_framework import serializers, viewsets

from patients.models import RiskImport


class RiskImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskImport
        fields = ["id", "filename", "status"]
        read_only_fields = fields


class RiskImportViewSet(viewsets.GenericViewSet):
    serializer_class = RiskImportSerializer

    def get_queryset(self):
        return RiskImport.objects.none()
