"""E-mail delivery from the outbox: preferences, exactly-once sending,
retries of a failing mail server, the sweep and the daily digest."""

import datetime as dt
import smtplib
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from mdtcare.notifications import services, tasks
from mdtcare.notifications.models import (
    EmailStatus,
    Notification,
    NotificationDigest,
    NotificationPreference,
)
from tests.notifications.backends import (
    BlockingEmailBackend,
    FlakyEmailBackend,
    RefusingEmailBackend,
)

pytestmark = pytest.mark.django_db

REFUSING = "tests.notifications.backends.RefusingEmailBackend"
FLAKY = "tests.notifications.backends.FlakyEmailBackend"


def deliver(rows) -> int:
    """Run the delivery task here, as the worker would (retries run at once)."""
    return tasks.deliver.apply(args=[[row.pk for row in rows]]).get()


def prefer(user, kind, delivery):
    NotificationPreference.objects.create(user=user, kind=kind, delivery=delivery)


def status(row) -> str:
    row.refresh_from_db()
    return row.email_status


@pytest.fixture
def queued(monkeypatch):
    """The ids each delivery task would have been queued with."""
    calls = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **options: calls.append(args[0]))
    return calls


# --- raising queues delivery after commit -----------------------------------------------------


def test_delivery_is_queued_only_when_the_transaction_commits(
    matron, navigator, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notifications_raise(
            kind="referral_received", event_id="r1", recipients=[matron, navigator]
        )
        assert queued == []

    for callback in callbacks:
        callback()
    rows = Notification.objects.order_by("pk")
    assert queued == [[row.pk for row in rows]]
    assert {row.email_status for row in rows} == {EmailStatus.PENDING}


def test_an_event_raised_again_queues_nothing_more(
    matron, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.notifications_raise(kind="referral_received", event_id="r1", recipients=[matron])
    with django_capture_on_commit_callbacks(execute=True):
        made = services.notifications_raise(
            kind="referral_received", event_id="r1", recipients=[matron]
        )

    assert made == 0
    assert len(queued) == 1


def test_a_broker_down_at_commit_leaves_the_row_pending_and_the_request_unharmed(
    matron, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **options):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver, "apply_async", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        made = services.notifications_raise(
            kind="referral_received", event_id="r1", recipients=[matron]
        )

    assert made == 1
    assert Notification.objects.get().email_status == EmailStatus.PENDING
    assert mail.outbox == []


def test_many_rows_are_queued_a_batch_per_task(queued):
    services.notifications_enqueue(notification_ids=range(1, 251))

    assert [len(batch) for batch in queued] == [100, 100, 50]


def test_raise_many_makes_each_row_once_and_urgent_kinds_urgent(matron, navigator, queued):
    rows = [
        Notification(recipient_id=user.pk, kind=kind, event_id=event)
        for user in (matron, navigator, matron)
        for kind, event in (("review_due_7", "plan:1"), ("self_harm_alert", "a:1"))
    ]

    assert services.notifications_raise_many(notifications=rows) == 4
    assert services.notifications_raise_many(notifications=rows) == 0
    assert set(
        Notification.objects.filter(kind="self_harm_alert").values_list("urgent", flat=True)
    ) == {True}


# --- preferences ------------------------------------------------------------------------------


def test_by_default_a_notification_is_emailed_straight_away(matron, raise_for):
    [row] = raise_for(recipients=[matron])

    assert deliver([row]) == 1

    assert status(row) == EmailStatus.SENT
    assert row.emailed_at is not None and row.sent_at == row.emailed_at
    assert row.email_attempts == 1
    [message] = mail.outbox
    assert message.to == [matron.email]
    assert message.subject == "A new referral is waiting in mdtcare"


def test_in_app_only_sends_no_email(matron, raise_for):
    prefer(matron, "referral_received", "in_app")
    [row] = raise_for(recipients=[matron])

    assert deliver([row]) == 0

    assert status(row) == EmailStatus.NOT_NEEDED
    assert mail.outbox == []


def test_each_recipient_gets_what_they_chose(matron, navigator, raise_for):
    prefer(navigator, "referral_received", "daily_digest")
    prefer(navigator, "agenda_published", "in_app")  # another kind: no effect here
    rows = raise_for(recipients=[matron, navigator])

    deliver(rows)

    assert {row.recipient.username: status(row) for row in rows} == {
        "matron": EmailStatus.SENT,
        "navigator": EmailStatus.DIGEST,
    }
    assert [message.to for message in mail.outbox] == [[matron.email]]


@pytest.mark.parametrize("choice", ["in_app", "daily_digest"])
def test_urgent_kinds_are_emailed_at_once_whatever_the_preference(matron, raise_for, choice):
    prefer(matron, "self_harm_alert", choice)  # as if saved before the rule
    [row] = raise_for(recipients=[matron], kind="self_harm_alert")

    deliver([row])

    assert status(row) == EmailStatus.SENT
    [message] = mail.outbox
    assert message.subject == "An urgent alert needs your attention in mdtcare"


def test_a_notification_raised_urgent_is_emailed_whatever_the_preference(matron, raise_for):
    prefer(matron, "meeting_tomorrow", "in_app")
    [row] = raise_for(recipients=[matron], kind="meeting_tomorrow", urgent=True)

    deliver([row])

    assert status(row) == EmailStatus.SENT
    assert mail.outbox[0].subject == "Urgent: You have an MDT meeting tomorrow in mdtcare"


def test_preferences_are_saved_and_changed(matron):
    services.notification_preferences_save(
        user=matron, deliveries={"referral_received": "in_app", "review_due_7": "daily_digest"}
    )
    services.notification_preferences_save(
        user=matron, deliveries={"referral_received": "in_app_and_email"}
    )

    assert dict(matron.notification_preferences.values_list("kind", "delivery")) == {
        "referral_received": "in_app_and_email",
        "review_due_7": "daily_digest",
    }


def test_no_one_can_opt_out_of_urgent_alerts(matron):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.notification_preferences_save(
            user=matron, deliveries={"self_harm_alert": "in_app"}
        )
    assert not NotificationPreference.objects.exists()


# --- exactly once -----------------------------------------------------------------------------


def test_a_delivery_run_twice_sends_one_email(matron, raise_for):
    [row] = raise_for(recipients=[matron])

    deliver([row])
    deliver([row])

    assert len(mail.outbox) == 1
    assert status(row) == EmailStatus.SENT
    assert row.email_attempts == 1


def test_a_row_gone_before_delivery_is_passed_over(matron, raise_for):
    [row] = raise_for(recipients=[matron])
    Notification.objects.all().delete()

    assert deliver([row]) == 0
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_send_one_email(matron, settings):
    """The second delivery finds the row locked by the first (sending now) and
    leaves it to it."""
    row = Notification.objects.create(recipient=matron, kind="referral_received", event_id="r1")
    settings.EMAIL_BACKEND = "tests.notifications.backends.BlockingEmailBackend"
    BlockingEmailBackend.sending.clear()
    BlockingEmailBackend.finish.clear()
    outcomes = []

    def first():
        try:
            outcomes.append(services.notifications_deliver(notification_ids=[row.pk]))
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert BlockingEmailBackend.sending.wait(30)
        second = services.notifications_deliver(notification_ids=[row.pk])
    finally:
        BlockingEmailBackend.finish.set()
        thread.join(30)

    assert (second.sent, second.retry_ids) == (0, [])
    assert outcomes[0].sent == 1
    assert len(mail.outbox) == 1
    assert status(row) == EmailStatus.SENT


# --- failures ---------------------------------------------------------------------------------


def test_a_mail_server_error_is_retried_and_then_the_email_sent(matron, raise_for, settings):
    settings.EMAIL_BACKEND = FLAKY
    FlakyEmailBackend.failures_left = 2
    [row] = raise_for(recipients=[matron])

    assert deliver([row]) == 1

    assert status(row) == EmailStatus.SENT
    assert row.email_attempts == 3
    assert row.email_last_error.startswith("ConnectionRefusedError")
    assert len(mail.outbox) == 1


def test_a_mail_server_that_keeps_failing_is_tried_the_set_number_of_times_then_failed(
    matron, navigator, raise_for, settings
):
    settings.EMAIL_BACKEND = REFUSING
    settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS = 3
    RefusingEmailBackend.attempts = 0
    rows = raise_for(recipients=[matron, navigator])

    deliver(rows)

    assert RefusingEmailBackend.attempts == 6  # 3 for each
    for row in rows:
        assert status(row) == EmailStatus.FAILED
        assert row.email_attempts == 3
        assert row.email_last_error == ("SMTPServerDisconnected: Connection unexpectedly closed")
        assert row.read_at is None  # still there to read in mdtcare


def test_each_retry_carries_only_the_rows_that_failed(matron, navigator, raise_for, monkeypatch):
    rows = raise_for(recipients=[matron, navigator])
    retried = []
    run = services.DeliveryRun(sent=1, retry_ids=[rows[1].pk])
    monkeypatch.setattr(services, "notifications_deliver", lambda **kw: run)

    def retry(**options):
        retried.append(options)
        raise RuntimeError("stop")

    monkeypatch.setattr(tasks.deliver, "retry", retry)

    with pytest.raises(RuntimeError):
        tasks.deliver.run([row.pk for row in rows])

    assert retried[0]["args"] == [[rows[1].pk]]
    assert retried[0]["countdown"] == 60


def test_the_wait_between_attempts_doubles_up_to_the_cap(settings):
    settings.NOTIFICATIONS_EMAIL_RETRY_SECONDS = 60
    settings.NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS = 300

    assert [tasks.retry_delay(n) for n in range(5)] == [60, 120, 240, 300, 300]


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "The user has no e-mail address."),
        ("not-an-address", "The user's e-mail address is not valid."),
    ],
)
def test_a_user_who_cannot_be_emailed_keeps_the_notification_in_app(
    matron, raise_for, client, email, error
):
    type(matron).objects.filter(pk=matron.pk).update(email=email)
    [row] = raise_for(recipients=[matron])

    assert deliver([row]) == 0

    assert status(row) == EmailStatus.FAILED
    assert row.email_last_error == error
    assert row.email_attempts == 0
    assert mail.outbox == []
    client.force_login(matron)
    assert str(row.public_id) in client.get("/notifications/").text


