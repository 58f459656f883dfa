"""Raising notifications. Delivery is separate: rows here are the outbox."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from mdtcare.notifications.models import Notification


@transaction.atomic
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
    were made."""
    recipients = {user.pk: user for user in recipients if user is not None}
    existing = set(
        Notification.objects.filter(
            kind=kind, event_id=event_id, recipient_id__in=recipients
        ).values_list("recipient_id", flat=True)
    )
    rows = [
        Notification(
            recipient_id=pk,
            kind=kind,
            event_id=event_id,
            urgent=urgent,
            patient_id=patient_id,
            link=link,
        )
        for pk in recipients
        if pk not in existing
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
