"""Holistic assessments and integrated care and support plans.

An assessment is a conversation with the person, recorded section by
section. Its answers are kept as one document per section; the scores of
its instruments are computed from them (``careplans.instruments``), and
frozen into ``scores`` when the assessor signs it."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from mdtcare.audit.models import AppendOnlyModel
from mdtcare.audit.registry import audited
from mdtcare.core.gate import NetworkScopedQuerySet
from mdtcare.core.models import BaseModel
from patients.models import PrimaryNeed


class AssessmentQuerySet(NetworkScopedQuerySet):
    pass


class AssessmentKind(models.TextChoices):
    INITIAL = "initial", "Initial assessment"
    REASSESSMENT = "reassessment", "Re-assessment"


class AssessmentSetting(models.TextChoices):
    HOME = "home", "At home"
    CLINIC = "clinic", "In clinic"
    PHONE = "phone", "By phone"
    VIDEO = "video", "By video"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPLETED = "completed", "Completed and signed"


@audited
class Assessment(BaseModel):
    """A holistic assessment of one person by one assessor."""

    network_path = "patient__practice__network"
    Kind = AssessmentKind
    Setting = AssessmentSetting
    Status = AssessmentStatus

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="assessments"
    )
    kind = models.CharField(max_length=20, choices=AssessmentKind.choices)
    # The assessment a re-assessment starts from.
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments"
    )
    assessed_on = models.DateField()
    setting = models.CharField(
        max_length=10, choices=AssessmentSetting.choices, default=AssessmentSetting.HOME
    )
    people_present = models.CharField(
        max_length=300, blank=True, help_text="For example her daughter, an interpreter"
    )
    status = models.CharField(
        max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    # {section key: {question key: answer}} (see careplans.sections).
    answers = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # Raised by every save: a save based on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    # The instruments' scores when signed ({instrument: {total, maximum, band, flags}}).
    scores = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-assessed_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AssessmentKind.values), name="careplans_assessment_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(setting__in=AssessmentSetting.values),
                name="careplans_assessment_setting_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(signed_by__isnull=False) & Q(signed_at__isnull=False)),
                name="careplans_assessment_signed_when_completed",
            ),
        ]
        indexes = [
            # A patient's assessments, latest first: WHERE patient_id = … ORDER BY assessed_on DESC.
            models.Index(fields=["patient", "-assessed_on"], name="careplans_assessment_patient"),
            # An assessor's drafts: WHERE assessor_id = … AND status = 'draft'.
            models.Index(fields=["assessor", "status"], name="careplans_assessment_assessor"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.assessed_on}"

    @property
    def is_signed(self) -> bool:
        return self.status == AssessmentStatus.COMPLETED


@audited
class AssessmentAmendment(AppendOnlyModel, BaseModel):
    """A correction to a signed assessment's section, with its reason. The
    original answers stay as they were signed."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="amendments")
    section = models.CharField(max_length=40)
    before = models.JSONField(encoder=DjangoJSONEncoder)
    after = models.JSONField(encoder=DjangoJSONEncoder)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.section} amended"


# --- Integrated care and support plans -------------------------------------------


class CarePlanQuerySet(NetworkScopedQuerySet):
    pass


class CarePlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed for the MDT"
    RATIFIED = "ratified", "Ratified by the MDT"
    SHARED = "shared", "Shared with the person"
    SUPERSEDED = "superseded", "Superseded"
    CLOSED = "closed", "Closed"


