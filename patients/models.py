"""The patient register: people, their carers, conditions and consent, and
their case-management episodes (register entries) from referral onwards.

The NHS number is a person's identity: a person is on the register once.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from mdtcare.audit.models import AppendOnlyModel
from mdtcare.audit.registry import audited
from mdtcare.core import nhs_number
from mdtcare.core.gate import NetworkScopedQuerySet
from mdtcare.core.models import BaseModel


class PatientQuerySet(NetworkScopedQuerySet):
    pass


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INDETERMINATE = "indeterminate", "Indeterminate"
    NOT_KNOWN = "not_known", "Not known"


class FrailtyCategory(models.TextChoices):
    """Electronic Frailty Index (eFI) categories."""

    FIT = "fit", "Fit"
    MILD = "mild", "Mild frailty"
    MODERATE = "moderate", "Moderate frailty"
    SEVERE = "severe", "Severe frailty"


@audited
class Patient(BaseModel):
    """A person on the register, seen by the practitioners of their
    registered practice's network."""

    network_path = "practice__network"
    Sex = Sex

    nhs_number = models.CharField(
        "NHS number", max_length=10, unique=True, validators=[nhs_number.validate]
    )
    title = models.CharField(max_length=20, blank=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=20, choices=Sex.choices)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=8)
    phone = models.CharField(max_length=30, blank=True)
    practice = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="patients",
        limit_choices_to={"type": "gp_practice"},
    )
    preferred_language = models.CharField(max_length=60, blank=True, default="English")
    interpreter_needed = models.BooleanField(default=False)
    accessibility_needs = models.TextField(max_length=2000, blank=True)
    date_of_death = models.DateField(null=True, blank=True)
    # The latest risk-stratification result, kept here (its history is in
    # RiskScore) because the register list filters and sorts on it.
    risk_score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    risk_scored_on = models.DateField(null=True, blank=True)
    frailty_category = models.CharField(max_length=10, choices=FrailtyCategory.choices, blank=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sex__in=Sex.values), name="patients_patient_sex_valid"
            ),
            models.CheckConstraint(
                condition=Q(risk_score__isnull=True)
                | (Q(risk_score__gte=0) & Q(risk_score__lte=100)),
                name="patients_patient_risk_score_range",
            ),
            models.CheckConstraint(
                condition=Q(frailty_category="") | Q(frailty_category__in=FrailtyCategory.values),
                name="patients_patient_frailty_valid",
            ),
        ]
        indexes = [
            # The register list and search by name: ORDER BY family_name, given_name.
            models.Index(fields=["family_name", "given_name"], name="patients_patient_name"),
            # Search by date of birth: WHERE date_of_birth = ….
            models.Index(fields=["date_of_birth"], name="patients_patient_dob"),
            # Case-finding: WHERE risk_score >= threshold ORDER BY risk_score DESC.
            models.Index(fields=["-risk_score"], name="patients_patient_risk"),
        ]

    def __str__(self):
        return f"{self.family_name.upper()}, {self.given_name}"

    @property
    def nhs_number_display(self) -> str:
        return nhs_number.display(self.nhs_number)


class LongTermCondition(models.Model):
    """The curated list of long-term conditions (shipped data, with their
    SNOMED CT concept ids; see patients/data/README.md)."""

    key = models.SlugField(max_length=60, primary_key=True)
    name = models.CharField(max_length=120)
    snomed_ct_id = models.CharField("SNOMED CT concept id", max_length=20, unique=True)
    snomed_term = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


@audited
class PatientCondition(BaseModel):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    condition = models.ForeignKey(LongTermCondition, on_delete=models.PROTECT, related_name="+")
    diagnosed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["condition__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "condition"], name="patients_patientcondition_once"
            )
        ]

    def __str__(self):
        return self.condition_id


