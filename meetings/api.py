"""The MDT meetings API (``/api/v1/meetings/``) and actions
(``/api/v1/actions/``). Meetings are read-only; an action's status and
owner change through ``POST /api/v1/actions/{id}/start/``, ``complete/``,
``reassign/`` and ``cancel/``, which call ``meetings.actions`` (the rules
and who may are there, as for the worklist pages).

Both read through the access gate (outside it: 404) and write one access
event per request naming the people shown.

A meeting embeds its agenda, each item's outcome and the attendance in the
list as well as in the detail: the contract names ``meetings`` as the
resource with "agenda items and outcomes nested", so a meeting reads the
same wherever it appears. The nesting is prefetched (agenda items with
their person and outcome, the outcomes' action ids, attendance), so a page
of meetings costs the same number of queries however many meetings and
items it holds. Each item's time slot is derived from the meeting's length
and the order, exactly as the meeting page works it out (``time_slots``).

An action's ``overdue`` is derived in the query
(``meetings.selectors.actions_with_overdue``), never stored.
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import action as api_action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from mdtcare.accounts.models import Organisation, User
from mdtcare.api.views import GatedReadOnlyViewSet
from meetings import actions as action_services
from meetings.models import Action, AgendaItem, Attendance, Discussion, Meeting
from meetings.selectors import actions_with_overdue
from meetings.views.schedule import time_slots
from patients.api import _raise_api_error
from patients.models import Patient, PrimaryNeed

# --- references to other records --------------------------------------------------------------


class PatientReferenceSerializer(serializers.ModelSerializer):
    """The person, named as the patients API names them."""

    class Meta:
        model = Patient
        fields = ["id", "nhs_number", "given_name", "family_name"]
        read_only_fields = fields


class NetworkReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class UserReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(
        source="__str__", read_only=True, help_text="Full name, else the username"
    )


class OrganisationReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


# --- meetings ---------------------------------------------------------------------------------


class DiscussionOutcomeSerializer(serializers.ModelSerializer):
    """What the MDT decided about one agenda item, with the ids of the
    actions it agreed."""

    actions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    # Blank until a need is chosen: the schema must allow "" (a read-only
    # model field with choices would be documented as the enum alone).
    primary_need = serializers.ChoiceField(
        choices=PrimaryNeed.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Discussion
        fields = [
            "id",
            "outcome",
            "summary",
            "decisions",
            "primary_need",
            "clinical_lead",
            "next_review_on",
            "ratified_plan",
            "recorded_by",
            "revision",
            "actions",
        ]
        read_only_fields = fields


class AgendaItemSerializer(serializers.ModelSerializer):
    """One person on the agenda, with the reason, the time slot (derived
    from the meeting's length and the order, never stored) and the outcome
    once recorded (else null). Serialized only through the meeting, which
    works out the slots."""

    starts_at = serializers.TimeField(source="slot_starts_at", read_only=True)
    ends_at = serializers.TimeField(source="slot_ends_at", read_only=True)
    patient = PatientReferenceSerializer(read_only=True)
    outcome = DiscussionOutcomeSerializer(source="discussion", read_only=True, allow_null=True)

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "position",
            "reason",
            "note",
            "not_reached",
            "starts_at",
            "ends_at",
            "patient",
            "outcome",
        ]
        read_only_fields = fields


class AttendanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attendance
        fields = ["name", "profession", "organisation", "status"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    network = NetworkReferenceSerializer(read_only=True)
    chair = UserReferenceSerializer(read_only=True, allow_null=True)
    agenda = serializers.SerializerMethodField()
    attendance = AttendanceSerializer(many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "network",
            "date",
            "starts_at",
            "ends_at",
            "format",
            "venue",
            "dial_in",
            "chair",
            "status",
            "cancel_reason",
            "agenda_published_at",
            "started_at",
            "closed_at",
            "revision",
            "agenda",
            "attendance",
        ]
        read_only_fields = fields

    @extend_schema_field(AgendaItemSerializer(many=True))
    def get_agenda(self, meeting) -> list[dict]:
        items = list(meeting.agenda.all())
        for item, (starts_at, ends_at) in zip(items, time_slots(meeting, len(items)), strict=True):
            item.slot_starts_at, item.slot_ends_at = starts_at, ends_at
        return AgendaItemSerializer(items, many=True, context=self.context).data


class MeetingFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end of the period cannot be before its start.")
        return cleaned


class MeetingFilter(filters.FilterSet):
    # By id, as the meeting names its network; an unknown id finds nothing.
    network = filters.UUIDFilter(field_name="network_id", label="The network's id")
    status = filters.ChoiceFilter(choices=Meeting.Status.choices)
    date_from = filters.DateFilter(
        field_name="date", lookup_expr="gte", label="Meetings on or after this date"
    )
    date_to = filters.DateFilter(
        field_name="date", lookup_expr="lte", label="Meetings on or before this date"
    )

    class Meta:
        model = Meeting
        fields = ["network", "status", "date_from", "date_to"]
        form = MeetingFilterForm


@extend_schema_view(
    list=extend_schema(summary="Meetings of the user's networks, by date, with their agendas"),
    retrieve=extend_schema(summary="One meeting, with its agenda, outcomes and attendance"),
)
class MeetingViewSet(GatedReadOnlyViewSet):
    """MDT meetings of the user's networks, each with its agenda (every
    item's time slot, person and outcome with its actions' ids) and the
    attendance, in the list and the detail alike, in a fixed number of
    queries."""

    serializer_class = MeetingSerializer
    gated_queryset = Meeting.objects.select_related("network", "chair").prefetch_related(
        Prefetch(
            "agenda",
            queryset=AgendaItem.objects.select_related("patient", "discussion").order_by(
                "position", "created_at"
            ),
        ),
        Prefetch(
            "agenda__discussion__actions",
            queryset=Action.objects.order_by("due_on", "created_at", "id"),
        ),
        "attendance",
    )
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = MeetingFilter
    audit_what = "meetings"

    def get_queryset(self):
        return super().get_queryset().order_by("date", "starts_at", "id")

    def audit_patient_ids(self, objects):
        return (
            [item.patient_id for meeting in objects for item in meeting.agenda.all()],
            {meeting.network_id for meeting in objects},
        )


# --- actions ----------------------------------------------------------------------------------


class ActionSerializer(serializers.ModelSerializer):
    """Something someone must do for a person, by a date: owned by a person
    (``owner``) or, until one takes it, an organisation
    (``owner_organisation``). ``overdue``: due before today and still open or
    in progress (derived, never stored)."""

    patient = PatientReferenceSerializer(read_only=True)
    owner = UserReferenceSerializer(read_only=True, allow_null=True)
    owner_organisation = OrganisationReferenceSerializer(read_only=True, allow_null=True)
    meeting = serializers.UUIDField(
        source="meeting_id",
        read_only=True,
        allow_null=True,
        help_text="The meeting whose discussion agreed the action",
    )
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Action
        fields = [
            "id",
            "patient",
            "what",
            "owner",
            "owner_organisation",
            "due_on",
            "priority",
            "status",
            "source",
            "discussion",
            "meeting",
            "plan",
            "completion_note",
            "completed_at",
            "updated_at",
            "overdue",
        ]
        read_only_fields = fields


class OwnerField(forms.CharField):
    """ "me" or a user's id."""

    def to_python(self, value):
        value = super().to_python(value).strip()
        if value in ("", "me"):
            return value
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise forms.ValidationError("Give “me” or the id of a user.", code="invalid") from exc


