"""Raising notifications and delivering them.

The rows are the outbox: a notification is written in the same transaction
as its event, and its delivery is queued only once that transaction commits
(``transaction.on_commit``). Delivery is a Celery task
(``notifications.deliver``) calling ``notifications_deliver``, which
decides, per row, from the recipient's preference for the kind (urgent kinds
always): nothing more (in-app only), the next daily digest, or an e-mail now.
A row is e-mailed at most once: the sender holds the row's lock while it
sends and marks it sent in the same transaction, so a task run twice (or
the sweep and a retry at once) sends once. A broker that is down when the
event commits loses nothing: the row stays pending and the sweep
(``notifications.sweep``, every few minutes) queues it again.

E-mail states of a row::

    pending ─┬─> sent                     (e-mailed; at most once)
             ├─> not_needed               (in-app only, or the account is off)
             ├─> digest ─┬─> sent         (counted in a daily summary e-mail)
             │           ├─> not_needed   (read in mdtcare before the summary)
             │           └─> failed
             ├─> pending                  (an SMTP error: tried again later)
             └─> failed                   (no valid address, or out of attempts)
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from mdtcare.notifications import emails
from mdtcare.notifications.models import (
    URGENT_KINDS,
    EmailPreference,
    EmailStatus,
    Notification,
    NotificationDigest,
    NotificationKind,
    NotificationPreference,
)
from mdtcare.notifications.selectors import unread_count_forget

logger = logging.getLogger(__name__)

# What a mail server (or the way to it) failing looks like: worth another try.
# (smtplib.SMTPException is an OSError; both are named for the reader.)
SEND_ERRORS = (smtplib.SMTPException, OSError)
# Ids per delivery task, and at most this many rows queued again per sweep.
DELIVERY_BATCH = 100
SWEEP_LIMIT = 5000
# Publishing a task: a couple of quick tries, then give up and leave the row
# to the sweep rather than hold the user's request.
ENQUEUE_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}


# --- raising ----------------------------------------------------------------------------------


def notifications_raise(
    *,
    kind: str,
    event_id: str,
    recipients: Iterable,
    urgent: bool = False,
    patient_id=None,
    link: str = "",
) -> int:
    """One notification per recipient for this event; an event raised again
    (a job run twice, a page saved twice) adds nothing. Returns how many rows
    were made, in the caller's transaction (or their own); their delivery
    is queued when it commits. Urgent kinds are always urgent."""
    recipients = {user.pk: user for user in recipients if user is not None}
    return notifications_raise_many(
        notifications=[
            Notification(
                recipient_id=pk,
                kind=kind,
                event_id=event_id,
                urgent=urgent,
                patient_id=patient_id,
                link=link,
            )
            for pk in recipients
        ]
    )


@transaction.atomic
def notifications_raise_many(*, notifications: list[Notification]) -> int:
    """``notifications_raise`` for many events at once (unsaved rows, e.g. a
    day's reminders): none made twice for the same kind, event and recipient,
    three queries whatever the batch holds (the unique constraint settles a
    race with another run). Returns how many rows were made."""
    if not notifications:
        return 0
    kinds = {row.kind for row in notifications}
    event_ids = {row.event_id for row in notifications}
    seen = set(
        Notification.objects.filter(kind__in=kinds, event_id__in=event_ids).values_list(
            "kind", "event_id", "recipient_id"
        )
    )
    new = []
    for row in notifications:
        key = (row.kind, row.event_id, row.recipient_id)
        if key not in seen:
            seen.add(key)
            row.urgent = row.urgent or row.kind in URGENT_KINDS
            row.email_status = EmailStatus.PENDING
            new.append(row)
    if not new:
        return 0
    Notification.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    # bulk_create with ignore_conflicts gives no ids back: read them.
    made = {(row.kind, row.event_id, row.recipient_id) for row in new}
    ids = [
        pk
        for pk, *key in Notification.objects.filter(
            kind__in=kinds,
            event_id__in=event_ids,
            recipient_id__in={row.recipient_id for row in new},
            email_status=EmailStatus.PENDING,
        ).values_list("pk", "kind", "event_id", "recipient_id")
        if tuple(key) in made
    ]
    recipients = {row.recipient_id for row in new}
    unread_count_forget(user_ids=recipients)
    transaction.on_commit(partial(unread_count_forget, user_ids=recipients))
    transaction.on_commit(partial(notifications_enqueue, notification_ids=ids), robust=True)
    return len(new)


def notifications_enqueue(*, notification_ids: Iterable[int]) -> int:
    """Queue the delivery of these rows, a batch per task. A broker that
    cannot be reached is logged, not raised: the rows stay pending and the
    sweep queues them again. Returns how many were queued."""
    from mdtcare.notifications.tasks import deliver

    ids = sorted(set(notification_ids))
    queued = 0
    for start in range(0, len(ids), DELIVERY_BATCH):
        batch = ids[start : start + DELIVERY_BATCH]
        try:
            deliver.apply_async(args=[batch], retry_policy=ENQUEUE_RETRY_POLICY)
        except (BrokerError, OSError):
            logger.warning(
                "Could not queue the delivery of %s notification(s); the sweep will",
                len(batch),
                exc_info=True,
            )
        else:
            queued += len(batch)
    return queued


# --- delivering -------------------------------------------------------------------------------


@dataclass
class DeliveryRun:
    sent: int = 0
    failed: int = 0
    # Rows whose e-mail met a mail server error and may be tried again.
    retry_ids: list[int] = field(default_factory=list)


def _address_problem(user) -> str:
    """Why this person cannot be e-mailed, or nothing."""
    if not user.email:
        return "The user has no e-mail address."
    try:
        validate_email(user.email)
    except ValidationError:
        return "The user's e-mail address is not valid."
    return ""


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _preferences(ids: list[int]) -> dict[tuple, str]:
    """{(user id, kind): delivery} for the recipients and kinds of these rows."""
    pairs = Notification.objects.filter(pk__in=ids).values("recipient_id", "kind")
    return {
        (pref.user_id, pref.kind): pref.delivery
        for pref in NotificationPreference.objects.filter(
            user_id__in=pairs.values("recipient_id"), kind__in=pairs.values("kind")
        )
    }


def notifications_deliver(*, notification_ids: Iterable[int]) -> DeliveryRun:
    """Deliver these rows (those still pending; others are left alone).

    Each row in its own transaction, holding its lock while its e-mail is
    sent, so that it is e-mailed at most once however many tasks deliver it.
    A mail server error counts an attempt and leaves the row pending (its id
    in ``retry_ids``) until ``NOTIFICATIONS_EMAIL_MAX_ATTEMPTS``, then
    marks it failed with the error. No valid address: failed at once. The
    notification stays in mdtcare whatever happens to its e-mail."""
    ids = sorted(set(notification_ids))
    preferences = _preferences(ids)
    connection = mail.get_connection()
    run = DeliveryRun()
    for pk in ids:
        outcome = _deliver_one(pk, preferences=preferences, connection=connection)
        if outcome == EmailStatus.SENT:
            run.sent += 1
        elif outcome == EmailStatus.FAILED:
            run.failed += 1
        elif outcome == EmailStatus.PENDING:
            run.retry_ids.append(pk)
    return run


@transaction.atomic
def _deliver_one(pk: int, *, preferences: Mapping, connection) -> str | None:
    """The row's e-mail status after this attempt (None: not ours to deliver)."""
    # skip_locked: a row locked by another worker is being delivered by it.
    row = (
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("recipient")
        .filter(pk=pk, email_status=EmailStatus.PENDING)
        .first()
    )
    if row is None:
        return None  # gone, already delivered, or being delivered
    fields = ["email_status", "email_last_error"]
    if not (row.urgent or row.kind in URGENT_KINDS):
        choice = preferences.get((row.recipient_id, row.kind), NotificationPreference.DEFAULT)
        if choice != EmailPreference.IN_APP_AND_EMAIL:
            row.email_status = (
                EmailStatus.DIGEST
                if choice == EmailPreference.DAILY_DIGEST
                else EmailStatus.NOT_NEEDED
            )
            row.save(update_fields=fields)
            return row.email_status
    if not row.recipient.is_active:
        row.email_status, row.email_last_error = EmailStatus.NOT_NEEDED, "The account is off."
        row.save(update_fields=fields)
        return row.email_status
    problem = _address_problem(row.recipient)
    if problem:
        row.email_status, row.email_last_error = EmailStatus.FAILED, problem
        row.save(update_fields=fields)
        logger.warning("Notification %s not e-mailed: %s", row.pk, problem)
        return row.email_status
    row.email_attempts += 1
    row.email_attempted_at = timezone.now()
    fields += ["email_attempts", "email_attempted_at"]
    try:
        emails.notification_email(row, connection=connection).send()
    except SEND_ERRORS as exc:
        row.email_last_error = _describe(exc)
        if row.email_attempts >= settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS:
            row.email_status = EmailStatus.FAILED
            logger.error(
                "Notification %s e-mail failed after %s attempts: %s",
                row.pk,
                row.email_attempts,
                type(exc).__name__,
            )
        else:
            logger.warning(
                "Notification %s e-mail attempt %s failed: %s",
                row.pk,
                row.email_attempts,
                type(exc).__name__,
            )
        row.save(update_fields=fields)
        return row.email_status
    except ValueError as exc:  # an address the mail library refuses: no use trying again
        row.email_status, row.email_last_error = EmailStatus.FAILED, _describe(exc)
        row.save(update_fields=fields)
        return row.email_status
    row.email_status, row.emailed_at = EmailStatus.SENT, row.email_attempted_at
    row.save(update_fields=[*fields, "emailed_at"])
    return row.email_status


def notifications_sweep(*, now: dt.datetime | None = None) -> int:
    """Queue again what should have been delivered by now: rows still pending
    ``NOTIFICATIONS_SWEEP_MINUTES`` after they were made (their task was never
    queued, e.g. the broker was down at commit, or was lost), and daily
    digests still pending as long after their last attempt. A row waiting
    for a retry is left to its retry until its longest wait has passed.
    Returns how many notifications were queued."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.NOTIFICATIONS_SWEEP_MINUTES)
    retry_cutoff = cutoff - dt.timedelta(seconds=settings.NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS)
    ids = list(
        Notification.objects.filter(email_status=EmailStatus.PENDING, created_at__lt=cutoff)
        .filter(Q(email_attempted_at__isnull=True) | Q(email_attempted_at__lt=retry_cutoff))
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    if ids:
        logger.info("Notification sweep: %s still pending, queued again", len(ids))
        notifications_enqueue(notification_ids=ids)
    digests = NotificationDigest.objects.filter(
        status=EmailStatus.PENDING, created_at__lt=cutoff
    ).filter(Q(attempted_at__isnull=True) | Q(attempted_at__lt=retry_cutoff))
    for recipient_id, day in digests.values_list("recipient_id", "day")[:SWEEP_LIMIT]:
        notification_digest_enqueue(recipient_id=recipient_id, day=day)
    return len(ids)


# --- the daily digest -------------------------------------------------------------------------


def notification_digest_enqueue(*, recipient_id, day: dt.date) -> bool:
    from mdtcare.notifications.tasks import digest_send

    try:
        digest_send.apply_async(
            args=[str(recipient_id), day.isoformat()], retry_policy=ENQUEUE_RETRY_POLICY
        )
    except (BrokerError, OSError):
        logger.warning("Could not queue a daily digest; the sweep will", exc_info=True)
        return False
    return True


def notifications_digest_start(*, day: dt.date | None = None) -> int:
    """Queue today's digest of everyone with notifications waiting for one.
    Returns how many people that is."""
    day = day or timezone.localdate()
    recipients = list(
        Notification.objects.filter(email_status=EmailStatus.DIGEST, digest__isnull=True)
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for recipient_id in recipients:
        notification_digest_enqueue(recipient_id=recipient_id, day=day)
    return len(recipients)


@transaction.atomic
def notification_digest_send(*, recipient_id, day: dt.date) -> str | None:
    """Send the person their summary for ``day``: one e-mail counting, per
    kind, their notifications waiting for a digest since the last one and
    still unread (those read in mdtcare meanwhile need no e-mail). At most
    one a day (the digest's unique key), and at most once (its lock is held
    while sending). Returns the digest's status after this attempt (None:
    not ours to send: already sent, failed, or being sent)."""
    digest, _ = NotificationDigest.objects.get_or_create(recipient_id=recipient_id, day=day)
    digest = (
        NotificationDigest.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("recipient")
        .filter(pk=digest.pk, status=EmailStatus.PENDING)
        .first()
    )
    if digest is None:
        return None
    # Take in everything waiting since the last digest (also on a retry).
    Notification.objects.filter(
        recipient_id=recipient_id, email_status=EmailStatus.DIGEST, digest__isnull=True
    ).update(digest=digest)
    waiting = Notification.objects.filter(digest=digest, email_status=EmailStatus.DIGEST)
    counts = dict(
        waiting.filter(read_at__isnull=True)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    user = digest.recipient
    if not counts or not user.is_active:
        waiting.update(email_status=EmailStatus.NOT_NEEDED)
        digest.status = EmailStatus.NOT_NEEDED
        digest.last_error = "" if user.is_active else "The account is off."
        digest.save(update_fields=["status", "last_error"])
        return digest.status
    problem = _address_problem(user)
    if problem:
        return _digest_failed(digest, waiting, problem)
    digest.attempts += 1
    digest.attempted_at = now = timezone.now()
    try:
        emails.digest_email(to=user.email, counts=counts).send()
    except SEND_ERRORS as exc:
        if digest.attempts >= settings.NOTIFICATIONS_EMAIL_MAX_ATTEMPTS:
            return _digest_failed(digest, waiting, _describe(exc))
        digest.last_error = _describe(exc)
        digest.save(update_fields=["attempts", "attempted_at", "last_error"])
        logger.warning(
            "Daily digest %s attempt %s failed: %s", digest.pk, digest.attempts, type(exc).__name__
        )
        return digest.status
    except ValueError as exc:  # an address the mail library refuses
        return _digest_failed(digest, waiting, _describe(exc))
    waiting.filter(read_at__isnull=True).update(email_status=EmailStatus.SENT, emailed_at=now)
    waiting.update(email_status=EmailStatus.NOT_NEEDED)  # the rest: read meanwhile
    digest.status, digest.emailed_at = EmailStatus.SENT, now
    digest.save(update_fields=["status", "attempts", "attempted_at", "emailed_at"])
    return digest.status


def _digest_failed(digest: NotificationDigest, waiting, error: str) -> str:
    waiting.update(email_status=EmailStatus.FAILED, email_last_error=error)
    digest.status, digest.last_error = EmailStatus.FAILED, error
    digest.save(update_fields=["status", "attempts", "attempted_at", "last_error"])
    logger.error("Daily digest %s failed: %s", digest.pk, error.split(":")[0])
    return digest.status


# --- reading ----------------------------------------------------------------------------------


def notification_mark_read(*, user, notification: Notification) -> Notification:
    """Mark the user's own notification read (once: reading again keeps the
    first time)."""
    if notification.recipient_id != user.pk:
        raise ValidationError("Only its recipient reads a notification.")
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
        unread_count_forget(user_ids=[user.pk])
    return notification


def notifications_mark_all_read(*, user) -> int:
    """Mark all the user's notifications read; returns how many were unread."""
    marked = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    unread_count_forget(user_ids=[user.pk])
    return marked


