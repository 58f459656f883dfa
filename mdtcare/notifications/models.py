"""Notifications: one row per event and recipient, written in the same
transaction as the event (an outbox). Delivery (in-app list, e-mail) reads
these rows; a row is never made twice for the same event and recipient.

Each row also carries its e-mail delivery: whether it needs one (the
recipient's preference for the kind, or urgent), whether that was sent or
failed, and how many attempts it took. A digest is the one e-mail a day that
sums up the rows of people who asked for a daily summary."""

import uuid

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


# Kinds e-mailed at once whatever the recipient chose: nobody may opt out of them.
URGENT_KINDS = frozenset({NotificationKind.SELF_HARM_ALERT})


class EmailStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", "Not needed"
    PENDING = "pending", "Pending"
    # Waiting for the recipient's next daily digest (a notification only).
    DIGEST = "digest", "In the next daily digest"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class EmailPreference(models.TextChoices):
    IN_APP = "in_app", "In mdtcare only"
    IN_APP_AND_EMAIL = "in_app_and_email", "In mdtcare and by e-mail straight away"
    DAILY_DIGEST = "daily_digest", "In mdtcare and in one summary e-mail a day"


class NotificationDigest(models.Model):
    """The daily summary e-mail to one person: at most one a day (the unique
    key), covering their digest notifications since the previous one."""

    Status = EmailStatus

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_digests"
    )
    day = models.DateField()
    status = models.CharField(max_length=20, choices=EmailStatus.choices, default="pending")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "day"], name="notifications_notificationdigest_once_a_day"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        EmailStatus.NOT_NEEDED,
                        EmailStatus.PENDING,
                        EmailStatus.SENT,
                        EmailStatus.FAILED,
                    ]
                ),
                name="notifications_notificationdigest_status_valid",
            ),
        ]
        indexes = [
            # The sweep: WHERE status = 'pending' AND created_at < … (few rows: a partial index).
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="notifications_digest_pending",
            ),
        ]

    def __str__(self):
        return f"digest of {self.day} for {self.recipient_id}"


class Notification(models.Model):
    Kind = NotificationKind
    EmailStatus = EmailStatus

    # The id in page addresses and the API (never the sequential one).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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
    # E-mail delivery, decided when the row is made (see services.notifications_raise).
    email_status = models.CharField(
        max_length=20, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_last_error = models.CharField(max_length=500, blank=True)
    email_attempted_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        NotificationDigest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "event_id", "recipient"], name="notifications_notification_once"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values),
                name="notifications_notification_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(email_status__in=EmailStatus.values),
                name="notifications_notification_email_status_valid",
            ),
        ]
        indexes = [
            # A user's unread count and list: WHERE recipient_id = … AND read_at IS NULL.
            models.Index(fields=["recipient", "read_at"], name="notifications_unread"),
            # The outbox sweep: WHERE email_status = 'pending' AND created_at < …
            # (pending rows are few: a partial index).
            models.Index(
                fields=["created_at"],
                condition=Q(email_status="pending"),
                name="notifications_outbox",
            ),
            # The daily digest: WHERE email_status = 'digest' AND digest_id IS NULL,
            # by recipient.
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(email_status="digest"),
                name="notifications_digest_waiting",
            ),
        ]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id}"

    @property
    def sent_at(self):
        """The e-mail's time: the first version of the outbox called it sent_at."""
        return self.emailed_at

    @property
    def internal_link(self) -> str:
        """The link when it is a path on this site, else nothing (a link is
        only ever made by our services; this keeps it so)."""
        link = self.link or ""
        return link if link.startswith("/") and not link.startswith("//") else ""


class NotificationPreference(models.Model):
    """How one person hears about one kind of notification. No row: the
    default (in mdtcare and by e-mail straight away). Urgent kinds ignore it."""

    Delivery = EmailPreference
    DEFAULT = EmailPreference.IN_APP_AND_EMAIL

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    delivery = models.CharField(max_length=20, choices=EmailPreference.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="notifications_notificationpreference_once"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values),
                name="notifications_notificationpreference_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(delivery__in=EmailPreference.values),
                name="notifications_notificationpreference_delivery_valid",
            ),
        ]

    def __str__(self):
        return f"{self.kind}: {self.delivery} for {self.user_id}"