class OwnerFilter(filters.CharFilter):
    field_class = OwnerField


class StrictBooleanField(forms.Field):
    """ "true" or "false", and a 400 for anything else: django-filter's
    boolean filter reads a value it does not know as no filter at all."""

    def to_python(self, value):
        text = (value or "").strip().lower()
        if text and text not in ("true", "false"):
            raise forms.ValidationError("Give “true” or “false”.", code="invalid")
        return {"true": True, "false": False}.get(text)


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # The plain text, not django-filter's widget, which turns "maybe" into None.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class ActionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Action.Status.choices)
    owner = OwnerFilter(method="filter_owner", label="“me”, or the id of the user who owns it")
    # By id, not as a choice among all patients: that would answer "not a
    # valid choice" for an unknown id and so tell which ids exist.
    patient = filters.UUIDFilter(field_name="patient_id")
    overdue = StrictBooleanFilter(
        method="filter_overdue",
        label="Only the overdue actions (true) or only those not overdue (false)",
    )

    class Meta:
        model = Action
        fields = ["status", "owner", "patient", "overdue"]

    def filter_owner(self, queryset, name, value):
        owner_id = self.request.user.pk if value == "me" else value
        return queryset.filter(owner_id=owner_id)

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue=value)


class ActionChangeSerializer(serializers.Serializer):
    """What every change may send: the action as the client read it. Given,
    a change to an action that has changed since is refused (409)."""

    expected_status = serializers.ChoiceField(
        choices=Action.Status.choices,
        required=False,
        help_text="The status the client read; refused (409) if it is no longer",
    )
    expected_updated_at = serializers.DateTimeField(
        required=False,
        help_text="The ``updated_at`` the client read; refused (409) if it changed since",
    )


