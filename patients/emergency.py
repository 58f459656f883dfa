"""Emergency access ("break glass"): a practitioner opens the record of a
person outside their networks by giving a written reason.

The rules, in one place:
- only practitioners (a clinical role in some network; not an admin alone);
- a reason of at least ``REASON_MIN_LENGTH`` characters;
- the person is found by their NHS number alone; someone already in the
  practitioner's networks is opened through the ordinary gate instead;
- the access lasts ``EMERGENCY_ACCESS_MINUTES`` (a setting) from the reason,
  and the practitioner can end it sooner;
- the record is read-only and shows what is needed in an emergency: who to
  call, the contingency plan, conditions, carers, consent, the latest
  assessment's scores and the actions still to do;
- every page of it writes an access event marked as emergency access with
  the reason given; the admins of the person's network see each access on
  their home page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from careplans import plan_selectors
from careplans.models import Assessment, CarePlan, CarePlanGoal
from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership, User
from mdtcare.core import nhs_number as nhs
from meetings.models import Action
from patients.models import EmergencyAccess, Patient, PatientCondition, RegisterEntry
from patients.selectors import care_plan_versions, consents_in_force, open_entry

# Everyone who takes part in care; an admin who is nothing else does not.
PRACTITIONER_ROLES = permissions.ALL_ROLES - {Membership.Role.ADMIN}
REASON_MIN_LENGTH = 20
# How far back an admin's home page lists the emergency access to their network.
ADMIN_DAYS = 30


class AlreadyInYourNetworks(Exception):
    """The person is in one of the practitioner's networks: no emergency
    access is needed (nor recorded)."""

    def __init__(self, patient: Patient):
        super().__init__(str(patient.pk))
        self.patient = patient


def may_use_emergency_access(*, user, memberships=None) -> bool:
    """``memberships``: the user's, when the caller has them already."""
    if memberships is not None:
        return any(membership.role in PRACTITIONER_ROLES for membership in memberships)
    return Membership.objects.filter(user_id=user.pk, role__in=PRACTITIONER_ROLES).exists()


def require_practitioner(user: User, memberships=None) -> None:
    if not may_use_emergency_access(user=user, memberships=memberships):
        raise PermissionDenied(
            "Emergency access is for practitioners who care for people; "
            "your role does not include it."
        )


def emergency_access_start(
    *, by: User, nhs_number: str, reason: str, now: dt.datetime | None = None
) -> EmergencyAccess:
    """Open the record of the person with this NHS number for the allowed
    time. The practitioner's access already in force to them is returned
    as it is (a second submit makes no second access)."""
    require_practitioner(by)
    reason = " ".join(reason.split())
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            {
                "reason": f"Give the reason you need this record now, in at least "
                f"{REASON_MIN_LENGTH} characters"
            }
        )
    number = nhs.normalise(nhs_number)
    patient = Patient.objects.select_related("practice").filter(nhs_number=number).first()
    if patient is None:
        raise ValidationError(
            {"nhs_number": "No one with this NHS number is on the register of any network"}
        )
    if Patient.objects.visible_to(by).filter(pk=patient.pk).exists():
        raise AlreadyInYourNetworks(patient)
    now = now or timezone.now()
    with transaction.atomic():
        # One at a time per practitioner and person: a double submit waits
        # here and then finds the first one's access.
        User.objects.select_for_update().filter(pk=by.pk).first()
        in_force = EmergencyAccess.objects.in_force(now).filter(user=by, patient=patient).first()
        if in_force is not None:
            return in_force
        return EmergencyAccess.objects.create(
            user=by,
            patient=patient,
            reason=reason,
            starts_at=now,
            ends_at=now + dt.timedelta(minutes=settings.EMERGENCY_ACCESS_MINUTES),
            created_by=by,
        )


def emergency_access_end(
    *, by: User, access: EmergencyAccess, now: dt.datetime | None = None
) -> None:
    """End the practitioner's own access now (nothing if it has ended)."""
    if access.user_id != by.pk:
        raise PermissionDenied("Only the practitioner who opened it can end this access.")
    now = now or timezone.now()
    ended = (
        EmergencyAccess.objects.in_force(now)
        .filter(pk=access.pk)
        .update(ends_at=now, ended_early=True, updated_at=now)
    )
    if ended:
        access.ends_at, access.ended_early = now, True


