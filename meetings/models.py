"""MDT meetings, their agendas, the outcome of each discussion, and actions.

A meeting belongs to one network and is run by its GP chair. Its agenda
lists people to discuss, each with a reason; each discussion records an
outcome. Actions have an owner and a due date; "overdue" is derived, never
stored.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery

from mdtcare.audit.models import AppendOnlyModel
from mdtcare.audit.registry import audited
from mdtcare.core.gate import NetworkScopedQuerySet
from mdtcare.core.models import BaseModel
from patients.models import Patient, PrimaryNeed


class MeetingFormat(models.TextChoices):
    FACE_TO_FACE = "face_to_face", "Face to face"
    TELECONFERENCE = "teleconference", "Teleconference"
    HYBRID = "hybrid", "Hybrid"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    FORTNIGHTLY = "fortnightly", "Fortnightly"
    MONTHLY = "monthly", "Monthly"


class MeetingQuerySet(NetworkScopedQuerySet):
    pass


@audited
class MeetingSeries(BaseModel):
    """Meetings at a regular interval until a date. Each meeting of the
    series is its own row, so one can move or be cancelled alone."""

    network_path = "network"
    Frequency = Frequency

    network = models.ForeignKey(
        "accounts.Network", on_delete=models.PROTECT, related_name="meeting_series"
    )
    frequency = models.CharField(max_length=12, choices=Frequency.choices)
    first_on = models.DateField()
    until = models.DateField()

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "meeting series"
        constraints = [
            models.CheckConstraint(
                condition=Q(until__gte=F("first_on")), name="meetings_meetingseries_until_after"
            ),
        ]

    def __str__(self):
        return f"{self.get_frequency_display()} from {self.first_on}"


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


@audited
class Meeting(BaseModel):
    """One MDT meeting of a network."""

    network_path = "network"
    Status = MeetingStatus
    Format = MeetingFormat

    network = models.ForeignKey(
        "accounts.Network", on_delete=models.PROTECT, related_name="meetings"
    )
    series = models.ForeignKey(
        MeetingSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings"
    )
    date = models.DateField()
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    format = models.CharField(
        max_length=16, choices=MeetingFormat.choices, default=MeetingFormat.FACE_TO_FACE
    )
    venue = models.CharField(max_length=300, blank=True)
    dial_in = models.CharField(max_length=300, blank=True, help_text="Link or phone number")
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="chaired_meetings",
    )
    invited = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="meeting_invitations"
    )
    status = models.CharField(
        max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    cancel_reason = models.CharField(max_length=500, blank=True)
    agenda_published_at = models.DateTimeField(null=True, blank=True)
    agenda_published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Why an admin, not a GP chair, ran the meeting (when one did).
    acting_chair_reason = models.CharField(max_length=500, blank=True)
    # Raised by every change of the agenda: a change based on an older one is refused.
    revision = models.PositiveIntegerField(default=1)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["date", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="meetings_meeting_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=MeetingStatus.values), name="meetings_meeting_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="meetings_meeting_cancelled_has_reason",
            ),
        ]
        indexes = [
            # A network's meetings by date: WHERE network_id = … AND date >= … ORDER BY date.
            models.Index(fields=["network", "date"], name="meetings_meeting_network_date"),
        ]

    def __str__(self):
        return f"MDT on {self.date} at {self.starts_at:%H:%M}"


class AgendaReason(models.TextChoices):
    NEW_REFERRAL = "new_referral", "New referral"
    REVIEW_DUE = "review_due", "Review due"
    RELISTED = "relisted", "Re-listed"
    CARRIED_FORWARD = "carried_forward", "Carried forward"
    URGENT = "urgent", "Urgent"


class AgendaItemQuerySet(NetworkScopedQuerySet):
    pass


@audited
class AgendaItem(BaseModel):
    """One person to discuss at one meeting, with the reason. Time slots are
    worked out from the meeting's length and the order, never stored."""

    network_path = "meeting__network"
    Reason = AgendaReason

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="agenda_items"
    )
    reason = models.CharField(max_length=20, choices=AgendaReason.choices)
    position = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)
    # Set when the meeting closes without reaching the item.
    not_reached = models.BooleanField(default=False)

    objects = AgendaItemQuerySet.as_manager()

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "patient"], name="meetings_agendaitem_patient_once"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=AgendaReason.values), name="meetings_agendaitem_reason_valid"
            ),
        ]
        indexes = [
            # A person's discussions: WHERE patient_id = … (with the meeting's date).
            models.Index(fields=["patient", "meeting"], name="meetings_agendaitem_patient"),
        ]

    def __str__(self):
        return f"{self.get_reason_display()} at position {self.position}"


class Outcome(models.TextChoices):
    CONTINUE = "continue", "Continue"
    RELIST = "relist", "Re-list at next MDT"
    STEP_DOWN = "step_down", "Step down"
    DISCHARGE = "discharge", "Discharge"
    ESCALATE = "escalate", "Escalate"


@audited
class Discussion(BaseModel):
    """The outcome of discussing one agenda item."""

    Outcome = Outcome

    item = models.OneToOneField(AgendaItem, on_delete=models.PROTECT, related_name="discussion")
    summary = models.TextField(max_length=4000, blank=True)
    decisions = models.TextField(max_length=4000, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    primary_need = models.CharField(max_length=20, choices=PrimaryNeed.choices, blank=True)
    clinical_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ratified_plan = models.ForeignKey(
        "careplans.CarePlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    next_review_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Raised by every save: a save based on an older revision is refused.
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="meetings_discussion_outcome_valid"
            ),
        ]

    def __str__(self):
        return self.get_outcome_display()


