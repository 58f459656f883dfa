"""E-mail delivery of notifications: each row's e-mail state, the daily
digest, per-kind preferences, and a UUID for page addresses and the API.

Rows made before this had no e-mail at all; they are marked "not needed"
rather than e-mailed late in a burst after the upgrade."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def give_each_row_a_public_id(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for pk in Notification.objects.values_list("pk", flat=True).iterator():
        Notification.objects.filter(pk=pk).update(public_id=uuid.uuid4())


KINDS = [
    ("self_harm_alert", "Urgent: PHQ-9 item 9 answered above zero"),
    ("referral_received", "Referral received"),
    ("agenda_published", "MDT agenda published"),
    ("action_assigned", "Action assigned to you"),
    ("actions_overdue", "Overdue actions"),
    ("review_due_14", "Care plan review due in 14 days"),
    ("review_due_7", "Care plan review due in 7 days"),
    ("review_overdue", "Care plan review overdue"),
    ("meeting_tomorrow", "MDT meeting tomorrow"),
]
EMAIL_STATUSES = [
    ("not_needed", "Not needed"),
    ("pending", "Pending"),
    ("digest", "In the next daily digest"),
    ("sent", "Sent"),
    ("failed", "Failed"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_more_kinds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # --- the public id, unique once every existing row has its own ---
        migrations.AddField(
            model_name="notification",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_row_a_public_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notification",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        # --- e-mail delivery ---
        migrations.RemoveIndex(model_name="notification", name="notifications_outbox"),
        migrations.RenameField(
            model_name="notification", old_name="sent_at", new_name="emailed_at"
        ),
        migrations.AddField(
            model_name="notification",
            name="email_status",
            field=models.CharField(choices=EMAIL_STATUSES, default="not_needed", max_length=20),
        ),
        migrations.AlterField(
            model_name="notification",
            name="email_status",
            field=models.CharField(choices=EMAIL_STATUSES, default="pending", max_length=20),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_last_error",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_attempted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterModelOptions(
            name="notification",
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.CreateModel(
            name="NotificationDigest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "status",
                    models.CharField(choices=EMAIL_STATUSES, default="pending", max_length=20),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("attempted_at", models.DateTimeField(blank=True, null=True)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "recipient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_digests",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-day"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "pending")),
                        fields=["created_at"],
                        name="notifications_digest_pending",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("recipient", "day"),
                        name="notifications_notificationdigest_once_a_day",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["not_needed", "pending", "sent", "failed"])
                        ),
                        name="notifications_notificationdigest_status_valid",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="notification",
            name="digest",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="notifications",
                to="notifications.notificationdigest",
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("email_status__in", ["not_needed", "pending", "digest", "sent", "failed"])
                ),
                name="notifications_notification_email_status_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("email_status", "pending")),
                fields=["created_at"],
                name="notifications_outbox",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("email_status", "digest")),
                fields=["recipient", "created_at"],
                name="notifications_digest_waiting",
            ),
        ),
        # --- preferences ---
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(choices=KINDS, max_length=40)),
                (
                    "delivery",
                    models.CharField(
                        choices=[
                            ("in_app", "In mdtcare only"),
                            ("in_app_and_email", "In mdtcare and by e-mail straight away"),
                            ("daily_digest", "In mdtcare and in one summary e-mail a day"),
                        ],
                        max_length=20,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_preferences",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["kind"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "kind"), name="notifications_notificationpreference_once"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "self_harm_alert",
                                    "referral_received",
                                    "agenda_published",
                                    "action_assigned",
                                    "actions_overdue",
                                    "review_due_14",
                                    "review_due_7",
                                    "review_overdue",
                                    "meeting_tomorrow",
                                ],
                            )
                        ),
                        name="notifications_notificationpreference_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("delivery__in", ["in_app", "in_app_and_email", "daily_digest"])
                        ),
                        name="notifications_notificationpreference_delivery_valid",
                    ),
                ],
            },
        ),
    ]
