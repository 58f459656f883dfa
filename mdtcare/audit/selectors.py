"""Reading the audit trail."""

from __future__ import annotations

from uuid import UUID

from mdtcare.audit.models import AccessEvent, ChangeEvent


def access_events_for_patient(*, patient_id: UUID):
    """Who accessed this patient's record, newest first."""
    return (
        AccessEvent.objects.filter(patients__patient_id=patient_id)
        .select_related("user")
        .order_by("-at")
    )


def access_events_by_user(*, user):
    """A person's own record-access report, newest first."""
    return AccessEvent.objects.filter(user=user).order_by("-at")


def change_history(*, instance):
    """Every recorded change of one row, oldest first."""
    pk = instance.pk
    row_ids = {str(pk), pk.hex} if isinstance(pk, UUID) else {str(pk)}
    return (
        ChangeEvent.objects.filter(table_name=instance._meta.db_table, row_id__in=row_ids)
        .select_related("actor")
        .order_by("at", "id")
    )