class SharingMethod(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    POST = "post", "By post"
    EMAIL = "email", "By e-mail"
    PORTAL = "portal", "Through the patient portal"


class ReviewInterval(models.IntegerChoices):
    FOUR_WEEKS = 4, "4 weeks"
    SIX_WEEKS = 6, "6 weeks"
    EIGHT_WEEKS = 8, "8 weeks"
    TWELVE_WEEKS = 12, "12 weeks"
    SIX_MONTHS = 26, "6 months"


@audited
class CarePlan(BaseModel):
    """One version of a person's integrated care and support plan.

    A new version copies the current one forward; the current one becomes
    superseded once the new one is ratified. Ratified and shared versions
    are never edited in place."""

    network_path = "patient__practice__network"
    Status = CarePlanStatus
    Sharing = SharingMethod
    Interval = ReviewInterval
    EDITABLE = (CarePlanStatus.DRAFT, CarePlanStatus.PROPOSED)

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="care_plans"
    )
    entry = models.ForeignKey(
        "patients.RegisterEntry", on_delete=models.PROTECT, related_name="care_plans"
    )
    number = models.PositiveIntegerField(default=1, help_text="Version 1, 2, 3 … of the plan")
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="care_plans"
    )
    status = models.CharField(
        max_length=12, choices=CarePlanStatus.choices, default=CarePlanStatus.DRAFT
    )
    primary_need = models.CharField(max_length=20, choices=PrimaryNeed.choices, blank=True)
    clinical_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_plans",
    )
    navigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="navigated_plans",
    )
    self_management = models.TextField(max_length=4000, blank=True)
    contingency = models.TextField(
        max_length=4000, blank=True, help_text="What to do and whom to call if things get worse"
    )
    carer_involvement = models.TextField(max_length=2000, blank=True)
    review_interval_weeks = models.PositiveSmallIntegerField(
        choices=ReviewInterval.choices, default=ReviewInterval.SIX_WEEKS
    )
    starts_on = models.DateField()
    next_review_on = models.DateField()
    # Raised by every save of a draft: a save based on an older revision is refused.
    revision = models.PositiveIntegerField(default=1)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    ratified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ratified_at = models.DateTimeField(null=True, blank=True)
    ratification_note = models.CharField(max_length=500, blank=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_on = models.DateField(null=True, blank=True)
    shared_how = models.CharField(max_length=12, choices=SharingMethod.choices, blank=True)

    objects = CarePlanQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "number"], name="careplans_careplan_number_once_per_episode"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CarePlanStatus.values),
                name="careplans_careplan_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(next_review_on__gte=models.F("starts_on")),
                name="careplans_careplan_review_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["ratified", "shared"])
                | (Q(ratified_by__isnull=False) & Q(ratified_at__isnull=False)),
                name="careplans_careplan_ratified_has_who_and_when",
            ),
        ]
        indexes = [
            # A patient's plans, newest version first: WHERE patient_id = … ORDER BY number DESC.
            models.Index(fields=["patient", "-number"], name="careplans_plan_patient"),
            # Reviews due: WHERE status IN (ratified, shared) AND next_review_on <= ….
            models.Index(fields=["status", "next_review_on"], name="careplans_plan_review"),
        ]

    def __str__(self):
        return f"Care plan version {self.number} ({self.status})"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class GoalProgress(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    ON_TRACK = "on_track", "On track"
    ACHIEVED = "achieved", "Achieved"
    NO_LONGER_RELEVANT = "no_longer_relevant", "No longer relevant"


@audited
class CarePlanGoal(BaseModel):
    """A goal written with the person: what matters to them in their own
    words, the support agreed, who provides it and by when."""

    Progress = GoalProgress

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="goals")
    position = models.PositiveSmallIntegerField(default=0)
    what_matters = models.CharField(max_length=500, help_text="In the person's own words")
    support_agreed = models.TextField(max_length=2000, blank=True)
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider_name = models.CharField(
        max_length=200, blank=True, help_text="Who provides it, when not a user of mdtcare"
    )
    target_on = models.DateField(null=True, blank=True)
    progress = models.CharField(
        max_length=20, choices=GoalProgress.choices, default=GoalProgress.NOT_STARTED
    )

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__in=GoalProgress.values),
                name="careplans_careplangoal_progress_valid",
            ),
        ]

    def __str__(self):
        return self.what_matters[:60]


@audited
class CareTeamMember(BaseModel):
    """Someone in the person's care team for this plan, with their role in it."""

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="care_team")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True, help_text="When not a user of mdtcare")
    role_in_plan = models.CharField(max_length=200)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(practitioner__isnull=False)
                | Q(organisation__isnull=False)
                | ~Q(name=""),
                name="careplans_careteammember_someone",
            ),
        ]

    def __str__(self):
        return self.role_in_plan
