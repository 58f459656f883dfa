"""Writes to the register. Each service is one transaction, checks who may
do it, and is audited by the change triggers; views, the API, admin and
tasks all call these."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership, Organisation, User
from mdtcare.core import nhs_number as nhs
from mdtcare.notifications.models import Notification
from mdtcare.notifications.services import notifications_raise
from meetings.models import Action
from patients.models import (
    Carer,
    Consent,
    EntryStatus,
    EntryStatusChange,
    LongTermCondition,
    Patient,
    PatientCondition,
    RegisterEntry,
)

# UK postcode shape (outward code, space optional, inward code). A postcode
# that does not match is kept but flagged for checking, never refused.
_UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
MAX_AGE_YEARS = 120


class DuplicatePatient(ValidationError):
    """The NHS number is already on the register."""

    def __init__(self, existing: Patient):
        self.existing = existing
        super().__init__(
            {"nhs_number": ["This NHS number is already on the register."]}, code="duplicate"
        )


@dataclass(frozen=True)
class Saved:
    """What a write made, with anything the user should check."""

    patient: Patient
    warnings: tuple[str, ...] = ()


def postcode_normalise(value: str) -> str:
    value = " ".join((value or "").upper().split())
    compact = value.replace(" ", "")
    if _UK_POSTCODE.match(compact) and len(compact) >= 5:
        return f"{compact[:-3]} {compact[-3:]}"
    return value


def postcode_warning(postcode: str) -> str | None:
    if _UK_POSTCODE.match(postcode.replace(" ", "")):
        return None
    return f"The postcode “{postcode}” does not look like a UK postcode: check it."


def validate_date_of_birth(value: dt.date, *, today: dt.date | None = None) -> None:
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError("Date of birth must be today or in the past", code="future")
    if value < today.replace(year=today.year - MAX_AGE_YEARS):
        raise ValidationError(
            f"Date of birth must be within the last {MAX_AGE_YEARS} years", code="too_old"
        )


_PATIENT_FIELDS = (
    "title",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "address",
    "postcode",
    "phone",
    "preferred_language",
    "interpreter_needed",
    "accessibility_needs",
    "date_of_death",
)


def _clean_patient(patient: Patient) -> tuple[str, ...]:
    patient.given_name = patient.given_name.strip()
    patient.family_name = patient.family_name.strip()
    patient.postcode = postcode_normalise(patient.postcode)
    errors = {}
    for field in ("given_name", "family_name"):
        if not getattr(patient, field):
            errors[field] = ["Enter the person's " + field.replace("_", " ")]
    try:
        validate_date_of_birth(patient.date_of_birth)
    except ValidationError as exc:
        errors["date_of_birth"] = exc.messages
    if patient.date_of_death and patient.date_of_death < patient.date_of_birth:
        errors["date_of_death"] = ["Date of death must be after the date of birth"]
    if errors:
        raise ValidationError(errors)
    patient.full_clean(exclude=["nhs_number", "practice"], validate_unique=False)
    warning = postcode_warning(patient.postcode)
    return (warning,) if warning else ()


@transaction.atomic
def patient_create(*, by: User, practice: Organisation, nhs_number: str, **fields) -> Saved:
    """Put a person on the register.

    Refuses an invalid NHS number, one already on the register
    (``DuplicatePatient`` carries the existing record), and a practice outside
    the user's networks. A postcode that is not UK-shaped is kept, with a
    warning."""
    number = nhs.validate(nhs_number)
    if practice.type != Organisation.Type.GP_PRACTICE or practice.network_id is None:
        raise ValidationError({"practice": ["Choose a GP practice of one of your networks"]})
    permissions.require_role(
        user=by,
        network_id=practice.network_id,
        roles=permissions.ALL_ROLES,
        action="add people to this network's register",
    )
    existing = Patient.objects.filter(nhs_number=number).first()
    if existing is not None:
        raise DuplicatePatient(existing)
    patient = Patient(
        nhs_number=number,
        practice=practice,
        created_by=by,
        **{key: value for key, value in fields.items() if key in _PATIENT_FIELDS},
    )
    warnings = _clean_patient(patient)
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:  # the same number saved a moment ago
        raise DuplicatePatient(Patient.objects.get(nhs_number=number)) from exc
    return Saved(patient, warnings)


@transaction.atomic
def patient_update(*, by: User, patient: Patient, practice: Organisation | None = None, **fields):
    """Change a person's details (not their NHS number: that is their identity)."""
    permissions.require_role(
        user=by,
        network_id=patient.practice.network_id,
        roles=permissions.ALL_ROLES,
        action="change this person's details",
    )
    if practice is not None and practice.pk != patient.practice_id:
        if practice.type != Organisation.Type.GP_PRACTICE or practice.network_id is None:
            raise ValidationError({"practice": ["Choose a GP practice"]})
        permissions.require_role(
            user=by,
            network_id=practice.network_id,
            roles=permissions.ALL_ROLES,
            action="move people into that network",
        )
        patient.practice = practice
        moved = True
    else:
        moved = False
    for key, value in fields.items():
        if key in _PATIENT_FIELDS:
            setattr(patient, key, value)
    warnings = _clean_patient(patient)
    patient.save()
    if moved:
        # Their actions go with them (the network each action keeps).
        Action.objects.filter(patient=patient).network_follow()
    return Saved(patient, warnings)


