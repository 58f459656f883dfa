"""Reading notifications: always a person's own (another's is a 404)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404

from mdtcare.notifications.models import Notification, NotificationPreference

# The header's unread count is cached, so that it costs pages no query; every
# change of a count forgets it (services), and this bounds how long a count
# can lag behind a change the cache did not hear of (a local-memory cache in
# another process: the demo's worker).
UNREAD_CACHE_SECONDS = 60


def notifications_of(*, user):
    """The user's notifications, newest first."""
    return Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")


def notification_get_for_user(*, user, notification_id) -> Notification:
    """The user's own notification by its public id; any other (someone
    else's, unknown, malformed) is the same 404."""
    try:
        return notifications_of(user=user).get(public_id=notification_id)
    except (Notification.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


def _unread_key(user_id) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(*, user) -> int:
    """How many of the user's notifications are unread: from the cache, else
    one indexed count (notifications_unread)."""
    key = _unread_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def unread_count_forget(*, user_ids: Iterable) -> None:
    cache.delete_many([_unread_key(user_id) for user_id in set(user_ids)])


def preferences_of(*, user) -> dict[str, str]:
    """The user's choice for each kind they have chosen for (others: the default)."""
    return dict(
        NotificationPreference.objects.filter(user_id=user.pk).values_list("kind", "delivery")
    )


def patients_shown(*, user, patient_ids: Iterable) -> dict:
    """The people the notifications are about that the user may still see
    (through the access gate), by id, with their practice: one query."""
    from patients.models import Patient

    ids = {patient_id for patient_id in patient_ids if patient_id}
    if not ids:
        return {}
    return {
        patient.pk: patient
        for patient in Patient.objects.visible_to(user)
        .filter(pk__in=ids)
        .select_related("practice")
    }
