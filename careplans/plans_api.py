"""The integrated care and support plans API (``/api/v1/careplans/``).

Reads go through the gate and write one access event each; so does every
write, in the transaction of its change. Writes parse their input with
serializers that name their fields, and call ``careplans.plans``, where
every rule is (who writes, proposes, ratifies and shares; that ratified and
shared versions never change in place; the revision a save is based on).

Every write of a plan's contents, goals or care team sends the ``revision``
it was based on; a save based on an older one answers 409 with what
changed and the current revision. Each write answers with the whole plan as
saved, so the client has the new revision for its next write.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
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
from rest_framework.exceptions import APIException, NotFound
from rest_framework.filters import SearchFilter
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from careplans import plan_selectors, plans
from careplans.fhir import FHIR_JSON, careplan_bundle
from careplans.models import Assessment, CarePlan, CarePlanGoal, CareTeamMember
from mdtcare.accounts.models import Membership, Organisation, User
from mdtcare.api.views import GatedReadOnlyViewSet
from mdtcare.core.gate import network_ids_of
from patients.api import _raise_api_error
from patients.models import Patient, PrimaryNeed
from patients.selectors import patient_search_filter

REVIEW_STATES = ["overdue", "due", ""]


def _name(user) -> str:
    return user.get_full_name() or user.username


def provided_by(goal: CarePlanGoal) -> str:
    """Who provides a goal's support, as the plan page says it."""
    if goal.provider is not None:
        return _name(goal.provider)
    if goal.provider_organisation is not None:
        organisation = goal.provider_organisation.name
        return f"{goal.provider_name}, {organisation}" if goal.provider_name else organisation
    return goal.provider_name


def member_name(member: CareTeamMember) -> str:
    if member.practitioner is not None:
        return _name(member.practitioner)
    if member.organisation is not None:
        organisation = member.organisation.name
        return f"{member.name}, {organisation}" if member.name else organisation
    return member.name


# --- fields that choose among what the user may see -------------------------------------------


class NetworkPractitionerField(serializers.PrimaryKeyRelatedField):
    """A practitioner of one of the requesting user's networks, by id: no
    one else can be named on a plan, and another network's staff are
    "not found" like an unknown id."""

    queryset = User.objects.none()

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return User.objects.none()
        members = Membership.objects.filter(network_id__in=network_ids_of(request.user))
        return User.objects.filter(is_active=True, pk__in=members.values("user_id"))


class VisiblePatientField(serializers.PrimaryKeyRelatedField):
    queryset = Patient.objects.none()

    def get_queryset(self):
        request = self.context.get("request")
        return Patient.objects.visible_to(request.user if request else None)


class VisibleAssessmentField(serializers.PrimaryKeyRelatedField):
    queryset = Assessment.objects.none()

    def get_queryset(self):
        request = self.context.get("request")
        return Assessment.objects.visible_to(request.user if request else None).prefetch_related(
            "amendments"
        )


class OrganisationField(serializers.PrimaryKeyRelatedField):
    """An organisation of one of the requesting user's networks, or of none
    (the voluntary sector), as the plan page offers: another network's is
    "not found" like an unknown id."""

    queryset = Organisation.objects.none()

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Organisation.objects.none()
        return Organisation.objects.filter(
            Q(network__isnull=True) | Q(network_id__in=network_ids_of(request.user))
        )


# --- the plan, as read ------------------------------------------------------------------------


class CarePlanGoalSerializer(serializers.ModelSerializer):
    """A goal: what matters in the person's own words, the support agreed,
    who provides it (a practitioner, an organisation, or a name) and by when."""

    provided_by = serializers.SerializerMethodField()

    class Meta:
        model = CarePlanGoal
        fields = [
            "id",
            "position",
            "what_matters",
            "support_agreed",
            "provider",
            "provider_organisation",
            "provider_name",
            "provided_by",
            "target_on",
            "progress",
        ]
        read_only_fields = fields

    def get_provided_by(self, goal) -> str:
        return provided_by(goal)