@audited
class Carer(BaseModel):
    """A carer or next of kin of a patient."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="carers")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=60)
    phone = models.CharField(max_length=30, blank=True)
    is_next_of_kin = models.BooleanField(default=False)
    is_main_carer = models.BooleanField(default=False)
    lives_with_patient = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_main_carer", "name"]

    def __str__(self):
        return f"{self.name} ({self.relationship})"


class ConsentTopic(models.TextChoices):
    SHARE_INFORMATION = "share_information", "Sharing information between partners"
    MDT_DISCUSSION = "mdt_discussion", "Discussion at the MDT"


class ConsentDecision(models.TextChoices):
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    BEST_INTERESTS = "best_interests", "Best-interests decision"


@audited
class Consent(AppendOnlyModel, BaseModel):
    """One consent decision; the latest per topic is the one in force."""

    Topic = ConsentTopic
    Decision = ConsentDecision

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    topic = models.CharField(max_length=30, choices=ConsentTopic.choices)
    decision = models.CharField(max_length=20, choices=ConsentDecision.choices)
    decided_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Who made a best-interests decision and why, in a sentence.
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-decided_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(topic__in=ConsentTopic.values), name="patients_consent_topic_valid"
            ),
            models.CheckConstraint(
                condition=Q(decision__in=ConsentDecision.values),
                name="patients_consent_decision_valid",
            ),
        ]
        indexes = [
            # The consent in force: WHERE patient_id = … ORDER BY decided_on DESC.
            models.Index(fields=["patient", "-decided_on"], name="patients_consent_latest"),
        ]

    def __str__(self):
        return f"{self.topic}: {self.decision}"


class RiskScore(AppendOnlyModel):
    """One risk-stratification result for a patient (history; the latest is
    copied onto the patient)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="risk_scores")
    score = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    frailty_category = models.CharField(max_length=10, choices=FrailtyCategory.choices, blank=True)
    scored_on = models.DateField()
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-scored_on", "-imported_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="patients_riskscore_range"
            ),
        ]
        indexes = [
            # A patient's score history: WHERE patient_id = … ORDER BY scored_on DESC.
            models.Index(fields=["patient", "-scored_on"], name="patients_riskscore_patient"),
        ]

    def __str__(self):
        return f"{self.score} on {self.scored_on}"


class RegisterEntryQuerySet(NetworkScopedQuerySet):
    def open(self):
        return self.filter(status__in=RegisterEntry.OPEN_STATUSES)


class EntryStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    ACCEPTED = "accepted", "Accepted"
    ACTIVE = "active", "Active"
    STEPPED_DOWN = "stepped_down", "Stepped down"
    DISCHARGED = "discharged", "Discharged"
    DECLINED = "declined", "Declined"
    DIED = "died", "Died"


class ReferralSource(models.TextChoices):
    """Who referred: every source carries equal weight."""

    GP_PRACTICE = "gp_practice", "GP practice"
    COMMUNITY_NURSING = "community_nursing", "Community nursing or matron"
    SOCIAL_CARE = "social_care", "Adult social care"
    MENTAL_HEALTH = "mental_health", "Mental health"
    HOSPITAL_DISCHARGE = "hospital_discharge", "Hospital discharge team"
    VOLUNTARY_SECTOR = "voluntary_sector", "Voluntary sector"
    RISK_STRATIFICATION = "risk_stratification", "Identified by risk stratification"
    SELF_OR_FAMILY = "self_or_family", "The person or their family"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"


class PrimaryNeed(models.TextChoices):
    PHYSICAL_HEALTH = "physical_health", "Physical health"
    MENTAL_HEALTH = "mental_health", "Mental health"
    FRAILTY = "frailty", "Frailty"
    SOCIAL_CARE = "social_care", "Social care"
    END_OF_LIFE = "end_of_life", "End of life"
    OTHER = "other", "Other"


@audited
class RegisterEntry(BaseModel):
    """A case-management episode: from referral onto the register until the
    person is stepped down, discharged, declined or dies."""

    network_path = "patient__practice__network"
    Status = EntryStatus
    Source = ReferralSource
    Urgency = Urgency
    PrimaryNeed = PrimaryNeed
    OPEN_STATUSES = (EntryStatus.REFERRED, EntryStatus.ACCEPTED, EntryStatus.ACTIVE)

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="entries")
    status = models.CharField(
        max_length=20, choices=EntryStatus.choices, default=EntryStatus.REFERRED
    )
    # The referral.
    source = models.CharField(max_length=30, choices=ReferralSource.choices)
    referrer_name = models.CharField(max_length=200, help_text="Who referred, and their role")
    referring_organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    reason = models.TextField(max_length=2000)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    referred_on = models.DateField()
    # A double-submitted referral form carries the same key: one referral.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # Triage and case management.
    decided_on = models.DateField(null=True, blank=True)
    tier = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(3)]
    )
    primary_need = models.CharField(max_length=20, choices=PrimaryNeed.choices, blank=True)
    clinical_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_entries",
    )
    navigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="navigated_entries",
    )
    closed_on = models.DateField(null=True, blank=True)

    objects = RegisterEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-referred_on", "-created_at"]
        verbose_name_plural = "register entries"
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status__in=["referred", "accepted", "active"]),
                name="patients_registerentry_one_open_per_patient",
                violation_error_message="This person already has an open referral or episode.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EntryStatus.values),
                name="patients_registerentry_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=ReferralSource.values),
                name="patients_registerentry_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(tier__isnull=True) | Q(tier__lte=3),
                name="patients_registerentry_tier_range",
            ),
        ]
        indexes = [
            # The triage queue: WHERE status = 'referred' ORDER BY urgency, referred_on.
            models.Index(fields=["status", "urgency", "referred_on"], name="patients_entry_triage"),
            # A patient's episodes: WHERE patient_id = … ORDER BY referred_on DESC.
            models.Index(fields=["patient", "-referred_on"], name="patients_entry_patient"),
        ]

    def __str__(self):
        return f"{self.status} since {self.referred_on}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class EntryStatusChange(AppendOnlyModel):
    """One change of an episode's status: who, when and why. Append-only."""

    entry = models.ForeignKey(
        RegisterEntry, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=EntryStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=EntryStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # An episode's history: WHERE entry_id = … ORDER BY at.
            models.Index(fields=["entry", "at"], name="patients_statuschange_entry"),
        ]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"