# --- preferences ------------------------------------------------------------------------------


def notification_preferences_save(*, user, deliveries: Mapping[str, str]) -> None:
    """Save how the user hears about each kind named (one query). Urgent
    kinds cannot be chosen for: they are always e-mailed at once."""
    for kind, delivery in deliveries.items():
        if kind in URGENT_KINDS:
            raise ValidationError(f"{NotificationKind(kind).label} is always e-mailed.")
        if kind not in NotificationKind.values or delivery not in EmailPreference.values:
            raise ValidationError("Choose one of the options for each kind.")
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(user=user, kind=kind, delivery=delivery)
            for kind, delivery in deliveries.items()
        ],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["delivery", "updated_at"],
    )


# --- administration ---------------------------------------------------------------------------


def notifications_email_again(*, notification_ids: Iterable[int]) -> int:
    """An admin's "send again" for failed e-mails (e.g. once an address is
    corrected): they become pending with their attempts counted afresh, and
    are queued when this commits. Returns how many."""
    ids = list(
        Notification.objects.filter(
            pk__in=list(notification_ids), email_status=EmailStatus.FAILED
        ).values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=ids).update(
        email_status=EmailStatus.PENDING, email_attempts=0, email_attempted_at=None
    )
    transaction.on_commit(partial(notifications_enqueue, notification_ids=ids), robust=True)
    return len(ids)