class CareTeamMemberSerializer(serializers.ModelSerializer):
    display = serializers.SerializerMethodField()

    class Meta:
        model = CareTeamMember
        fields = ["id", "practitioner", "organisation", "name", "role_in_plan", "display"]
        read_only_fields = fields

    def get_display(self, member) -> str:
        return member_name(member)


class CarePlanSerializer(serializers.ModelSerializer):
    """One version of a person's plan with its goals and care team. Written
    only through ``POST`` (start one), ``PATCH`` (its contents) and the
    actions; ``review_state`` is derived from the next review date of a plan
    in force ("overdue", "due" within 14 days, or "")."""

    goals = CarePlanGoalSerializer(many=True, read_only=True)
    care_team = CareTeamMemberSerializer(many=True, read_only=True)
    review_state = serializers.SerializerMethodField()
    # Blank until chosen (and until shared): the schema must allow "" (a
    # read-only model field with choices is documented as its enum alone).
    primary_need = serializers.ChoiceField(
        choices=PrimaryNeed.choices, allow_blank=True, read_only=True
    )
    shared_how = serializers.ChoiceField(
        choices=CarePlan.Sharing.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = CarePlan
        fields = [
            "id",
            "patient",
            "entry",
            "number",
            "previous",
            "from_assessment",
            "status",
            "primary_need",
            "clinical_lead",
            "navigator",
            "self_management",
            "contingency",
            "carer_involvement",
            "review_interval_weeks",
            "starts_on",
            "next_review_on",
            "review_state",
            "revision",
            "goals",
            "care_team",
            "proposed_by",
            "proposed_at",
            "ratified_by",
            "ratified_at",
            "ratification_note",
            "shared_by",
            "shared_on",
            "shared_how",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": REVIEW_STATES})
    def get_review_state(self, plan) -> str:
        return plan_selectors.review_state(plan)


class CarePlanWrittenSerializer(CarePlanSerializer):
    """The plan as saved, with any warnings about what was sent (for
    example a target date more than two years away)."""

    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(CarePlanSerializer.Meta):
        fields = [*CarePlanSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


# --- what the writes take ---------------------------------------------------------------------


class CarePlanCreateSerializer(serializers.Serializer):
    patient = VisiblePatientField()
    from_assessment = VisibleAssessmentField(
        required=False,
        allow_null=True,
        help_text="The signed assessment to start from; the latest signed one if left out",
    )


class RevisionSerializer(serializers.Serializer):
    """Every change names the revision it is based on.

    The PATCH endpoints read their input with these serializers as they are
    (never ``partial``), so ``revision`` is required there too; drf-spectacular
    assumes any PATCH body is partial and would document it as optional, so
    the serializer does not take ``partial`` at all."""

    revision = serializers.IntegerField(
        min_value=1, help_text="The revision of the plan the change is based on"
    )

    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value) -> None:
        pass


class CarePlanChangeSerializer(RevisionSerializer):
    """A draft or proposed plan's contents; only the fields sent change."""

    primary_need = serializers.ChoiceField(
        choices=PrimaryNeed.choices, required=False, allow_blank=True
    )
    clinical_lead = NetworkPractitionerField(required=False, allow_null=True)
    navigator = NetworkPractitionerField(required=False, allow_null=True)
    self_management = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    contingency = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    carer_involvement = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    review_interval_weeks = serializers.ChoiceField(
        choices=CarePlan.Interval.choices,
        required=False,
        help_text="Sets the next review from the start unless next_review_on is sent too",
    )
    starts_on = serializers.DateField(required=False)
    next_review_on = serializers.DateField(required=False)


class CarePlanGoalWriteSerializer(RevisionSerializer):
    """A goal added or changed. Adding needs ``what_matters``; a change
    keeps what it does not send."""

    # Blank is the service's to refuse, with its message.
    what_matters = serializers.CharField(
        max_length=500, required=False, allow_blank=True, help_text="In the person's own words"
    )
    support_agreed = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    provider = NetworkPractitionerField(required=False, allow_null=True)
    provider_organisation = OrganisationField(required=False, allow_null=True)
    provider_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Who provides it, when not a user of mdtcare",
    )
    target_on = serializers.DateField(required=False, allow_null=True)
    progress = serializers.ChoiceField(choices=CarePlanGoal.Progress.choices, required=False)


class CareTeamMemberAddSerializer(RevisionSerializer):
    role_in_plan = serializers.CharField(max_length=200, allow_blank=True)
    practitioner = NetworkPractitionerField(required=False, allow_null=True)
    organisation = OrganisationField(required=False, allow_null=True)
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="When not a user of mdtcare"
    )


class RatifySerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# Inline, not an enum component: drf-spectacular would name one after this
# field and another after the plan's ``shared_how`` for the same choices, and
# warn (the lasting fix is an ENUM_NAME_OVERRIDES entry in the settings).
@extend_schema_field(
    {
        "type": "string",
        "oneOf": [{"const": value, "title": label} for value, label in CarePlan.Sharing.choices],
    }
)
class SharingMethodField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=CarePlan.Sharing.choices, **kwargs)


class ShareSerializer(serializers.Serializer):
    shared_on = serializers.DateField()
    how = SharingMethodField()


CONFLICT = inline_serializer(
    "CarePlanConflict",
    {
        "detail": serializers.CharField(),
        "changed": serializers.ListField(child=serializers.CharField()),
        "revision": serializers.IntegerField(),
    },
)
NOT_EDITABLE = OpenApiResponse(
    description="Refused: the plan is ratified or shared (make a new version), or what was "
    "sent is not valid"
)
NOT_ALLOWED = OpenApiResponse(description="The user's role does not allow it")


class StaleRevision(APIException):
    """409: someone saved the plan since the revision the client read."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "stale"

    def __init__(self, stale: plans.StalePlan):
        super().__init__()
        # Set as is (not as ErrorDetail strings) so that the revision stays a number.
        self.detail = {
            "detail": stale.messages[0],
            "changed": stale.changed,
            "revision": stale.plan.revision,
        }


class FHIRJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


# --- the viewset ------------------------------------------------------------------------------


class CarePlanFilter(filters.FilterSet):
    # By id, not as a choice among all patients: that would answer "not a
    # valid choice" for an unknown id and so tell which ids exist.
    patient = filters.UUIDFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=CarePlan.Status.choices)

    class Meta:
        model = CarePlan
        fields = ["patient", "status"]


class PlanSearchFilter(SearchFilter):
    """``?search=`` by the person's name, NHS number or date of birth."""

    def filter_queryset(self, request, queryset, view):
        text = request.query_params.get("search", "").strip()
        if not text:
            return queryset
        return queryset.filter(
            patient__in=Patient.objects.filter(patient_search_filter(text)).values("pk")
        )


