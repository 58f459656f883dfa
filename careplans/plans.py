"""Writes to integrated care and support plans. Each service is one
transaction that checks who may do it; the change triggers audit every row.

A plan is written with the person (draft), proposed for the MDT, ratified
there by the GP chair, shared with the person, and replaced by a new version
when it changes. Ratified and shared versions are never edited in place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from careplans.models import Assessment, CarePlan, CarePlanGoal, CareTeamMember
from careplans.scoring import effective_answers
from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership, User
from patients.models import Patient, RegisterEntry

GOAL_TARGET_WARN_AFTER = dt.timedelta(days=2 * 365)
_PLAN_FIELDS = (
    "primary_need",
    "self_management",
    "contingency",
    "carer_involvement",
    "review_interval_weeks",
    "starts_on",
    "next_review_on",
)


class StalePlan(ValidationError):
    """Someone else saved the plan since this page was opened."""

    def __init__(self, plan: CarePlan, changed: list[str] | None = None):
        # What the other person changed cannot be known from here (only what
        # is saved now); the pages show the user's own unsaved values beside it.
        self.plan = plan
        self.changed = changed or []
        when = timezone.localtime(plan.updated_at).strftime("%H:%M")
        super().__init__(
            f"Someone else saved this plan at {when} while you were editing it. Your "
            "changes have not been saved: check the plan as it is now, then make yours "
            "again.",
            code="stale",
        )


@dataclass(frozen=True)
class Saved:
    plan: CarePlan
    warnings: tuple[str, ...] = ()


def review_date(starts_on: dt.date, weeks: int) -> dt.date:
    """The next review date a review interval gives."""
    return starts_on + dt.timedelta(weeks=weeks)


def _require_editor(*, user: User, plan_or_entry) -> None:
    """Matrons, GP chairs and the episode's clinical lead write plans."""
    entry = plan_or_entry if isinstance(plan_or_entry, RegisterEntry) else plan_or_entry.entry
    network_id = entry.patient.practice.network_id
    role = permissions.role_in(user=user, network_id=network_id)
    if role is None:
        raise PermissionDenied("You are not a member of this person's network.")
    if role in (Membership.Role.MATRON, Membership.Role.GP_CHAIR):
        return
    if entry.clinical_lead_id == user.pk:
        return
    raise PermissionDenied(
        "Care plans are written by community matrons, GP chairs and the clinical lead."
    )


def _require_editable(plan: CarePlan) -> None:
    if not plan.is_editable:
        raise ValidationError(
            f"This version is “{plan.get_status_display()}” and cannot be changed: "
            "make a new version.",
            code="not_editable",
        )


@transaction.atomic
def plan_create(
    *, by: User, patient: Patient, from_assessment: Assessment | None = None
) -> CarePlan:
    """Start the first plan of the person's open episode as a draft.

    Pre-filled from the episode (primary need, clinical lead, navigator) and
    from the latest signed assessment, whose "what matters to me"
    statements become the goals to discuss. Refused, with the reason, when
    there is no open episode or the episode already has a plan."""
    entry = RegisterEntry.objects.filter(patient=patient).open().first()
    if entry is None:
        raise ValidationError(
            "This person has no open episode on the register: refer them, and accept the "
            "referral, before writing a care plan.",
            code="no_episode",
        )
    _require_editor(user=by, plan_or_entry=entry)
    if CarePlan.objects.filter(entry=entry).exists():
        raise ValidationError(
            "This episode has a care plan already: change it, or make a new version.",
            code="exists",
        )
    if from_assessment is None:
        from_assessment = (
            Assessment.objects.filter(patient=patient, status=Assessment.Status.COMPLETED)
            .prefetch_related("amendments")
            .order_by("-assessed_on", "-signed_at")
            .first()
        )
    elif from_assessment.patient_id != patient.pk or not from_assessment.is_signed:
        raise ValidationError("Choose a signed assessment of this person.")
    today = timezone.localdate()
    plan = CarePlan.objects.create(
        patient=patient,
        entry=entry,
        from_assessment=from_assessment,
        primary_need=entry.primary_need,
        clinical_lead=entry.clinical_lead,
        navigator=entry.navigator,
        starts_on=today,
        next_review_on=review_date(today, CarePlan.Interval.SIX_WEEKS),
        created_by=by,
    )
    statements = []
    if from_assessment is not None:
        statements = (
            effective_answers(from_assessment).get("what_matters", {}).get("i_statements", [])
        )
    CarePlanGoal.objects.bulk_create(
        CarePlanGoal(plan=plan, position=index, what_matters=text[:500], created_by=by)
        for index, text in enumerate(statements)
    )
    CareTeamMember.objects.bulk_create(
        CareTeamMember(plan=plan, practitioner=user, role_in_plan=role, created_by=by)
        for user, role in (
            (entry.clinical_lead, "Clinical lead"),
            (entry.navigator, "Care navigator"),
        )
        if user is not None
    )
    return plan


