"""Holistic assessments (integrated care and support plans come next).

An assessment is a conversation with the person, recorded section by
section. Its answers are kept as one document per section; the scores of
its instruments are computed from them (``careplans.instruments``), and
frozen into ``scores`` when the assessor signs it."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from mdtcare.audit.models import AppendOnlyQuerySet
from mdtcare.audit.registry import audited
from mdtcare.core.gate import NetworkScopedQuerySet
from mdtcare.core.models import BaseModel


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


class AssessmentAmendment(BaseModel):
    """A correction to a signed assessment's section, with its reason. The
    original answers stay as they were signed."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="amendments")
    section = models.CharField(max_length=40)
    before = models.JSONField(encoder=DjangoJSONEncoder)
    after = models.JSONField(encoder=DjangoJSONEncoder)
    reason = models.CharField(max_length=500)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.section} amended"
