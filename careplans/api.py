"""The holistic assessments API. Reads go through the gate and write one
access event each; writes parse their input (each section's answers with
the same form the pages use) and call ``careplans.services``, where every
rule is. Scores are computed from the answers as amended, never written."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response

from careplans import instruments, services
from careplans.models import Assessment, AssessmentAmendment
from careplans.scoring import assessment_scores, effective_answers, score_changes
from careplans.sections import SECTIONS, SECTIONS_BY_KEY, Section
from mdtcare.api.views import GatedReadOnlyViewSet
from patients.api import _raise_api_error
from patients.models import Patient

SECTION_KEYS = [section.key for section in SECTIONS]


# --- scores, as read ------------------------------------------------------------------------


class ScoreSerializer(serializers.Serializer):
    """One instrument's score: ``total`` is null while any item is unanswered."""

    total = serializers.IntegerField(allow_null=True)
    maximum = serializers.IntegerField(help_text="0 for falls, which have no maximum")
    band = serializers.CharField()
    flags = serializers.ListField(child=serializers.CharField())
    complete = serializers.BooleanField()


class ScoreChangeSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    previous = ScoreSerializer(allow_null=True)
    current = ScoreSerializer()
    change = serializers.IntegerField(allow_null=True)


def _score_json(score: instruments.Score | None) -> dict | None:
    if score is None:
        return None
    return {
        "total": score.total,
        "maximum": score.maximum,
        "band": score.band,
        "flags": list(score.flags),
        "complete": score.complete,
    }


# --- the assessment -------------------------------------------------------------------------


class AmendmentSerializer(serializers.ModelSerializer):
    by = serializers.PrimaryKeyRelatedField(source="created_by", read_only=True)
    at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = AssessmentAmendment
        fields = ["section", "reason", "by", "at", "before", "after"]
        read_only_fields = fields


# The status as a list of constants, not an enum: drf-spectacular names every
# enum after its field, and "status" already names the register's, so an enum
# here would get a hashed name and a system-check warning. (The lasting fix is
# an ENUM_NAME_OVERRIDES entry in the settings, outside this module.)
@extend_schema_field(
    {
        "type": "string",
        "oneOf": [{"const": value, "title": label} for value, label in Assessment.Status.choices],
    }
)
class AssessmentStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Assessment.Status.choices, read_only=True, **kwargs)


class AssessmentSerializer(serializers.ModelSerializer):
    """An assessment with its answers as amended. Written (``POST``) with
    only ``patient``, ``assessed_on``, ``setting`` and ``people_present``;
    answers go through the section action, signing through ``complete``."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.none())
    status = AssessmentStatusField()
    answers = serializers.SerializerMethodField()
    amendments = AmendmentSerializer(many=True, read_only=True)
    scores = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "patient",
            "kind",
            "previous",
            "assessor",
            "assessed_on",
            "setting",
            "people_present",
            "status",
            "version",
            "answers",
            "amendments",
            "signed_by",
            "signed_at",
            "scores",
            "changes",
        ]
        read_only_fields = [
            "id",
            "kind",
            "previous",
            "assessor",
            "status",
            "version",
            "answers",
            "amendments",
            "signed_by",
            "signed_at",
            "scores",
            "changes",
        ]
        # The service dates it today when no date is given.
        extra_kwargs = {"assessed_on": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "patient" in self.fields:
            self.fields["patient"].queryset = Patient.objects.visible_to(request.user)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_answers(self, assessment) -> dict:
        """{section: {question: answer}}, each section as last amended."""
        return effective_answers(assessment)

    @extend_schema_field(serializers.DictField(child=ScoreSerializer()))
    def get_scores(self, assessment) -> dict:
        return {
            key: _score_json(score)
            for key, score in assessment_scores(effective_answers(assessment)).items()
        }

    @extend_schema_field(ScoreChangeSerializer(many=True, allow_null=True))
    def get_changes(self, assessment) -> list[dict] | None:
        """Each score now and at the assessment this one re-assesses."""
        if assessment.previous_id is None:
            return None
        return [
            {
                "key": change.key,
                "name": change.name,
                "previous": _score_json(change.previous),
                "current": _score_json(change.current),
                "change": change.change,
            }
            for change in score_changes(assessment)
        ]


class AssessmentStartedSerializer(AssessmentSerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "warnings"]


# --- what the actions take ------------------------------------------------------------------


class SectionSaveSerializer(serializers.Serializer):
    answers = serializers.DictField(
        help_text="The section's answers, {question: answer}; they replace the section's "
        "answers (an answer left out is cleared)."
    )
    version = serializers.IntegerField(
        min_value=1, help_text="The version the answers are based on"
    )


class CompleteSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class AmendSerializer(serializers.Serializer):
    section = serializers.ChoiceField(choices=SECTION_KEYS)
    answers = serializers.DictField(help_text="The section's answers as corrected")
    # Blank is the service's to refuse, with its message.
    reason = serializers.CharField(allow_blank=True, default="")


CONFLICT = inline_serializer(
    "AssessmentConflict",
    {
        "detail": serializers.CharField(),
        "changed": serializers.ListField(child=serializers.CharField()),
        "version": serializers.IntegerField(),
    },
)


class StaleVersion(APIException):
    """409: someone saved the assessment since the version the client read."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "stale"

    def __init__(self, stale: services.StaleAssessment):
        super().__init__()
        # Set as is (not as ErrorDetail strings) so that the version stays a number.
        self.detail = {
            "detail": stale.messages[0],
            "changed": stale.changed,
            "version": stale.assessment.version,
        }