def test_a_deactivated_user_is_not_emailed(matron, raise_for):
    [row] = raise_for(recipients=[matron])
    type(matron).objects.filter(pk=matron.pk).update(is_active=False)

    deliver([row])

    assert status(row) == EmailStatus.NOT_NEEDED
    assert mail.outbox == []


# --- the sweep --------------------------------------------------------------------------------


def test_the_sweep_queues_again_rows_still_pending_after_the_set_minutes(
    matron, navigator, chair, raise_for, queued, settings
):
    settings.NOTIFICATIONS_SWEEP_MINUTES = 5
    settings.NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS = 600
    old, retrying, recent = raise_for(recipients=[matron, navigator, chair])
    now = timezone.now()
    Notification.objects.filter(pk__in=[old.pk, retrying.pk]).update(
        created_at=now - dt.timedelta(minutes=6)
    )
    # In its retry chain: tried 3 minutes ago, next try within the longest wait.
    Notification.objects.filter(pk=retrying.pk).update(
        email_attempts=1, email_attempted_at=now - dt.timedelta(minutes=3)
    )

    assert services.notifications_sweep(now=now) == 1
    assert queued == [[old.pk]]

    # Once its longest wait has passed, a row left by a lost retry is swept too.
    later = now + dt.timedelta(minutes=15)
    queued.clear()
    assert services.notifications_sweep(now=later) == 3
    assert queued == [sorted([old.pk, retrying.pk, recent.pk])]