class DiscussionAmendment(AppendOnlyModel, BaseModel):
    """A correction to an outcome after its meeting closed, with the reason.
    The discussion carries the corrected values; ``before`` and ``after``
    hold the fields that changed, so the minutes show what was recorded at
    the meeting and what was corrected, by whom and why."""

    discussion = models.ForeignKey(Discussion, on_delete=models.PROTECT, related_name="amendments")
    before = models.JSONField(encoder=DjangoJSONEncoder)
    after = models.JSONField(encoder=DjangoJSONEncoder)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Outcome amended: {', '.join(sorted(self.after))}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    APOLOGIES = "apologies", "Apologies"


class Attendance(BaseModel):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200)
    profession = models.CharField(max_length=60, blank=True)
    organisation = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=AttendanceStatus.choices, default=AttendanceStatus.PRESENT
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"],
                condition=Q(user__isnull=False),
                name="meetings_attendance_user_once",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.status})"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class ActionPriority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class ActionSource(models.TextChoices):
    DISCUSSION = "discussion", "MDT discussion"
    PLAN = "plan", "Care plan"
    REVIEW = "review", "Review"
    OTHER = "other", "Other"


class ActionQuerySet(NetworkScopedQuerySet):
    def still_to_do(self):
        return self.filter(status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS])

    def bulk_create(self, objs, *args, **kwargs):
        """As Django's, with each action's ``network`` filled from its person
        (one query for them all) where it is not set."""
        objs = list(objs)
        missing = {action.patient_id for action in objs if action.network_id is None}
        if missing:
            networks = dict(_networks_of_patients(missing))
            for action in objs:
                if action.network_id is None:
                    action.network_id = networks.get(action.patient_id)
        return super().bulk_create(objs, *args, **kwargs)

    def network_follow(self) -> int:
        """Set these actions' ``network`` to their person's network now (after
        a person changes practice, or a practice changes network)."""
        return self.update(
            network_id=Subquery(
                Patient.objects.filter(pk=OuterRef("patient_id")).values("practice__network_id")[:1]
            )
        )


def _networks_of_patients(patient_ids):
    return Patient.objects.filter(pk__in=patient_ids).values_list("pk", "practice__network_id")


@audited
class Action(BaseModel):
    """Something someone must do for a person, by a date. Overdue is derived
    (due date passed and not done or cancelled), never stored."""

    # The gate reads the network kept on the action (``network``, below).
    network_path = "network"
    Status = ActionStatus
    Priority = ActionPriority
    Source = ActionSource

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="actions"
    )
    # The person's network (their practice's), kept on the action: the
    # access gate and a network's worklists read it from this table's own
    # indexes, without going through every person of the network. Filled
    # when the action is saved (or made in bulk); moved with the person by
    # ``network_follow`` (patient_update, and a practice moved to another
    # network in the admin).
    network = models.ForeignKey(
        "accounts.Network", on_delete=models.PROTECT, related_name="+", editable=False
    )
    what = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="actions",
    )
    # Or a team: an organisation's, when no one person owns it yet.
    owner_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()
    priority = models.CharField(
        max_length=10, choices=ActionPriority.choices, default=ActionPriority.ROUTINE
    )
    status = models.CharField(
        max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    source = models.CharField(
        max_length=12, choices=ActionSource.choices, default=ActionSource.OTHER
    )
    discussion = models.ForeignKey(
        Discussion, null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    plan = models.ForeignKey(
        "careplans.CarePlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completion_note = models.CharField(max_length=1000, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # When it was cancelled: monthly activity counts an action open until then.
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ActionStatus.values), name="meetings_action_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(owner__isnull=False)
                | Q(owner_organisation__isnull=False)
                | Q(status__in=["open", "cancelled"]),
                name="meetings_action_owned_once_started",
            ),
        ]
        indexes = [
            # A worklist: WHERE owner_id = … AND status IN (open, in_progress) ORDER BY due_on.
            models.Index(fields=["owner", "status", "due_on"], name="meetings_action_owner"),
            # Reports: actions created in a range of months (monthly activity, the export).
            models.Index(fields=["created_at"], name="meetings_action_created"),
            # Overdue digests: WHERE status IN (…) AND due_on < today.
            models.Index(fields=["status", "due_on"], name="meetings_action_due"),
            # A person's actions: WHERE patient_id = ….
            models.Index(fields=["patient", "status"], name="meetings_action_patient"),
            # A network's worklist: its sections' sizes and the rows still to
            # do, by due date; done lately, by when.
            models.Index(
                fields=["network", "status", "due_on"], name="meetings_action_network_due"
            ),
            models.Index(
                fields=["network", "status", "completed_at"], name="meetings_action_network_done"
            ),
        ]

    def __str__(self):
        return self.what[:60]

    def save(self, *args, **kwargs):
        if self.network_id is None and self.patient_id is not None:
            patient = self._state.fields_cache.get("patient")
            if patient is not None and "practice" in patient._state.fields_cache:
                self.network_id = patient.practice.network_id
            else:
                self.network_id = dict(_networks_of_patients([self.patient_id])).get(
                    self.patient_id
                )
        super().save(*args, **kwargs)