def _parsed_answers(section: Section, answers: dict) -> dict:
    """A section's answers parsed by the section's own form, as a page posts
    them: only its questions, only their allowed values, blanks left out.
    "What matters to me" may be sent as a list of statements."""
    data = {
        key: "\n".join(str(line) for line in value) if isinstance(value, list) else value
        for key, value in answers.items()
    }
    form = section.form(data=data)
    errors = {
        key: ["This is not a question of this section."]
        for key in sorted(set(answers) - set(form.fields))
    }
    if not form.is_valid():
        errors.update(
            {key: [str(message) for message in messages] for key, messages in form.errors.items()}
        )
    if errors:
        raise ValidationError({"answers": errors})
    return form.cleaned_answers()


class AssessmentFilter(filters.FilterSet):
    # By id, not as a choice among all patients: that would answer "not a
    # valid choice" for an unknown id and so tell which ids exist.
    patient = filters.UUIDFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=Assessment.Status.choices)
    kind = filters.ChoiceFilter(choices=Assessment.Kind.choices)

    class Meta:
        model = Assessment
        fields = ["patient", "status", "kind"]


SECTION_PARAMETER = OpenApiParameter(
    "section", str, OpenApiParameter.PATH, enum=SECTION_KEYS, description="The section's key"
)


@extend_schema_view(
    list=extend_schema(summary="Assessments, latest first"),
    retrieve=extend_schema(summary="One assessment"),
)
class AssessmentViewSet(mixins.CreateModelMixin, GatedReadOnlyViewSet):
    """Holistic assessments. ``POST`` starts one (a re-assessment when the
    person has a signed one); the actions save a section, sign it
    (``complete``) and amend it once signed."""

    serializer_class = AssessmentSerializer
    gated_queryset = Assessment.objects.select_related(
        "patient__practice", "previous"
    ).prefetch_related("amendments", "previous__amendments")
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = AssessmentFilter
    audit_what = "assessments"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().order_by("-assessed_on", "-created_at", "id")

    def audit_patient_ids(self, objects):
        return [a.patient_id for a in objects], {a.patient.practice.network_id for a in objects}

    def _respond(self, assessment, what):
        """The assessment as saved, read again through the gate, with the
        request's one access event (in the caller's transaction)."""
        assessment = self.get_queryset().get(pk=assessment.pk)
        self._record([assessment], f"api.{self.audit_what}.{what}")
        return Response(self.get_serializer(assessment).data)

    @extend_schema(
        request=AssessmentSerializer,
        responses={201: AssessmentStartedSerializer},
        summary="Start an assessment (a re-assessment when one is signed)",
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            try:
                started = services.assessment_start(by=request.user, **serializer.validated_data)
            except DjangoValidationError as exc:
                _raise_api_error(exc)
            assessment = self.get_queryset().get(pk=started.assessment.pk)
            assessment.warnings = list(started.warnings)
            self._record([assessment], f"api.{self.audit_what}.start")
        data = AssessmentStartedSerializer(assessment, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SectionSaveSerializer,
        parameters=[SECTION_PARAMETER],
        responses={
            200: AssessmentSerializer,
            400: OpenApiResponse(description="Answers refused, or the assessment is signed"),
            404: OpenApiResponse(description="No such assessment or section"),
            409: CONFLICT,
        },
        summary="Save one section of a draft",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"sections/(?P<section>[a-z_]+)",
        url_name="section",
    )
    def section(self, request, pk=None, section=None):
        assessment = self.get_object()
        if section not in SECTIONS_BY_KEY:
            raise NotFound(f"There is no section “{section}”.")
        payload = SectionSaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        answers = _parsed_answers(SECTIONS_BY_KEY[section], payload.validated_data["answers"])
        with transaction.atomic():
            try:
                saved = services.assessment_section_save(
                    by=request.user,
                    assessment=assessment,
                    section=section,
                    answers=answers,
                    expected_version=payload.validated_data["version"],
                )
            except services.StaleAssessment as exc:
                raise StaleVersion(exc) from exc
            except DjangoValidationError as exc:
                _raise_api_error(exc)
            return self._respond(saved, "section")

    @extend_schema(
        request=CompleteSerializer,
        responses={
            200: AssessmentSerializer,
            400: OpenApiResponse(description="Mandatory sections not completed"),
            403: OpenApiResponse(description="Only the assessor signs"),
            409: CONFLICT,
        },
        summary="Sign and complete (again: changes nothing)",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        assessment = self.get_object()
        payload = CompleteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with transaction.atomic():
            try:
                signed = services.assessment_complete(
                    by=request.user,
                    assessment=assessment,
                    expected_version=payload.validated_data["version"],
                )
            except services.StaleAssessment as exc:
                raise StaleVersion(exc) from exc
            except DjangoValidationError as exc:
                _raise_api_error(exc)
            return self._respond(signed, "complete")

    @extend_schema(
        request=AmendSerializer,
        responses={
            200: AssessmentSerializer,
            400: OpenApiResponse(description="No reason, answers refused, or not signed yet"),
        },
        summary="Amend a section of a signed assessment, with the reason",
    )
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        assessment = self.get_object()
        payload = AmendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        section = payload.validated_data["section"]
        answers = _parsed_answers(SECTIONS_BY_KEY[section], payload.validated_data["answers"])
        with transaction.atomic():
            try:
                services.assessment_amend(
                    by=request.user,
                    assessment=assessment,
                    section=section,
                    answers=answers,
                    reason=payload.validated_data["reason"],
                )
            except DjangoValidationError as exc:
                _raise_api_error(exc)
            return self._respond(assessment, "amend")
