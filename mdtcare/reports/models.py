"""Report exports that run in the background: what was asked, by whom, how
far the worker has got, and where the finished file is (for a day)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from mdtcare.core.models import BaseModel


class ReportExport(BaseModel):
    """One export a user asked for that was too large to stream at once.

    Seen only by the user who asked (``requested_by``); its file lives under
    ``REPORT_EXPORT_DIR`` by a random name until ``expires_at``, when the
    hourly job deletes both. Status moves only forward::

        queued ─> running ─┬─> ready
                           └─> failed
    """

    class Kind(models.TextChoices):
        ACTIONS = "actions", "Actions detail"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being written"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_exports"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    format = models.CharField(max_length=4, choices=Format.choices)
    # {"from": "YYYY-MM", "to": "YYYY-MM", "network_ids": [uuid, …], and for the
    # pages "network_codes" and "network_names" as they were when asked}.
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The COUNT when asked; replaced by the rows actually written when ready.
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # Relative to REPORT_EXPORT_DIR; random, so never guessable from the input.
    file_name = models.CharField(max_length=80)
    # For the person who asked: never a traceback or data from the export.
    error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["actions"]), name="reports_reportexport_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=["csv", "xlsx"]), name="reports_reportexport_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "ready", "failed"]),
                name="reports_reportexport_status_valid",
            ),
        ]
        indexes = [
            # "Your exports": WHERE requested_by_id = … AND expires_at > now
            # ORDER BY created_at DESC.
            models.Index(fields=["requested_by", "-created_at"], name="reports_reportexport_mine"),
            # The hourly expiry job: WHERE expires_at <= now.
            models.Index(fields=["expires_at"], name="reports_reportexport_expires"),
        ]

    def __str__(self):
        return f"{self.kind} {self.format} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