class ActionCompleteSerializer(ActionChangeSerializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="What was done (optional)"
    )


class ActionReassignSerializer(ActionChangeSerializer):
    owner = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The id of the person: an active member of the person's network",
    )
    owner_organisation = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Or the id of an organisation (a team) that serves the network",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="For the new owner (optional)"
    )


class ActionCancelSerializer(ActionChangeSerializer):
    note = serializers.CharField(
        allow_blank=True, max_length=1000, help_text="Why the action is cancelled (required)"
    )


class StaleAction(APIException):
    """409: someone changed the action since the client read it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "stale"

    def __init__(self, stale: action_services.StaleAction):
        super().__init__()
        self.detail = {
            "detail": stale.messages[0],
            "status": stale.action.status,
            "updated_at": serializers.DateTimeField().to_representation(stale.action.updated_at),
        }


ACTION_CONFLICT = OpenApiResponse(
    inline_serializer(
        "ActionConflict",
        {
            "detail": serializers.CharField(),
            "status": serializers.CharField(),
            "updated_at": serializers.DateTimeField(),
        },
    ),
    description="The action changed since the client read it (``expected_status`` or "
    "``expected_updated_at``): read it again",
)
ACTION_REFUSED = OpenApiResponse(
    description="Refused: the action's status does not allow it (a done or cancelled action), "
    "or what was sent is not valid; a message per field or a ``detail``"
)
ACTION_NOT_ALLOWED = OpenApiResponse(description="The user's role does not allow it")


@extend_schema_view(
    list=extend_schema(summary="Actions for people of the user's networks, soonest due first"),
    retrieve=extend_schema(summary="One action"),
)
class ActionViewSet(GatedReadOnlyViewSet):
    """Actions for the people of the user's networks, soonest due first,
    with whether each is overdue; and their changes: start, complete,
    reassign, cancel (any member of the person's network starts and
    completes; navigators, admins, GP chairs and the owner reassign and
    cancel)."""

    serializer_class = ActionSerializer
    gated_queryset = Action.objects.select_related(
        "patient__practice", "owner", "owner_organisation"
    )
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ActionFilter
    audit_what = "actions"

    def get_queryset(self):
        # "Today" is read per request, never when the module loads.
        return (
            actions_with_overdue(super().get_queryset())
            .annotate(meeting_id=F("discussion__item__meeting_id"))
            .order_by("due_on", "created_at", "id")
        )

    def audit_patient_ids(self, objects):
        return [a.patient_id for a in objects], {a.patient.practice.network_id for a in objects}

    # --- changes ------------------------------------------------------------------------------

    def _gated_action(self) -> Action:
        """The action of the address through the gate (404 outside it), read
        once a request, and before the body: an action outside the user's
        networks is "not found" whatever was sent."""
        if not hasattr(self, "_action"):
            self._action = self.get_object()
        return self._action

    def _payload(self, serializer_class) -> dict:
        self._gated_action()
        payload = serializer_class(data=self.request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def _change(self, what: str, change):
        """Run ``change(action, payload)`` (one service) on the action read
        through the gate (404 outside it), and answer with the action as it
        is now, with the request's one access event in the same transaction.
        A change based on an old read is 409, a refusal 400, a role that
        may not 403 (the service's PermissionDenied)."""
        action = self._gated_action()
        with transaction.atomic():
            try:
                change(action)
            except action_services.StaleAction as exc:
                raise StaleAction(exc) from exc
            except DjangoValidationError as exc:
                _raise_api_error(exc)
            changed = self.get_queryset().get(pk=action.pk)
            self._record([changed], f"api.{self.audit_what}.{what}")
            return Response(self.get_serializer(changed).data)

    def _expected(self, data: dict) -> dict:
        return {
            "expected_status": data.get("expected_status"),
            "expected_updated_at": data.get("expected_updated_at"),
        }

    @extend_schema(
        request=ActionChangeSerializer,
        responses={
            200: ActionSerializer,
            400: ACTION_REFUSED,
            403: ACTION_NOT_ALLOWED,
            409: ACTION_CONFLICT,
        },
        summary="Start an open action (in progress); again changes nothing",
    )
    @api_action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        data = self._payload(ActionChangeSerializer)
        return self._change(
            "start",
            lambda action: action_services.action_start(
                by=request.user, action=action, **self._expected(data)
            ),
        )

    @extend_schema(
        request=ActionCompleteSerializer,
        responses={
            200: ActionSerializer,
            400: ACTION_REFUSED,
            403: ACTION_NOT_ALLOWED,
            409: ACTION_CONFLICT,
        },
        summary="Mark an open or in-progress action done, with an optional note",
    )
    @api_action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = self._payload(ActionCompleteSerializer)
        return self._change(
            "complete",
            lambda action: action_services.action_complete(
                by=request.user, action=action, note=data.get("note", ""), **self._expected(data)
            ),
        )

    @extend_schema(
        request=ActionReassignSerializer,
        responses={
            200: ActionSerializer,
            400: ACTION_REFUSED,
            403: ACTION_NOT_ALLOWED,
            409: ACTION_CONFLICT,
        },
        summary="Give the action to another person (``owner``) or a team "
        "(``owner_organisation``); the new owner is notified",
    )
    @api_action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        data = self._payload(ActionReassignSerializer)
        # An unknown id is refused as one outside the network: the same words.
        owner = User.objects.filter(pk=data["owner"]).first() if data.get("owner") else None
        organisation = (
            Organisation.objects.filter(pk=data["owner_organisation"]).first()
            if data.get("owner_organisation")
            else None
        )
        if data.get("owner") and owner is None:
            raise serializers.ValidationError(
                {"owner": ["Choose a member of this person's network"]}
            )
        if data.get("owner_organisation") and organisation is None:
            raise serializers.ValidationError(
                {"owner_organisation": ["Choose an organisation that serves this network"]}
            )
        return self._change(
            "reassign",
            lambda action: action_services.action_reassign(
                by=request.user,
                action=action,
                owner=owner,
                owner_organisation=organisation,
                note=data.get("note", ""),
                **self._expected(data),
            ),
        )

    @extend_schema(
        request=ActionCancelSerializer,
        responses={
            200: ActionSerializer,
            400: ACTION_REFUSED,
            403: ACTION_NOT_ALLOWED,
            409: ACTION_CONFLICT,
        },
        summary="Cancel an action still to do, saying why",
    )
    @api_action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self._payload(ActionCancelSerializer)
        return self._change(
            "cancel",
            lambda action: action_services.action_cancel(
                by=request.user, action=action, note=data["note"], **self._expected(data)
            ),
        )