GOAL_ID = OpenApiParameter("goal_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
MEMBER_ID = OpenApiParameter("member_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
REVISION_QUERY = OpenApiParameter(
    "revision",
    int,
    OpenApiParameter.QUERY,
    required=False,
    description="The revision the removal is based on, for clients that send no body with DELETE",
)


@extend_schema_view(
    list=extend_schema(summary="Care plans, by person, newest version first"),
    retrieve=extend_schema(summary="One version of a care plan, with its goals and care team"),
)
class CarePlanViewSet(mixins.CreateModelMixin, GatedReadOnlyViewSet):
    """Integrated care and support plans, one row per version. ``POST``
    starts the first plan of a person's open episode; ``PATCH`` changes a
    draft's contents; goals and the care team are nested actions; the status
    actions propose it, ratify it (GP chairs), record sharing and start a
    new version. ``fhir`` exports it as a FHIR R4 Bundle."""

    serializer_class = CarePlanSerializer
    gated_queryset = CarePlan.objects.select_related("patient__practice").prefetch_related(
        Prefetch(
            "goals",
            queryset=CarePlanGoal.objects.select_related("provider", "provider_organisation"),
        ),
        Prefetch(
            "care_team",
            queryset=CareTeamMember.objects.select_related("practitioner", "organisation"),
        ),
    )
    filter_backends = [filters.DjangoFilterBackend, PlanSearchFilter]
    filterset_class = CarePlanFilter
    audit_what = "careplans"
    # No PUT (a plan is changed field by field) and no DELETE of a plan
    # (versions are history); DELETE is for the nested goals and team.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .order_by("patient__family_name", "patient__given_name", "patient_id", "-number", "id")
        )

    def get_object(self):
        """Through the gate with ``plan_get_for_user``: 404 outside it, and
        for an id that is not a UUID (which the gate's lookup would answer
        with a validation error, not "not found")."""
        try:
            plan_id = uuid.UUID(str(self.kwargs["pk"]))
        except ValueError as exc:
            raise NotFound from exc
        plan = plan_selectors.plan_get_for_user(user=self.request.user, plan_id=plan_id)
        self.check_object_permissions(self.request, plan)
        return plan

    def audit_patient_ids(self, objects):
        return [p.patient_id for p in objects], {p.patient.practice.network_id for p in objects}

    def _respond(self, plan, what, *, code=status.HTTP_200_OK, warnings=()):
        """The plan as saved, read again through the gate, with the request's
        one access event (in the caller's transaction)."""
        plan = plan_selectors.plan_get_for_user(user=self.request.user, plan_id=plan.pk)
        self._record([plan], f"api.{self.audit_what}.{what}")
        plan.warnings = list(warnings)
        data = CarePlanWrittenSerializer(plan, context=self.get_serializer_context()).data
        return Response(data, status=code)

    def _write(self, what, change, *, code=status.HTTP_200_OK):
        """Run ``change`` (which calls one service and returns the plan and
        any warnings) and answer with the plan; a stale revision is 409, a
        refusal 400, a role that may not 403 (from the service)."""
        with transaction.atomic():
            try:
                plan, warnings = change()
            except plans.StalePlan as exc:
                raise StaleRevision(exc) from exc
            except DjangoValidationError as exc:
                _raise_api_error(exc)
            return self._respond(plan, what, code=code, warnings=warnings)

    def _payload(self, serializer_class, data=None):
        payload = serializer_class(
            data=self.request.data if data is None else data,
            context=self.get_serializer_context(),
        )
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    # --- the plan -----------------------------------------------------------------------------

    @extend_schema(
        request=CarePlanCreateSerializer,
        responses={
            201: CarePlanWrittenSerializer,
            400: OpenApiResponse(description="No open episode, or it has a plan already"),
            403: NOT_ALLOWED,
        },
        summary="Start the plan of a person's open episode, from their assessment",
    )
    def create(self, request, *args, **kwargs):
        data = self._payload(CarePlanCreateSerializer)

        def change():
            return plans.plan_create(by=request.user, **data), ()

        return self._write("create", change, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=CarePlanChangeSerializer,
        responses={
            200: CarePlanWrittenSerializer,
            400: NOT_EDITABLE,
            403: NOT_ALLOWED,
            409: CONFLICT,
        },
        summary="Change a draft or proposed plan's contents",
    )
    def partial_update(self, request, *args, **kwargs):
        plan = self.get_object()
        data = dict(self._payload(CarePlanChangeSerializer))
        revision = data.pop("revision")

        def change():
            saved = plans.plan_update(
                by=request.user, plan=plan, expected_revision=revision, **data
            )
            return saved.plan, saved.warnings

        return self._write("update", change)

    # --- goals --------------------------------------------------------------------------------

    def _goal(self, plan, goal_id) -> CarePlanGoal:
        goal = next((g for g in plan.goals.all() if str(g.pk) == str(goal_id)), None)
        if goal is None:
            raise NotFound("This plan has no such goal.")
        return goal

    @extend_schema(
        request=CarePlanGoalWriteSerializer,
        responses={
            201: CarePlanWrittenSerializer,
            400: NOT_EDITABLE,
            403: NOT_ALLOWED,
            409: CONFLICT,
        },
        summary="Add a goal",
    )
    @action(detail=True, methods=["post"], url_path="goals", url_name="goals")
    def goals(self, request, pk=None):
        plan = self.get_object()
        data = dict(self._payload(CarePlanGoalWriteSerializer))
        revision = data.pop("revision")
        data.setdefault("what_matters", "")

        def change():
            _, warnings = plans.goal_save(
                by=request.user, plan=plan, expected_revision=revision, **data
            )
            return plan, warnings

        return self._write("goal_add", change, code=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        request=CarePlanGoalWriteSerializer,
        parameters=[GOAL_ID],
        responses={
            200: CarePlanWrittenSerializer,
            400: NOT_EDITABLE,
            403: NOT_ALLOWED,
            404: OpenApiResponse(description="No such plan, or no such goal in it"),
            409: CONFLICT,
        },
        summary="Change a goal",
    )
    @extend_schema(
        methods=["DELETE"],
        request=RevisionSerializer,
        parameters=[GOAL_ID, REVISION_QUERY],
        responses={
            200: CarePlanWrittenSerializer,
            400: NOT_EDITABLE,
            403: NOT_ALLOWED,
            404: OpenApiResponse(description="No such plan, or no such goal in it"),
            409: CONFLICT,
        },
        summary="Remove a goal (answers with the plan and its new revision)",
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"goals/(?P<goal_id>[^/.]+)",
        url_name="goal",
    )
    def goal(self, request, pk=None, goal_id=None):
        plan = self.get_object()
        goal = self._goal(plan, goal_id)
        if request.method == "DELETE":
            revision = self._payload(RevisionSerializer, self._revision_data())["revision"]

            def remove():
                plans.goal_remove(by=request.user, plan=plan, goal=goal, expected_revision=revision)
                return plan, ()

            return self._write("goal_remove", remove)
        data = dict(self._payload(CarePlanGoalWriteSerializer))
        revision = data.pop("revision")
        fields = {
            "what_matters": goal.what_matters,
            "support_agreed": goal.support_agreed,
            "provider": goal.provider,
            "provider_organisation": goal.provider_organisation,
            "provider_name": goal.provider_name,
            "target_on": goal.target_on,
            "progress": goal.progress,
            **data,
        }

        def change():
            _, warnings = plans.goal_save(
                by=request.user, plan=plan, expected_revision=revision, goal=goal, **fields
            )
            return plan, warnings

        return self._write("goal_change", change)

    def _revision_data(self):
        """A DELETE's revision: from its body, else from the query string."""
        if "revision" in self.request.data:
            return self.request.data
        return {"revision": self.request.query_params.get("revision")}

    # --- the care team ------------------------------------------------------------------------

    @extend_schema(
        request=CareTeamMemberAddSerializer,
        responses={
            201: CarePlanWrittenSerializer,
            400: NOT_EDITABLE,
            403: NOT_ALLOWED,
            409: CONFLICT,
        },
        summary="Add someone to the care team",
    )
    @action(detail=True, methods=["post"], url_path="team", url_name="team")
    def team(self, request, pk=None):
        plan = self.get_object()
        data = dict(self._payload(CareTeamMemberAddSerializer))
        revision = data.pop("revision")

        def change():
            plans.team_member_add(by=request.user, plan=plan, expected_revision=revision, **data)
            return plan, ()

        return self._write("team_add", change, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=RevisionSerializer,
        parameters=[MEMBER_ID, REVISION_QUERY],
        responses={
            200: CarePlanWrittenSerializer,
            400: NOT_EDITABLE,
            403: NOT_ALLOWED,
            404: OpenApiResponse(description="No such plan, or no such member of its team"),
            409: CONFLICT,
        },
        summary="Remove someone from the care team (answers with the plan)",
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"team/(?P<member_id>[^/.]+)",
        url_name="team-member",
    )
    def team_member(self, request, pk=None, member_id=None):
        plan = self.get_object()
        member = next((m for m in plan.care_team.all() if str(m.pk) == str(member_id)), None)
        if member is None:
            raise NotFound("This plan's care team has no such member.")
        revision = self._payload(RevisionSerializer, self._revision_data())["revision"]

        def change():
            plans.team_member_remove(
                by=request.user, plan=plan, member=member, expected_revision=revision
            )
            return plan, ()

        return self._write("team_remove", change)

    # --- status -------------------------------------------------------------------------------

    @extend_schema(
        request=None,
        responses={
            200: CarePlanWrittenSerializer,
            400: OpenApiResponse(description="Not a draft, or it has no goal"),
            403: NOT_ALLOWED,
        },
        summary="Propose the draft for ratification at the MDT (again: changes nothing)",
    )
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        plan = self.get_object()
        return self._write("propose", lambda: (plans.plan_propose(by=request.user, plan=plan), ()))

    @extend_schema(
        request=RatifySerializer,
        responses={
            200: CarePlanWrittenSerializer,
            400: OpenApiResponse(description="A superseded or closed plan"),
            403: OpenApiResponse(description="Only GP chairs ratify"),
        },
        summary="Ratify the plan at the MDT: GP chairs only (again: changes nothing)",
    )
    @action(detail=True, methods=["post"])
    def ratify(self, request, pk=None):
        plan = self.get_object()
        note = self._payload(RatifySerializer)["note"]
        return self._write(
            "ratify", lambda: (plans.plan_ratify(by=request.user, plan=plan, note=note), ())
        )

    @extend_schema(
        request=ShareSerializer,
        responses={
            200: CarePlanWrittenSerializer,
            400: OpenApiResponse(description="Not ratified, or a date in the future"),
            403: NOT_ALLOWED,
        },
        summary="Record that the ratified plan was shared with the person",
    )
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        plan = self.get_object()
        data = self._payload(ShareSerializer)
        return self._write(
            "share",
            lambda: (
                plans.plan_share(
                    by=request.user, plan=plan, shared_on=data["shared_on"], how=data["how"]
                ),
                (),
            ),
        )

    @extend_schema(
        request=None,
        responses={
            201: CarePlanWrittenSerializer,
            200: OpenApiResponse(
                CarePlanWrittenSerializer, description="The newer version that already exists"
            ),
            400: OpenApiResponse(description="Not ratified or shared"),
            403: NOT_ALLOWED,
        },
        summary="Start a new version (a draft copy) of a ratified or shared plan",
    )
    @action(detail=True, methods=["post"], url_path="new-version", url_name="new-version")
    def new_version(self, request, pk=None):
        plan = self.get_object()
        # Only for the answer's code: the service returns an existing newer
        # version rather than make a second.
        exists = CarePlan.objects.filter(entry_id=plan.entry_id, number__gt=plan.number).exists()
        return self._write(
            "new_version",
            lambda: (plans.plan_new_version(by=request.user, plan=plan), ()),
            code=status.HTTP_200_OK if exists else status.HTTP_201_CREATED,
        )

    # --- FHIR ---------------------------------------------------------------------------------

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A FHIR R4 Bundle (type collection) with the Patient (NHS number "
                "as identifier system https://fhir.nhs.uk/Id/nhs-number), the CarePlan, its "
                "CareTeam, a Goal per goal and a Task per goal with support agreed",
            )
        },
        summary="The plan as FHIR R4",
    )
    @action(detail=True, methods=["get"], renderer_classes=[FHIRJSONRenderer, JSONRenderer])
    def fhir(self, request, pk=None):
        plan = self.get_object()
        self._record([plan], f"api.{self.audit_what}.fhir")
        return Response(careplan_bundle(plan))