def _bump(plan: CarePlan, expected_revision: int, changed: list[str]) -> None:
    """Claim the next revision, or refuse a save based on an older one."""
    updated = CarePlan.objects.filter(pk=plan.pk, revision=expected_revision).update(
        revision=F("revision") + 1, updated_at=timezone.now()
    )
    if updated != 1:
        plan.refresh_from_db()
        raise StalePlan(plan, changed)
    plan.revision = expected_revision + 1


@transaction.atomic
def plan_update(*, by: User, plan: CarePlan, expected_revision: int, **fields) -> Saved:
    """Change a draft or proposed plan's contents (not its goals or team)."""
    _require_editor(user=by, plan_or_entry=plan)
    _require_editable(plan)
    current = CarePlan.objects.select_for_update().get(pk=plan.pk)
    changes = {key: value for key, value in fields.items() if key in _PLAN_FIELDS}
    lead = fields.get("clinical_lead", current.clinical_lead)
    navigator = fields.get("navigator", current.navigator)
    if current.revision != expected_revision:
        theirs = [
            CarePlan._meta.get_field(key).verbose_name
            for key, value in changes.items()
            if getattr(current, key) != value
        ]
        raise StalePlan(current, [str(name) for name in theirs])
    starts_on = changes.get("starts_on", current.starts_on)
    if "review_interval_weeks" in changes and "next_review_on" not in changes:
        changes["next_review_on"] = review_date(starts_on, changes["review_interval_weeks"])
    next_review_on = changes.get("next_review_on", current.next_review_on)
    if next_review_on < starts_on:
        raise ValidationError(
            {"next_review_on": ["The review date must be on or after the plan's start"]}
        )
    network_id = current.entry.patient.practice.network_id
    members = set(
        Membership.objects.filter(
            network_id=network_id, user_id__in=[u.pk for u in (lead, navigator) if u]
        ).values_list("user_id", flat=True)
    )
    if any(u is not None and u.pk not in members for u in (lead, navigator)):
        raise ValidationError("The clinical lead and navigator must be members of this network.")
    _bump(current, expected_revision, [])
    for key, value in changes.items():
        setattr(current, key, value)
    current.clinical_lead, current.navigator = lead, navigator
    current.save()
    return Saved(current)


def _goal_warnings(target_on: dt.date | None) -> tuple[str, ...]:
    if target_on and target_on > timezone.localdate() + GOAL_TARGET_WARN_AFTER:
        return (f"The target date {target_on:%d/%m/%Y} is more than two years away: check it.",)
    return ()