def test_the_sweep_leaves_delivered_rows_alone(matron, raise_for, queued):
    [row] = raise_for(recipients=[matron])
    deliver([row])

    assert services.notifications_sweep(now=timezone.now() + dt.timedelta(hours=1)) == 0
    assert queued == []


def test_a_row_the_broker_lost_is_delivered_by_the_sweep(
    matron, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **options):
        raise OperationalError("Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.deliver, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            services.notifications_raise(
                kind="action_assigned", event_id="action:1", recipients=[matron]
            )
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args, **options: tasks.deliver.apply(args=args)
    )

    tasks.sweep.apply(kwargs={})  # too soon: nothing yet
    assert mail.outbox == []
    services.notifications_sweep(now=timezone.now() + dt.timedelta(minutes=10))

    assert Notification.objects.get().email_status == EmailStatus.SENT
    assert len(mail.outbox) == 1


# --- the daily digest -------------------------------------------------------------------------


@pytest.fixture
def digest_user(navigator):
    for kind in ("referral_received", "review_due_14", "actions_overdue"):
        prefer(navigator, kind, "daily_digest")
    return navigator


@pytest.fixture
def digest_sent(monkeypatch):
    """Digest tasks run here, as the worker would."""
    monkeypatch.setattr(
        tasks.digest_send,
        "apply_async",
        lambda args, **options: tasks.digest_send.apply(args=args),
    )


