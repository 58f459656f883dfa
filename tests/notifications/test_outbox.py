"""Notifications are an outbox: one row per event and recipient, however
often the event is raised."""

import pytest

from mdtcare.notifications.models import Notification
from mdtcare.notifications.services import notifications_raise

pytestmark = pytest.mark.django_db


def test_an_event_raised_twice_makes_one_row_per_recipient(matron, navigator):
    for _ in range(2):
        notifications_raise(
            kind=Notification.Kind.SELF_HARM_ALERT,
            event_id="assessment:1",
            recipients=[matron, navigator, None],
            urgent=True,
        )

    assert Notification.objects.count() == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "matron",
        "navigator",
    }
    assert all(n.urgent and n.sent_at is None for n in Notification.objects.all())
    # Waiting for delivery, which is queued when the transaction commits.
    assert {n.email_status for n in Notification.objects.all()} == {"pending"}


def test_another_event_notifies_again(matron):
    notifications_raise(kind="self_harm_alert", event_id="assessment:1", recipients=[matron])
    notifications_raise(kind="self_harm_alert", event_id="assessment:2", recipients=[matron])

    assert Notification.objects.filter(recipient=matron).count() == 2


def test_urgent_kinds_are_urgent_even_when_not_raised_so(matron):
    notifications_raise(kind="self_harm_alert", event_id="assessment:1", recipients=[matron])

    assert Notification.objects.get().urgent


def test_each_notification_has_its_own_public_id(matron, navigator):
    notifications_raise(
        kind="referral_received", event_id="referral:1", recipients=[matron, navigator]
    )

    assert len(set(Notification.objects.values_list("public_id", flat=True))) == 2
