"""The notifications API (``/api/v1/notifications/``): a person's own
notifications (another's is a 404), newest first, ``?unread=true`` for the
unread ones; ``POST …/{id}/read/`` and ``POST …/read-all/`` mark them read,
calling the same services as the pages. Each read of notifications writes
one access event naming the people they are about."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from mdtcare.audit.services import access_record
from mdtcare.notifications import selectors, services
from mdtcare.notifications.models import Notification, NotificationKind


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    title = serializers.CharField(source="get_kind_display", read_only=True)
    patient = serializers.UUIDField(
        source="patient_id",
        read_only=True,
        allow_null=True,
        help_text="The id of the person it is about, if any",
    )
    link = serializers.CharField(
        source="internal_link", read_only=True, help_text="Where to see it on the site"
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "urgent", "patient", "link", "created_at", "read_at"]
        read_only_fields = fields


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(
        field_name="read_at",
        lookup_expr="isnull",
        label="true: only unread notifications; false: only those read",
    )
    kind = filters.ChoiceFilter(choices=NotificationKind.choices)

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["created_at"]
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def get_queryset(self):
        return selectors.notifications_of(user=self.request.user)

    def _record(self, objects, what: str) -> None:
        patient_ids = [n.patient_id for n in objects if n.patient_id]
        patients = selectors.patients_shown(user=self.request.user, patient_ids=patient_ids)
        access_record(
            request=self.request,
            what=what,
            patient_ids=patient_ids,
            network_ids={patient.practice.network_id for patient in patients.values()},
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self._record(page, "api.notifications.list")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        notification = self.get_object()
        self._record([notification], "api.notifications.read")
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, *args, **kwargs):
        """Mark the notification read (reading it again keeps the first time)."""
        notification = services.notification_mark_read(
            user=request.user, notification=self.get_object()
        )
        self._record([notification], "api.notifications.mark_read")
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "NotificationsMarkedRead",
            {"marked": serializers.IntegerField(help_text="How many were unread")},
        ),
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request, *args, **kwargs):
        """Mark all the user's notifications read."""
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})
