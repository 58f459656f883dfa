"""The audit trail: what changed (written by database triggers) and who looked
at what (written by the access services). Both are append-only."""

from django.conf import settings
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    """Audit rows are never edited or deleted through the application; the
    database refuses it too (triggers, see ``triggers.py``)."""

    def update(self, **kwargs):
        raise PermissionError("Audit records are append-only.")

    def delete(self):
        raise PermissionError("Audit records are append-only.")


class AppendOnlyModel(models.Model):
    """A history row: written once, never changed or deleted through the
    application (its queryset refuses bulk changes too)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(f"{self._meta.verbose_name} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.verbose_name} rows are append-only.")


class ChangeEvent(models.Model):
    """One insert, update or delete of an audited table's row."""

    class Operation(models.TextChoices):
        INSERT = "insert", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    at = models.DateTimeField()
    table_name = models.CharField(max_length=63)
    row_id = models.CharField(max_length=64)
    operation = models.CharField(max_length=6, choices=Operation.choices)
    # Insert: the new row; delete: the old row; update: only changed columns.
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    request_id = models.CharField(max_length=64, null=True)
    # "web", "api", "task:<name>", "command:<name>"; empty for raw database access.
    source = models.CharField(max_length=120, null=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [
            # The history of one record: WHERE table_name = … AND row_id = … ORDER BY at.
            models.Index(fields=["table_name", "row_id", "at"], name="audit_change_row_at"),
        ]

    def __str__(self):
        return f"{self.operation} {self.table_name} {self.row_id}"


class AccessEvent(models.Model):
    """One request that showed, searched or exported patient data. Exactly
    one per request; the patients it showed are its ``patients`` rows."""

    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_events"
    )
    # The role the user held in the record's network (or their roles, for a list).
    role = models.CharField(max_length=120)
    what = models.CharField(max_length=120)
    path = models.CharField(max_length=500)
    method = models.CharField(max_length=10)
    request_id = models.CharField(max_length=64)
    # Why the gate let them in, e.g. "member of North as matron".
    reason = models.CharField(max_length=500)
    patient_count = models.PositiveIntegerField(default=0)
    # Allowed by the user's emergency access ("break glass"), not a network:
    # the reason they gave is in ``reason``.
    emergency = models.BooleanField(default=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [
            # A user's own record-access report: WHERE user_id = … ORDER BY at DESC.
            models.Index(fields=["user", "-at"], name="audit_access_user_at"),
        ]

    def __str__(self):
        return f"{self.what} at {self.at:%Y-%m-%d %H:%M}"


class AccessEventPatient(models.Model):
    """A patient whose data an access event showed."""

    event = models.ForeignKey(AccessEvent, on_delete=models.PROTECT, related_name="patients")
    # The patient's UUID: no foreign key, so the audit outlives any record.
    patient_id = models.UUIDField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [
            # Who accessed this patient's record: WHERE patient_id = … ORDER BY event.
            models.Index(fields=["patient_id", "event"], name="audit_accesspatient_patient"),
        ]

    def __str__(self):
        return str(self.patient_id)