class FileImport(BaseModel):
    """An uploaded file: validated whole first, applied only when the user
    confirms, and then only its valid rows. Each kind says what its valid
    rows hold."""

    class Status(models.TextChoices):
        VALIDATED = "validated", "Checked, waiting for confirmation"
        APPLIED = "applied", "Imported"
        DISCARDED = "discarded", "Discarded"

    filename = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALIDATED)
    row_count = models.PositiveIntegerField(default=0)
    # The valid rows, each a list beginning with its line number.
    valid_rows = models.JSONField(default=list)
    # Bad rows as [line, reason]; file-level problems have line 0.
    errors = models.JSONField(default=list)
    # Columns of the file that the import does not use.
    ignored_columns = models.JSONField(default=list)
    applied_at = models.DateTimeField(null=True, blank=True)
    # How many valid rows matched a patient the uploader may see, when applied.
    matched_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["validated", "applied", "discarded"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.filename} ({self.status})"


class RiskImport(FileImport):
    """An uploaded risk-stratification file. Valid rows are
    [line, nhs_number, score, frailty_category, scored_on (ISO)]."""


@audited
class HospitalActivity(BaseModel):
    """One person's hospital use in one calendar month, from the
    commissioning support unit's extract (for the outcome evaluation).
    Re-importing a month replaces that month's counts."""

    network_path = "patient__practice__network"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="hospital_activity")
    # The first day of the month the counts are for.
    month = models.DateField()
    ae_attendances = models.PositiveIntegerField("A&E attendances", default=0)
    non_elective_admissions = models.PositiveIntegerField(default=0)
    elective_admissions = models.PositiveIntegerField(default=0)
    outpatient_attendances = models.PositiveIntegerField(default=0)
    bed_days = models.PositiveIntegerField(default=0)

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["patient", "month"]
        verbose_name_plural = "hospital activity"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "month"], name="patients_hospitalactivity_once_a_month"
            ),
            models.CheckConstraint(
                condition=Q(month__day=1), name="patients_hospitalactivity_month_first_day"
            ),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m}"


class HospitalActivityImport(FileImport):
    """An uploaded file of hospital activity (one row per person per month).
    Valid rows are [line, nhs_number, month (ISO, first day), ae_attendances,
    non_elective_admissions, elective_admissions, outpatient_attendances,
    bed_days]; matched rows are person-months."""


class EmergencyAccessQuerySet(NetworkScopedQuerySet):
    def in_force(self, at=None):
        """Access that has begun and not yet ended."""
        at = at or timezone.now()
        return self.filter(starts_at__lte=at, ends_at__gt=at)


@audited
class EmergencyAccess(BaseModel):
    """A practitioner's time-limited access to the record of a person outside
    their networks ("break glass"), with the reason they gave.

    The gate of the record is the practitioner's own access in force, not a
    network; the records it shows are read only through it (see
    ``patients/emergency.py``). Through the ordinary gate it belongs to the
    person's network, whose admins see it on their home page."""

    network_path = "patient__practice__network"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    reason = models.TextField(max_length=1000)
    starts_at = models.DateTimeField()
    # Set at the start to the end of the allowed time; moved earlier when the
    # practitioner ends it themselves.
    ends_at = models.DateTimeField()
    ended_early = models.BooleanField(default=False)

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name_plural = "emergency access"
        indexes = [
            # A practitioner's access in force to one person.
            models.Index(fields=["user", "patient", "ends_at"], name="patients_emergency_user"),
            # An admin's list: the network's latest first.
            models.Index(fields=["-starts_at"], name="patients_emergency_starts"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")),
                name="patients_emergencyaccess_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"Emergency access from {self.starts_at:%Y-%m-%d %H:%M}"

    def in_force_at(self, at) -> bool:
        return self.starts_at <= at < self.ends_at

    @property
    def is_in_force(self) -> bool:
        return self.in_force_at(timezone.now())