# --- reading ---------------------------------------------------------------------------------


def emergency_access_of(*, user, access_id) -> EmergencyAccess:
    """The user's own emergency access (in force or not), with its person;
    anyone else's, or an unknown id, is 404."""
    try:
        return EmergencyAccess.objects.select_related("patient", "patient__practice").get(
            pk=access_id, user_id=user.pk
        )
    except (EmergencyAccess.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


def emergency_accesses_in_force(*, user, now: dt.datetime | None = None):
    """The user's emergency access in force, soonest to end first."""
    return (
        EmergencyAccess.objects.in_force(now)
        .filter(user_id=user.pk)
        .select_related("patient", "patient__practice")
        .order_by("ends_at")
    )


def emergency_accesses_for_admin(*, user, network_id: uuid.UUID, today: dt.date | None = None):
    """The emergency access to people of the network over the last
    ``ADMIN_DAYS`` days, latest first: through the gate, for an admin of
    that network only (anyone else sees none)."""
    today = today or timezone.localdate()
    since = timezone.make_aware(
        dt.datetime.combine(today - dt.timedelta(days=ADMIN_DAYS), dt.time.min)
    )
    if permissions.role_in(user=user, network_id=network_id) != Membership.Role.ADMIN:
        return EmergencyAccess.objects.none()
    return (
        EmergencyAccess.objects.visible_to(user)
        .filter(patient__practice__network_id=network_id, starts_at__gte=since)
        .select_related("user", "patient", "patient__practice")
        .order_by("-starts_at")
    )


@dataclass(frozen=True)
class EmergencyRecord:
    """What the emergency record shows, read through the access alone."""

    access: EmergencyAccess
    patient: Patient
    entry: RegisterEntry | None  # the open episode, else the latest
    plan: CarePlan | None  # the version in force, else the newest
    goals: tuple[CarePlanGoal, ...]
    assessment: Assessment | None  # the latest signed
    actions: tuple[Action, ...]  # still to do, soonest due first
    in_force: dict  # consent topic -> the consent in force


def emergency_record(*, access: EmergencyAccess, now: dt.datetime | None = None) -> EmergencyRecord:
    """The person's record for an access in force, in a fixed number of
    queries. An access that has ended is 404 here (the view says it ended
    before it asks)."""
    if not access.in_force_at(now or timezone.now()):
        raise Http404
    patient = (
        Patient.objects.filter(pk=access.patient_id)
        .select_related("practice", "practice__network")
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=RegisterEntry.objects.select_related(
                    "clinical_lead", "navigator"
                ).order_by("-referred_on", "-created_at"),
            ),
            Prefetch("conditions", queryset=PatientCondition.objects.select_related("condition")),
            "carers",
            "consents",
            care_plan_versions(),
            Prefetch(
                "assessments",
                queryset=Assessment.objects.filter(status=Assessment.Status.COMPLETED)
                .select_related("assessor")
                .prefetch_related("amendments")
                .order_by("-assessed_on", "-created_at"),
            ),
        )
        .get()
    )
    entries = list(patient.entries.all())
    entry = open_entry(patient) or (entries[0] if entries else None)
    versions = [plan for plan in patient.care_plans.all() if entry and plan.entry_id == entry.pk]
    plan = plan_selectors.current_plan(versions) or (versions[0] if versions else None)
    assessments = list(patient.assessments.all())
    actions = (
        Action.objects.filter(
            patient=patient, status__in=(Action.Status.OPEN, Action.Status.IN_PROGRESS)
        )
        .select_related("owner", "owner_organisation")
        .order_by("due_on", "created_at")
    )
    return EmergencyRecord(
        access=access,
        patient=patient,
        entry=entry,
        plan=plan,
        goals=tuple(plan.goals.all()) if plan else (),
        assessment=assessments[0] if assessments else None,
        actions=tuple(actions),
        in_force=consents_in_force(patient),
    )