@transaction.atomic
def carer_add(*, by: User, patient: Patient, **fields) -> Carer:
    permissions.require_role(
        user=by,
        network_id=patient.practice.network_id,
        roles=permissions.ALL_ROLES,
        action="record carers",
    )
    carer = Carer(patient=patient, created_by=by, **fields)
    carer.full_clean()
    carer.save()
    return carer


@transaction.atomic
def carer_remove(*, by: User, carer: Carer) -> None:
    permissions.require_role(
        user=by,
        network_id=carer.patient.practice.network_id,
        roles=permissions.ALL_ROLES,
        action="remove carers",
    )
    carer.delete()


@transaction.atomic
def conditions_set(*, by: User, patient: Patient, keys: list[str]) -> None:
    """Make the person's long-term conditions exactly ``keys``."""
    permissions.require_role(
        user=by,
        network_id=patient.practice.network_id,
        roles=permissions.ALL_ROLES,
        action="record conditions",
    )
    wanted = set(keys)
    unknown = wanted - set(
        LongTermCondition.objects.filter(key__in=wanted).values_list("key", flat=True)
    )
    if unknown:
        raise ValidationError({"conditions": ["Choose conditions from the list"]})
    current = set(patient.conditions.values_list("condition_id", flat=True))
    PatientCondition.objects.filter(patient=patient, condition_id__in=current - wanted).delete()
    PatientCondition.objects.bulk_create(
        PatientCondition(patient=patient, condition_id=key, created_by=by)
        for key in sorted(wanted - current)
    )


@transaction.atomic
def consent_record(
    *, by: User, patient: Patient, topic: str, decision: str, decided_on: dt.date, note: str = ""
) -> Consent:
    """Record a consent decision; earlier ones stay as history."""
    permissions.require_role(
        user=by,
        network_id=patient.practice.network_id,
        roles=permissions.ALL_ROLES,
        action="record consent",
    )
    if decided_on > timezone.localdate():
        raise ValidationError({"decided_on": ["The date of the decision cannot be in the future"]})
    if decision == Consent.Decision.BEST_INTERESTS and not note.strip():
        raise ValidationError(
            {"note": ["Say who made the best-interests decision and why"]}, code="required"
        )
    consent = Consent(
        patient=patient,
        topic=topic,
        decision=decision,
        decided_on=decided_on,
        note=note.strip(),
        recorded_by=by,
        created_by=by,
    )
    consent.full_clean()
    consent.save()
    return consent


