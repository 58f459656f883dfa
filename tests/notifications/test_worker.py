"""Delivery on a real Celery worker over Redis (when REDIS_URL is set), as in
tests/core/test_worker.py: the worker runs in this process (a thread), so
it sees these tests' settings (the e-mail backend, attempts and waits) and
sends to the same ``mail.outbox``."""

import datetime as dt
import queue

import pytest
from celery.signals import task_postrun
from django.core import mail
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from mdtcare.celery import app
from mdtcare.notifications import tasks
from mdtcare.notifications.models import EmailStatus, Notification
from mdtcare.notifications.services import notifications_raise
from tests.notifications.backends import RefusingEmailBackend

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A Redis nobody listens on: what the app meets when its broker is down.
DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def celery_worker():
    from celery.contrib.testing.worker import start_worker

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        (":memory:", "file:memorydb")
    ):
        pytest.skip("a worker thread cannot share an in-memory SQLite database")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.fixture
def finished():
    """``finished(task_name, notification)`` waits (up to 30 s) until the
    worker has run that task for that notification to its end (not to a
    retry), and returns its result. (Messages other tests left in the queue
    may run first: they carry other ids.)"""
    runs = queue.Queue()

    def record(sender=None, args=None, state=None, retval=None, **kwargs):
        runs.put((sender.name, args, state, retval))

    task_postrun.connect(record, weak=False)

    def wait(name, notification):
        while True:
            task, args, state, retval = runs.get(timeout=30)
            if task == name and state != "RETRY" and notification.pk in (args or [[]])[0]:
                return retval

    yield wait
    task_postrun.disconnect(record)


def _raise(matron, event_id="referral:1"):
    notifications_raise(kind="referral_received", event_id=event_id, recipients=[matron])
    return Notification.objects.get(event_id=event_id)


def test_a_notification_raised_in_a_committed_transaction_is_emailed_once_by_the_worker(
    celery_worker, finished, matron
):
    notification = _raise(matron)  # its own transaction: committed, then queued

    assert finished("notifications.deliver", notification) == 1

    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT
    assert [message.to for message in mail.outbox] == [[matron.email]]
    # Delivered again (a redelivered message, a sweep): nothing more is sent.
    assert tasks.deliver.delay([notification.pk]).get(timeout=30) == 0
    assert len(mail.outbox) == 1


def test_with_the_broker_down_at_commit_the_row_waits_and_the_sweep_delivers_it(
    celery_worker, finished, matron, monkeypatch
):
    real_apply_async = tasks.deliver.apply_async
    refused = []

    def through_a_dead_broker(*args, **options):
        with app.connection_for_write(DEAD_BROKER) as dead:
            try:
                return real_apply_async(*args, connection=dead, **options)
            except Exception as exc:
                refused.append(exc)
                raise

    with monkeypatch.context() as patch:
        patch.setattr(tasks.deliver, "apply_async", through_a_dead_broker)
        notification = _raise(matron)  # the commit tries to queue, and fails quietly

    [error] = refused  # what Celery raises when it cannot reach its broker
    assert isinstance(error, OperationalError)
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.PENDING
    assert mail.outbox == []

    # Minutes later (the sweep's wait, here passed by ageing the row), with
    # the broker back, the periodic sweep queues it again.
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert tasks.sweep.delay().get(timeout=30) == 1
    assert finished("notifications.deliver", notification) == 1

    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_a_failing_mail_server_is_retried_by_the_worker_and_the_email_recorded_failed(
    celery_worker, finished, matron, settings
):
    settings.EMAIL_BACKEND = "tests.notifications.backends.RefusingEmailBackend"
    settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_EMAIL_RETRY_SECONDS = 0  # no waiting in a test
    RefusingEmailBackend.attempts = 0

    notification = _raise(matron)

    assert finished("notifications.deliver", notification) == 0  # the last try: nothing sent
    notification.refresh_from_db()
    assert RefusingEmailBackend.attempts == 3
    assert notification.email_status == EmailStatus.FAILED
    assert notification.email_attempts == 3
    assert notification.email_last_error.startswith("SMTPServerDisconnected")
    assert mail.outbox == []
