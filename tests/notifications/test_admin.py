"""Admins see failed e-mails, and why, in the admin (read-only)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from mdtcare.notifications import tasks
from mdtcare.notifications.models import EmailStatus, Notification
from tests.notifications.backends import RefusingEmailBackend
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")


@pytest.fixture
def admin_client(client, admin_user):
    admin_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_notification", "view_notificationdigest"])
    )
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    return client


@pytest.fixture
def failed(matron, raise_for, settings):
    settings.EMAIL_BACKEND = "tests.notifications.backends.RefusingEmailBackend"
    settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS = 2
    RefusingEmailBackend.attempts = 0
    [row] = raise_for(recipients=[matron], event_id="failing")
    tasks.deliver.apply(args=[[row.pk]]).get()
    row.refresh_from_db()
    assert RefusingEmailBackend.attempts == 2
    return row


def test_a_failed_email_is_listed_with_its_error_under_the_failed_filter(
    admin_client, failed, navigator, raise_for
):
    [sent] = raise_for(recipients=[navigator], event_id="fine")

    response = admin_client.get(CHANGELIST, {"email_status__exact": "failed"})

    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [failed]
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in response.text
    assert f"?email_status__exact={EmailStatus.FAILED}" in response.text  # the filter
    assert sent not in response.context["cl"].queryset


def test_notifications_cannot_be_changed_or_deleted_in_the_admin(admin_client, failed):
    detail = admin_client.get(reverse("admin:notifications_notification_change", args=[failed.pk]))
    change = admin_client.post(
        reverse("admin:notifications_notification_change", args=[failed.pk]),
        {"email_status": "sent"},
    )
    delete = admin_client.post(
        reverse("admin:notifications_notification_delete", args=[failed.pk]), {"post": "yes"}
    )

    assert detail.status_code == 200
    assert "SMTPServerDisconnected" in detail.text
    assert change.status_code == 403
    assert delete.status_code == 403
    failed.refresh_from_db()
    assert failed.email_status == EmailStatus.FAILED


def test_an_admin_allowed_to_may_send_a_failed_email_again(
    admin_client, admin_user, failed, settings, django_capture_on_commit_callbacks, monkeypatch
):
    admin_user.user_permissions.add(Permission.objects.get(codename="change_notification"))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args, **options: tasks.deliver.apply(args=args)
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "email_again", "_selected_action": [str(failed.pk)]}
        )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.email_status == EmailStatus.SENT
    assert failed.email_attempts == 1


def test_without_the_permission_there_is_no_send_again(admin_client, failed):
    response = admin_client.get(CHANGELIST)

    assert "email_again" not in response.text
    assert Notification.objects.get().email_status == EmailStatus.FAILED


def test_digests_are_listed_too(admin_client):
    response = admin_client.get(reverse("admin:notifications_notificationdigest_changelist"))

    assert response.status_code == 200
