"""Practitioners (users), the organisations they work for, and the networks
whose MDTs they belong to, with a role in each."""

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q

from mdtcare.audit.registry import audited
from mdtcare.core.models import BaseModel


@audited
class Network(BaseModel):
    """A group of GP practices that shares one MDT (an integrated care
    network or primary care network)."""

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=40, unique=True, help_text="Short code used in exports")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganisationType(models.TextChoices):
    GP_PRACTICE = "gp_practice", "GP practice"
    COMMUNITY_TRUST = "community_trust", "Community trust"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    MENTAL_HEALTH_TRUST = "mental_health_trust", "Mental health trust"
    ACUTE_TRUST = "acute_trust", "Acute (hospital) trust"
    VOLUNTARY_ORGANISATION = "voluntary_organisation", "Voluntary organisation"


class MembershipRole(models.TextChoices):
    MATRON = "matron", "Community matron"
    GP_CHAIR = "gp_chair", "GP chair"
    NAVIGATOR = "navigator", "Care navigator"
    MEMBER = "member", "MDT member"
    ADMIN = "admin", "Service admin"


@audited
class Organisation(BaseModel):
    # Defined at module level so Meta's constraints can name its values.
    Type = OrganisationType

    name = models.CharField(max_length=200)
    type = models.CharField(max_length=30, choices=Type.choices)
    # ODS code (e.g. a practice's "F84001"); voluntary organisations may have none.
    ods_code = models.CharField(max_length=10, null=True, blank=True, unique=True)
    # Only a GP practice belongs to a network; trusts and councils serve many.
    network = models.ForeignKey(
        Network, null=True, blank=True, on_delete=models.PROTECT, related_name="practices"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=OrganisationType.values),
                name="accounts_organisation_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(network__isnull=True) | Q(type="gp_practice"),
                name="accounts_organisation_only_practices_in_network",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.ods_code})" if self.ods_code else self.name


class Profession(models.TextChoices):
    GP = "gp", "GP"
    COMMUNITY_MATRON = "community_matron", "Community matron"
    DISTRICT_NURSE = "district_nurse", "District nurse"
    PRACTICE_NURSE = "practice_nurse", "Practice nurse"
    CARE_NAVIGATOR = "care_navigator", "Care navigator"
    SOCIAL_WORKER = "social_worker", "Social worker"
    MENTAL_HEALTH_PRACTITIONER = "mental_health_practitioner", "Mental health practitioner"
    PHARMACIST = "pharmacist", "Pharmacist"
    GERIATRICIAN = "geriatrician", "Geriatrician"
    OCCUPATIONAL_THERAPIST = "occupational_therapist", "Occupational therapist"
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
    VOLUNTARY_SECTOR_NAVIGATOR = "voluntary_sector_navigator", "Voluntary sector navigator"
    SERVICE_ADMIN = "service_admin", "Service administrator"


@audited(redact=("password",))
class User(AbstractUser):
    """A practitioner who logs in. Sees patients of their networks only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    profession = models.CharField(max_length=40, choices=Profession.choices)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    # Made by the demo data set; such an account cannot log in outside demo mode.
    is_demo = models.BooleanField(default=False, editable=False)

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(profession__in=Profession.values),
                name="accounts_user_profession_valid",
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username


@audited
class Membership(BaseModel):
    """A practitioner's role in one network's MDT."""

    Role = MembershipRole

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["network__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "network"], name="accounts_membership_one_role_per_network"
            ),
            models.CheckConstraint(
                condition=Q(role__in=MembershipRole.values),
                name="accounts_membership_role_valid",
            ),
        ]
        # The unique constraint's index (user, network) serves the gate's
        # "networks of this user" subquery.

    def __str__(self):
        return f"{self.user_id} in {self.network_id} as {self.role}"
