"""Notifications: one row per event and recipient, written in the same
transaction as the event (an outbox). Delivery (in-app list, e-mail) reads
these rows; a row is never made twice for the same event and recipient."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationKind(models.TextChoices):
    SELF_HARM_ALERT = "self_harm_alert", "Urgent: PHQ-9 item 9 answered above zero"
    REFERRAL_RECEIVED = "referral_received", "Referral received"
    AGENDA_PUBLISHED = "agenda_published", "MDT agenda published"
    ACTION_ASSIGNED = "action_assigned", "Action assigned to you"
    ACTIONS_OVERDUE = "actions_overdue", "Overdue actions"
    REVIEW_DUE_14 = "review_due_14", "Care plan review due in 14 days"
    REVIEW_DUE_7 = "review_due_7", "Care plan review due in 7 days"
    REVIEW_OVERDUE = "review_overdue", "Care plan review overdue"
    MEETING_TOMORROW = "meeting_tomorrow", "MDT meeting tomorrow"


class Notification(models.Model):
    Kind = NotificationKind

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    urgent = models.BooleanField(default=False)
    # What it is about: the patient (for the in-app link, never in e-mail)
    # and the event's own id, which with kind and recipient makes it unique.
    patient_id = models.UUIDField(null=True, blank=True)
    event_id = models.CharField(max_length=64)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "event_id", "recipient"], name="notifications_notification_once"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values),
                name="notifications_notification_kind_valid",
            ),
        ]
        indexes = [
            # A user's unread count and list: WHERE recipient_id = … AND read_at IS NULL.
            models.Index(fields=["recipient", "read_at"], name="notifications_unread"),
            # The outbox sweep: WHERE sent_at IS NULL ORDER BY created_at.
            models.Index(fields=["sent_at", "created_at"], name="notifications_outbox"),
        ]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id}"
