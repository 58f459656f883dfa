"""The MDT meetings API (``/api/v1/meetings/``) and actions
(``/api/v1/actions/``), read-only for now: writes (an action's status
first) come with a later issue, and will call ``meetings.services``.

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
from django.db.models import F, Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from mdtcare.api.views import GatedReadOnlyViewSet
from meetings.models import Action, AgendaItem, Attendance, Discussion, Meeting
from meetings.selectors import actions_with_overdue
from meetings.views.schedule import time_slots
from patients.models import Patient

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


@extend_schema_view(
    list=extend_schema(summary="Actions for people of the user's networks, soonest due first"),
    retrieve=extend_schema(summary="One action"),
)
class ActionViewSet(GatedReadOnlyViewSet):
    """Actions for the people of the user's networks, soonest due first,
    with whether each is overdue."""

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
