"""Notification delivery on the worker: thin tasks that take ids and call
one service (mdtcare.notifications.services). All are safe to run twice
(``acks_late`` with ``reject_on_worker_lost``: a worker lost mid-task gives
the task to another): the services send each e-mail at most once."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from mdtcare.notifications import services
from mdtcare.notifications.models import EmailStatus

# Time limits: an e-mail takes at most EMAIL_TIMEOUT per attempt; a delivery
# task sends at most DELIVERY_BATCH of them.
_LIMITS = {"soft_time_limit": 240, "time_limit": 300}


def retry_delay(retries: int) -> int:
    """Seconds before the next attempt: the setting's first wait, doubling
    each time, capped."""
    first = settings.NOTIFICATIONS_EMAIL_RETRY_SECONDS
    return min(first * 2**retries, settings.NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS)


@shared_task(
    name="notifications.deliver",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # Each retry spends an attempt of every row it carries, and a row fails
    # at NOTIFICATIONS_EMAIL_MAX_ATTEMPTS, so the chain ends by then.
    max_retries=None,
    **_LIMITS,
)
def deliver(self, notification_ids: list[int]) -> int:
    """Deliver these notifications; those a mail server turned away are
    tried again later (only they), with exponential backoff, until their
    attempts run out. Returns how many e-mails were sent."""
    run = services.notifications_deliver(notification_ids=notification_ids)
    if run.retry_ids:
        raise self.retry(
            args=[run.retry_ids],
            countdown=retry_delay(self.request.retries),
            max_retries=settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS,  # a backstop
        )
    return run.sent


@shared_task(name="notifications.sweep", acks_late=True, reject_on_worker_lost=True, **_LIMITS)
def sweep() -> int:
    """Queue again any notification still undelivered after a few minutes (periodic)."""
    return services.notifications_sweep()


@shared_task(name="notifications.digest", acks_late=True, reject_on_worker_lost=True, **_LIMITS)
def digest() -> int:
    """Start today's daily digests, one task per person (periodic)."""
    return services.notifications_digest_start()


@shared_task(
    name="notifications.digest_send",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # as deliver: the digest fails at its last attempt
    **_LIMITS,
)
def digest_send(self, recipient_id: str, day: str) -> str | None:
    """Send one person their daily digest for ``day`` (ISO date)."""
    status = services.notification_digest_send(
        recipient_id=recipient_id, day=dt.date.fromisoformat(day)
    )
    if status == EmailStatus.PENDING:
        raise self.retry(
            countdown=retry_delay(self.request.retries),
            max_retries=settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS,  # a backstop
        )
    return status