def long_term_conditions_load() -> int:
    """Make the curated long-term conditions match the shipped data file
    (patients/data/long_term_conditions.csv). Idempotent; returns how many
    rows the file has."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parent / "data" / "long_term_conditions.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        LongTermCondition.objects.update_or_create(
            key=row["key"],
            defaults={
                "name": row["name"],
                "snomed_ct_id": row["snomed_ct_id"],
                "snomed_term": row["snomed_fsn_or_term"],
            },
        )
    return len(rows)


# --- the episode ---------------------------------------------------------------

# Where each status may go next, and who may move it there.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    EntryStatus.REFERRED: {
        EntryStatus.ACCEPTED: permissions.TRIAGE_ROLES,
        EntryStatus.DECLINED: permissions.TRIAGE_ROLES,
        EntryStatus.DIED: permissions.ALL_ROLES,
    },
    EntryStatus.ACCEPTED: {
        EntryStatus.ACTIVE: permissions.REGISTER_KEEPERS,
        EntryStatus.DISCHARGED: permissions.REGISTER_KEEPERS,
        EntryStatus.DIED: permissions.ALL_ROLES,
    },
    EntryStatus.ACTIVE: {
        EntryStatus.STEPPED_DOWN: permissions.REGISTER_KEEPERS,
        EntryStatus.DISCHARGED: permissions.REGISTER_KEEPERS,
        EntryStatus.DIED: permissions.ALL_ROLES,
    },
}
REASON_REQUIRED = {EntryStatus.DECLINED, EntryStatus.STEPPED_DOWN, EntryStatus.DISCHARGED}


class StaleStatus(ValidationError):
    """The episode moved on since the page was shown."""


@transaction.atomic
def referral_create(
    *,
    by: User,
    patient: Patient,
    source: str,
    referrer_name: str,
    reason: str,
    referred_on: dt.date,
    urgency: str = RegisterEntry.Urgency.ROUTINE,
    referring_organisation: Organisation | None = None,
    submission_key: uuid.UUID | None = None,
) -> RegisterEntry:
    """Refer a person onto the register (any MDT member may refer).

    A form submitted twice with the same ``submission_key`` makes one
    referral. A person with an open referral or episode cannot be referred
    again until it closes."""
    if submission_key is not None:
        earlier = RegisterEntry.objects.filter(submission_key=submission_key).first()
        if earlier is not None:
            return earlier
    permissions.require_role(
        user=by,
        network_id=patient.practice.network_id,
        roles=permissions.ALL_ROLES,
        action="refer people in this network",
    )
    if referred_on > timezone.localdate():
        raise ValidationError({"referred_on": ["The referral date cannot be in the future"]})
    if not reason.strip():
        raise ValidationError({"reason": ["Enter the reason for the referral"]})
    if patient.date_of_death:
        raise ValidationError("This person has died: they cannot be referred.")
    if RegisterEntry.objects.filter(patient=patient).open().exists():
        raise ValidationError(
            "This person already has an open referral or episode on the register.",
            code="open_episode",
        )
    entry = RegisterEntry(
        patient=patient,
        source=source,
        referrer_name=referrer_name.strip(),
        referring_organisation=referring_organisation,
        reason=reason.strip(),
        urgency=urgency,
        referred_on=referred_on,
        submission_key=submission_key,
        created_by=by,
    )
    entry.full_clean(exclude=["patient", "referring_organisation", "submission_key"])
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:
        if submission_key is not None:
            earlier = RegisterEntry.objects.filter(submission_key=submission_key).first()
            if earlier is not None:
                return earlier
        raise ValidationError(
            "This person already has an open referral or episode on the register.",
            code="open_episode",
        ) from exc
    EntryStatusChange.objects.create(
        entry=entry, from_status="", to_status=EntryStatus.REFERRED, by=by, reason="Referred"
    )
    # The network's navigators hear of it (delivered from the outbox).
    notifications_raise(
        kind=Notification.Kind.REFERRAL_RECEIVED,
        event_id=f"referral:{entry.pk}",
        recipients=User.objects.filter(
            is_active=True,
            memberships__network_id=patient.practice.network_id,
            memberships__role=Membership.Role.NAVIGATOR,
        ).exclude(pk=by.pk),
        patient_id=patient.pk,
        link=reverse("patients:triage"),
    )
    return entry


def _members_of(network_id, *users: User | None) -> None:
    ids = {user.pk for user in users if user is not None}
    found = set(
        Membership.objects.filter(network_id=network_id, user_id__in=ids).values_list(
            "user_id", flat=True
        )
    )
    if ids - found:
        raise ValidationError("The clinical lead and navigator must be members of this network.")


def _transition(*, by: User, entry: RegisterEntry, to_status: str, expected: str, reason: str):
    """Move the episode on, if the move is allowed for the user's role and the
    episode is still in the status the user saw."""
    current = RegisterEntry.objects.select_for_update().get(pk=entry.pk)
    if current.status != expected:
        raise StaleStatus(
            f"This episode is now “{current.get_status_display()}”: someone changed it "
            "while you were looking. Check it and try again.",
            code="stale",
        )
    allowed = TRANSITIONS.get(current.status, {})
    if to_status not in allowed:
        raise ValidationError(
            f"An episode that is “{current.get_status_display()}” cannot become "
            f"“{EntryStatus(to_status).label}”.",
            code="transition",
        )
    network_id = entry.patient.practice.network_id
    permissions.require_role(
        user=by,
        network_id=network_id,
        roles=allowed[to_status],
        action=f"mark episodes as {EntryStatus(to_status).label.lower()}",
    )
    reason = reason.strip()
    if to_status in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": ["Enter the reason"]})
    EntryStatusChange.objects.create(
        entry=current, from_status=current.status, to_status=to_status, by=by, reason=reason[:500]
    )
    current.status = to_status
    return current, network_id


@transaction.atomic
def referral_accept(
    *,
    by: User,
    entry: RegisterEntry,
    clinical_lead: User | None,
    navigator: User | None,
    tier: int | None = None,
    primary_need: str = "",
    reason: str = "",
    expected: str = "",
) -> RegisterEntry:
    """Accept a referral onto the caseload and allocate its clinical lead and
    navigator (navigators and admins). ``expected`` is the status the user saw."""
    current, network_id = _transition(
        by=by,
        entry=entry,
        to_status=EntryStatus.ACCEPTED,
        expected=expected or entry.status,
        reason=reason,
    )
    _members_of(network_id, clinical_lead, navigator)
    current.clinical_lead = clinical_lead
    current.navigator = navigator
    current.tier = tier
    current.primary_need = primary_need
    current.decided_on = timezone.localdate()
    current.full_clean(exclude=["patient", "referring_organisation", "submission_key"])
    current.save()
    return current


@transaction.atomic
def referral_decline(
    *, by: User, entry: RegisterEntry, reason: str, expected: str = ""
) -> RegisterEntry:
    """Decline a referral, with the reason (navigators and admins)."""
    current, _ = _transition(
        by=by,
        entry=entry,
        to_status=EntryStatus.DECLINED,
        expected=expected or entry.status,
        reason=reason,
    )
    current.decided_on = timezone.localdate()
    current.closed_on = current.decided_on
    _plans_close(current)
    current.save()
    return current


@transaction.atomic
def entry_status_change(
    *, by: User, entry: RegisterEntry, to_status: str, reason: str = "", expected: str = ""
) -> RegisterEntry:
    """Activate, step down, discharge or record a death. ``expected`` is the
    status the user saw (defaults to the entry's)."""
    if to_status in (EntryStatus.ACCEPTED, EntryStatus.DECLINED):
        raise ValidationError("Accept or decline a referral from the triage queue.")
    current, _ = _transition(
        by=by, entry=entry, to_status=to_status, expected=expected or entry.status, reason=reason
    )
    if to_status not in RegisterEntry.OPEN_STATUSES:
        current.closed_on = timezone.localdate()
        _plans_close(current)
    current.save()
    return current


def _plans_close(entry: RegisterEntry) -> None:
    """The episode has ended: its care plans close with it (none is reviewed
    any more)."""
    from careplans.models import CarePlan  # careplans builds on the register

    CarePlan.objects.filter(entry=entry).exclude(
        status__in=[CarePlan.Status.SUPERSEDED, CarePlan.Status.CLOSED]
    ).update(status=CarePlan.Status.CLOSED)


@transaction.atomic
def entry_allocate(
    *,
    by: User,
    entry: RegisterEntry,
    clinical_lead: User | None,
    navigator: User | None,
    tier: int | None,
    primary_need: str,
) -> RegisterEntry:
    """Change the clinical lead, navigator, tier or primary need of an open episode."""
    network_id = entry.patient.practice.network_id
    permissions.require_role(
        user=by,
        network_id=network_id,
        roles=permissions.REGISTER_KEEPERS,
        action="change the allocation",
    )
    if not entry.is_open:
        raise ValidationError("This episode is closed.")
    _members_of(network_id, clinical_lead, navigator)
    entry.clinical_lead = clinical_lead
    entry.navigator = navigator
    entry.tier = tier
    entry.primary_need = primary_need
    entry.full_clean(exclude=["patient", "referring_organisation", "submission_key"])
    entry.save()
    return entry