def _waiting(raise_for, user, kinds):
    rows = []
    for i, kind in enumerate(kinds):
        rows += raise_for(recipients=[user], kind=kind, event_id=f"e{i}")
    deliver(rows)
    return rows


def test_the_digest_counts_unread_notifications_per_kind_in_one_email(
    digest_user, raise_for, digest_sent
):
    rows = _waiting(
        raise_for,
        digest_user,
        ["referral_received", "referral_received", "review_due_14", "actions_overdue"],
    )
    Notification.objects.filter(pk=rows[-1].pk).update(read_at=timezone.now())
    assert mail.outbox == []

    assert tasks.digest.apply().get() == 1

    [message] = mail.outbox
    assert message.to == [digest_user.email]
    assert message.subject == ("Your daily summary: 3 notifications need your attention in mdtcare")
    assert "- 2 new referrals\n- 1 care plan review due in 14 days\n" in message.body
    assert "overdue" not in message.body  # read in mdtcare meanwhile
    assert [status(row) for row in rows] == [
        EmailStatus.SENT,
        EmailStatus.SENT,
        EmailStatus.SENT,
        EmailStatus.NOT_NEEDED,
    ]
    digest = NotificationDigest.objects.get()
    assert (digest.recipient, digest.status) == (digest_user, EmailStatus.SENT)


def test_one_digest_a_day_however_often_the_job_runs(digest_user, raise_for, digest_sent):
    _waiting(raise_for, digest_user, ["referral_received"])
    tasks.digest.apply()
    _waiting(raise_for, digest_user, ["review_due_14"])  # after today's digest

    services.notification_digest_send(recipient_id=digest_user.pk, day=timezone.localdate())
    tasks.digest.apply()

    assert len(mail.outbox) == 1
    # Tomorrow's digest has what came since.
    tasks.digest_send.apply(
        args=[str(digest_user.pk), (timezone.localdate() + dt.timedelta(days=1)).isoformat()]
    )
    assert len(mail.outbox) == 2
    assert "1 care plan review due in 14 days" in mail.outbox[1].body
    assert "referral" not in mail.outbox[1].body


def test_no_digest_when_everything_was_read(digest_user, raise_for, digest_sent):
    _waiting(raise_for, digest_user, ["referral_received"])
    Notification.objects.update(read_at=timezone.now())

    tasks.digest.apply()

    assert mail.outbox == []
    assert Notification.objects.get().email_status == EmailStatus.NOT_NEEDED


def test_a_digest_the_mail_server_refuses_is_retried_then_failed(
    digest_user, raise_for, settings, digest_sent
):
    settings.EMAIL_BACKEND = REFUSING
    settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS = 2
    RefusingEmailBackend.attempts = 0
    [row] = _waiting(raise_for, digest_user, ["referral_received"])

    tasks.digest.apply()

    assert RefusingEmailBackend.attempts == 2
    digest = NotificationDigest.objects.get()
    assert (digest.status, digest.attempts) == (EmailStatus.FAILED, 2)
    assert status(row) == EmailStatus.FAILED
    assert row.email_last_error.startswith("SMTPServerDisconnected")


def test_the_sweep_restarts_a_digest_left_pending(digest_user, raise_for, settings, digest_sent):
    settings.EMAIL_BACKEND = FLAKY
    FlakyEmailBackend.failures_left = 1
    _waiting(raise_for, digest_user, ["referral_received"])
    # A first attempt failed, and its retry was lost with a worker.
    assert (
        services.notification_digest_send(recipient_id=digest_user.pk, day=timezone.localdate())
        == EmailStatus.PENDING
    )

    services.notifications_sweep(now=timezone.now() + dt.timedelta(hours=1))

    assert NotificationDigest.objects.get().status == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_smtp_errors_are_the_ones_retried():
    assert issubclass(smtplib.SMTPRecipientsRefused, services.SEND_ERRORS)
    assert issubclass(TimeoutError, services.SEND_ERRORS)
