"""Notifications in the admin: read-only, so an admin can see which e-mails
failed and why (filter by e-mail status: Failed), and send them again once
the cause is put right."""

from django.contrib import admin, messages

from mdtcare.notifications import services
from mdtcare.notifications.models import EmailStatus, Notification, NotificationDigest


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "urgent",
        "recipient",
        "read_at",
        "email_status",
        "email_attempts",
        "emailed_at",
        "email_last_error",
    ]
    list_filter = ["email_status", "kind", "urgent"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__username", "recipient__email", "event_id"]
    date_hierarchy = "created_at"
    fields = [
        "public_id",
        "kind",
        "urgent",
        "recipient",
        "event_id",
        "patient_id",
        "link",
        "created_at",
        "read_at",
        "email_status",
        "email_attempts",
        "email_attempted_at",
        "emailed_at",
        "email_last_error",
        "digest",
    ]
    actions = ["email_again"]

    def has_email_again_permission(self, request):
        # The rows stay read-only; sending again is its own permission.
        return request.user.has_perm("notifications.change_notification")

    @admin.action(
        description="Send the failed e-mails of the selected notifications again",
        permissions=["email_again"],
    )
    def email_again(self, request, queryset):
        count = services.notifications_email_again(
            notification_ids=queryset.filter(email_status=EmailStatus.FAILED).values_list(
                "pk", flat=True
            )
        )
        messages.success(request, f"{count} e-mail(s) will be sent again.")


@admin.register(NotificationDigest)
class NotificationDigestAdmin(ReadOnlyAdmin):
    list_display = ["day", "recipient", "status", "attempts", "emailed_at", "last_error"]
    list_filter = ["status"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__username", "recipient__email"]