@transaction.atomic
def goal_save(
    *,
    by: User,
    plan: CarePlan,
    expected_revision: int,
    goal: CarePlanGoal | None = None,
    what_matters: str,
    support_agreed: str = "",
    provider: User | None = None,
    provider_organisation=None,
    provider_name: str = "",
    target_on: dt.date | None = None,
    progress: str = CarePlanGoal.Progress.NOT_STARTED,
) -> tuple[CarePlanGoal, tuple[str, ...]]:
    """Add a goal to a draft or proposed plan, or change one. A goal needs
    the person's words; a target more than two years away is kept, with a
    warning."""
    _require_editor(user=by, plan_or_entry=plan)
    _require_editable(plan)
    if not what_matters.strip():
        raise ValidationError({"what_matters": ["Enter the goal in the person's own words"]})
    if goal is not None and goal.plan_id != plan.pk:
        raise ValidationError("That goal belongs to another plan.")
    _bump(plan, expected_revision, ["the goals"])
    goal = goal or CarePlanGoal(plan=plan, position=plan.goals.count(), created_by=by)
    goal.what_matters = what_matters.strip()[:500]
    goal.support_agreed = support_agreed.strip()
    goal.provider = provider
    goal.provider_organisation = provider_organisation
    goal.provider_name = provider_name.strip()[:200]
    goal.target_on = target_on
    goal.progress = progress
    goal.full_clean(exclude=["plan"])
    goal.save()
    return goal, _goal_warnings(target_on)


@transaction.atomic
def goal_remove(*, by: User, plan: CarePlan, goal: CarePlanGoal, expected_revision: int) -> None:
    _require_editor(user=by, plan_or_entry=plan)
    _require_editable(plan)
    if goal.plan_id != plan.pk:
        raise ValidationError("That goal belongs to another plan.")
    _bump(plan, expected_revision, ["the goals"])
    goal.delete()


@transaction.atomic
def team_member_add(
    *,
    by: User,
    plan: CarePlan,
    expected_revision: int,
    role_in_plan: str,
    practitioner: User | None = None,
    organisation=None,
    name: str = "",
) -> CareTeamMember:
    _require_editor(user=by, plan_or_entry=plan)
    _require_editable(plan)
    if not role_in_plan.strip():
        raise ValidationError({"role_in_plan": ["Enter their role in this plan"]})
    if practitioner is None and organisation is None and not name.strip():
        raise ValidationError("Choose a practitioner or an organisation, or enter a name.")
    _bump(plan, expected_revision, ["the care team"])
    return CareTeamMember.objects.create(
        plan=plan,
        practitioner=practitioner,
        organisation=organisation,
        name=name.strip()[:200],
        role_in_plan=role_in_plan.strip()[:200],
        created_by=by,
    )


@transaction.atomic
def team_member_remove(
    *, by: User, plan: CarePlan, member: CareTeamMember, expected_revision: int
) -> None:
    _require_editor(user=by, plan_or_entry=plan)
    _require_editable(plan)
    if member.plan_id != plan.pk:
        raise ValidationError("That member belongs to another plan.")
    _bump(plan, expected_revision, ["the care team"])
    member.delete()


@transaction.atomic
def plan_propose(*, by: User, plan: CarePlan) -> CarePlan:
    """Put a draft forward for ratification at the MDT."""
    _require_editor(user=by, plan_or_entry=plan)
    current = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if current.status == CarePlan.Status.PROPOSED:
        return current
    if current.status != CarePlan.Status.DRAFT:
        raise ValidationError("Only a draft can be proposed for the MDT.")
    if not current.goals.exists():
        raise ValidationError("Add at least one goal before proposing the plan.")
    current.status = CarePlan.Status.PROPOSED
    current.proposed_by, current.proposed_at = by, timezone.now()
    current.revision += 1
    current.save()
    return current


