"""The patient register. The NHS number is a person's identity."""

from django.db import models
from django.db.models import Q

from mdtcare.audit.registry import audited
from mdtcare.core import nhs_number
from mdtcare.core.gate import NetworkScopedQuerySet
from mdtcare.core.models import BaseModel


class PatientQuerySet(NetworkScopedQuerySet):
    pass


@audited
class Patient(BaseModel):
    """A person on the register, seen by the practitioners of their
    registered practice's network."""

    network_path = "practice__network"

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        INDETERMINATE = "indeterminate", "Indeterminate"
        NOT_KNOWN = "not_known", "Not known"

    nhs_number = models.CharField(
        "NHS number", max_length=10, unique=True, validators=[nhs_number.validate]
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=20, choices=Sex.choices)
    postcode = models.CharField(max_length=8)
    practice = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="patients",
        limit_choices_to={"type": "gp_practice"},
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sex__in=["female", "male", "indeterminate", "not_known"]),
                name="patients_patient_sex_valid",
            ),
        ]
        indexes = [
            # The register list and search by name: ORDER BY family_name, given_name.
            models.Index(fields=["family_name", "given_name"], name="patients_patient_name"),
        ]

    def __str__(self):
        return f"{self.family_name.upper()}, {self.given_name}"

    @property
    def nhs_number_display(self) -> str:
        return nhs_number.display(self.nhs_number)