@transaction.atomic
def plan_ratify(
    *,
    by: User,
    plan: CarePlan,
    note: str = "",
    expected_revision: int | None = None,
    acting_reason: str = "",
) -> CarePlan:
    """Ratify a proposed plan: GP chairs only, normally at the MDT, or an
    admin acting as chair who gives the reason (kept in the note). The
    version it replaces is superseded. A second click changes nothing; a
    plan changed since the chair read it (``expected_revision``) is refused."""
    current = CarePlan.objects.select_for_update().get(pk=plan.pk)
    network_id = current.patient.practice.network_id
    acting = (
        acting_reason.strip()
        and permissions.role_in(user=by, network_id=network_id) == Membership.Role.ADMIN
    )
    if acting:
        note = f"{note.strip()} (ratified by an admin acting as chair: {acting_reason.strip()})"
    else:
        permissions.require_role(
            user=by,
            network_id=network_id,
            roles=frozenset({Membership.Role.GP_CHAIR}),
            action="ratify care plans (GP chairs ratify them at the MDT)",
        )
    if current.status in (CarePlan.Status.RATIFIED, CarePlan.Status.SHARED):
        return current
    if expected_revision is not None and current.revision != expected_revision:
        raise StalePlan(current)
    if current.status not in (CarePlan.Status.PROPOSED, CarePlan.Status.DRAFT):
        raise ValidationError(f"A {current.get_status_display().lower()} plan cannot be ratified.")
    CarePlan.objects.filter(
        entry=current.entry, status__in=[CarePlan.Status.RATIFIED, CarePlan.Status.SHARED]
    ).exclude(pk=current.pk).update(status=CarePlan.Status.SUPERSEDED)
    current.status = CarePlan.Status.RATIFIED
    current.ratified_by, current.ratified_at = by, timezone.now()
    current.ratification_note = note.strip()[:500]
    current.revision += 1
    current.save()
    return current


@transaction.atomic
def plan_share(*, by: User, plan: CarePlan, shared_on: dt.date, how: str) -> CarePlan:
    """Record that the ratified plan was shared with the person: when, how, by whom."""
    permissions.require_role(
        user=by,
        network_id=plan.patient.practice.network_id,
        roles=permissions.ALL_ROLES,
        action="record sharing",
    )
    current = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if current.status != CarePlan.Status.RATIFIED:
        raise ValidationError("Only a ratified plan is shared with the person.")
    if shared_on > timezone.localdate():
        raise ValidationError({"shared_on": ["The date it was shared cannot be in the future"]})
    if how not in CarePlan.Sharing.values:
        raise ValidationError({"shared_how": ["Choose how it was shared"]})
    current.status = CarePlan.Status.SHARED
    current.shared_by, current.shared_on, current.shared_how = by, shared_on, how
    current.revision += 1
    current.save()
    return current


@transaction.atomic
def plan_new_version(*, by: User, plan: CarePlan) -> CarePlan:
    """Copy a ratified or shared plan forward as a new draft version, goals
    and care team included. The old version stays in force until the new
    one is ratified."""
    _require_editor(user=by, plan_or_entry=plan)
    current = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if current.status not in (CarePlan.Status.RATIFIED, CarePlan.Status.SHARED):
        raise ValidationError("A new version is made from the ratified or shared plan.")
    existing = CarePlan.objects.filter(entry=current.entry, number__gt=current.number).first()
    if existing is not None:
        return existing  # a double click, or a draft someone has started
    copy = CarePlan.objects.create(
        patient=current.patient,
        entry=current.entry,
        number=current.number + 1,
        previous=current,
        from_assessment=current.from_assessment,
        primary_need=current.primary_need,
        clinical_lead=current.clinical_lead,
        navigator=current.navigator,
        self_management=current.self_management,
        contingency=current.contingency,
        carer_involvement=current.carer_involvement,
        review_interval_weeks=current.review_interval_weeks,
        starts_on=timezone.localdate(),
        next_review_on=max(current.next_review_on, timezone.localdate()),
        created_by=by,
    )
    CarePlanGoal.objects.bulk_create(
        CarePlanGoal(
            plan=copy,
            position=goal.position,
            what_matters=goal.what_matters,
            support_agreed=goal.support_agreed,
            provider_id=goal.provider_id,
            provider_organisation_id=goal.provider_organisation_id,
            provider_name=goal.provider_name,
            target_on=goal.target_on,
            progress=goal.progress,
            created_by=by,
        )
        for goal in current.goals.all()
    )
    CareTeamMember.objects.bulk_create(
        CareTeamMember(
            plan=copy,
            practitioner_id=member.practitioner_id,
            organisation_id=member.organisation_id,
            name=member.name,
            role_in_plan=member.role_in_plan,
            created_by=by,
        )
        for member in current.care_team.all()
    )
    return copy
