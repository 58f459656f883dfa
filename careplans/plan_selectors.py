"""Reading care plans, always through the access gate: the current plan, its
review state (derived, never stored), what needs attention, and what changed
between two versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from careplans.models import CarePlan, CarePlanGoal, CareTeamMember
from mdtcare.core.gate import get_visible_or_404
from patients.models import RegisterEntry

REVIEW_DUE_WITHIN = dt.timedelta(days=14)
# The matron's home page: "reviews due this week", the overdue ones included.
REVIEWS_THIS_WEEK = dt.timedelta(days=7)
SHARE_WITHIN = dt.timedelta(days=14)
IN_FORCE = (CarePlan.Status.RATIFIED, CarePlan.Status.SHARED)


def plan_get_for_user(*, user, plan_id) -> CarePlan:
    """One plan version with its goals and care team; 404 outside the gate."""
    return get_visible_or_404(
        CarePlan.objects.select_related(
            "patient",
            "patient__practice",
            "entry",
            "clinical_lead",
            "navigator",
            "ratified_by",
            "shared_by",
            "proposed_by",
            "previous",
        ).prefetch_related(
            Prefetch(
                "goals",
                queryset=CarePlanGoal.objects.select_related("provider", "provider_organisation"),
            ),
            Prefetch(
                "care_team",
                queryset=CareTeamMember.objects.select_related("practitioner", "organisation"),
            ),
        ),
        user,
        pk=plan_id,
    )


def plan_versions(plan: CarePlan):
    """Every version of the episode's plan, newest first."""
    return CarePlan.objects.filter(entry_id=plan.entry_id).order_by("-number")


def current_plan(plans) -> CarePlan | None:
    """From a patient's plan versions (newest first): the one in force, or
    else the newest draft or proposal."""
    plans = list(plans)
    in_force = next((plan for plan in plans if plan.status in IN_FORCE), None)
    if in_force is not None:
        return in_force
    return next(
        (
            plan
            for plan in plans
            if plan.status in (CarePlan.Status.DRAFT, CarePlan.Status.PROPOSED)
        ),
        None,
    )


def review_state(plan: CarePlan, today: dt.date | None = None) -> str:
    """ "overdue", "due" (within 14 days) or "" — derived from the next review
    date of a plan in force, never stored."""
    if plan is None or plan.status not in IN_FORCE:
        return ""
    today = today or timezone.localdate()
    if plan.next_review_on < today:
        return "overdue"
    if plan.next_review_on <= today + REVIEW_DUE_WITHIN:
        return "due"
    return ""


@dataclass(frozen=True)
class Attention:
    plan: CarePlan
    reasons: tuple[str, ...]


def plans_needing_attention(*, user, today: dt.date | None = None):
    """Plans in force (and proposals) of the user's networks that need someone:
    review overdue, ratified but not shared after 14 days, no clinical lead,
    or a goal past its target date and not achieved. Oldest review first."""
    today = today or timezone.localdate()
    late_goals = CarePlanGoal.objects.filter(plan=OuterRef("pk"), target_on__lt=today).exclude(
        progress__in=[CarePlanGoal.Progress.ACHIEVED, CarePlanGoal.Progress.NO_LONGER_RELEVANT]
    )
    return (
        CarePlan.objects.visible_to(user)
        .filter(status__in=[*IN_FORCE, CarePlan.Status.PROPOSED])
        .annotate(has_late_goal=Exists(late_goals))
        .filter(
            Q(status__in=IN_FORCE, next_review_on__lt=today)
            | Q(status=CarePlan.Status.RATIFIED, ratified_at__date__lt=today - SHARE_WITHIN)
            | Q(clinical_lead__isnull=True)
            | Q(has_late_goal=True)
        )
        .select_related("patient", "patient__practice", "clinical_lead", "navigator")
        .order_by("next_review_on", "pk")
    )


def _newer_version_in_force():
    """A newer version of the plan (``OuterRef``) in force for an open episode."""
    return CarePlan.objects.filter(
        patient=OuterRef("patient"),
        status__in=IN_FORCE,
        entry__status__in=RegisterEntry.OPEN_STATUSES,
        number__gt=OuterRef("number"),
    )


@dataclass(frozen=True)
class PlanCounts:
    """What the navigator's Today page counts of the plans of their
    networks. ``reviews_due`` and ``reviews_overdue``: the people the
    register's review filters list (``patients.selectors.register_rows``
    ``plan_next_review_on``: the plan in force, latest version, of an open
    episode; a plan stays in force when its episode ends, so only an open
    episode's counts). ``not_shared``: plans ratified more than
    ``SHARE_WITHIN`` ago by London's calendar and not shared with the person,
    the "Ratified but not shared" reason of ``plans_needing_attention``."""

    reviews_due: int
    reviews_overdue: int
    not_shared: int


def plan_counts(*, user, today: dt.date | None = None) -> PlanCounts:
    """``PlanCounts`` in one query over the plans in force of the user's
    networks, reading no one's other columns."""
    today = today or timezone.localdate()
    share_by = timezone.make_aware(dt.datetime.combine(today - SHARE_WITHIN, dt.time.min))
    reviewed = Q(entry__status__in=RegisterEntry.OPEN_STATUSES, has_newer=False)
    counts = (
        CarePlan.objects.visible_to(user)
        .filter(status__in=IN_FORCE)
        .annotate(has_newer=Exists(_newer_version_in_force()))
        .aggregate(
            due=Count(
                "patient_id",
                distinct=True,
                filter=reviewed
                & Q(next_review_on__gte=today, next_review_on__lte=today + REVIEW_DUE_WITHIN),
            ),
            overdue=Count(
                "patient_id", distinct=True, filter=reviewed & Q(next_review_on__lt=today)
            ),
            not_shared=Count(
                "pk", filter=Q(status=CarePlan.Status.RATIFIED, ratified_at__lt=share_by)
            ),
        )
    )
    return PlanCounts(counts["due"], counts["overdue"], counts["not_shared"])


def reviews_due_for_lead(*, user, today: dt.date | None = None):
    """Plans in force of the user's networks where the user is the plan's
    clinical lead and whose review is overdue or due within 7 days, oldest
    review first. Only a plan of an open episode has a review to come (a
    plan stays in force when its episode ends), as on the register. The
    person and their practice are joined in: one query however many rows."""
    today = today or timezone.localdate()
    return (
        CarePlan.objects.visible_to(user)
        .filter(
            status__in=IN_FORCE,
            clinical_lead_id=user.pk,
            entry__status__in=RegisterEntry.OPEN_STATUSES,
            next_review_on__lte=today + REVIEWS_THIS_WEEK,
        )
        .select_related("patient", "patient__practice")
        .order_by("next_review_on", "pk")
    )


def plans_awaiting_ratification(*, user):
    """Plans of the user's networks proposed for the MDT and not yet
    ratified, oldest proposal first, with the person, their practice and who
    proposed it joined in: one query however many rows."""
    return (
        CarePlan.objects.visible_to(user)
        .filter(status=CarePlan.Status.PROPOSED)
        .select_related("patient", "patient__practice", "proposed_by")
        .order_by("proposed_at", "pk")
    )


def attention_reasons(plan: CarePlan, today: dt.date | None = None) -> tuple[str, ...]:
    """Why a plan from ``plans_needing_attention`` is on the list."""
    today = today or timezone.localdate()
    reasons = []
    if review_state(plan, today) == "overdue":
        reasons.append("Review overdue")
    if (
        plan.status == CarePlan.Status.RATIFIED
        and plan.ratified_at
        and timezone.localdate(plan.ratified_at) < today - SHARE_WITHIN
    ):
        reasons.append("Ratified but not shared")
    if plan.clinical_lead_id is None:
        reasons.append("No clinical lead")
    if getattr(plan, "has_late_goal", False):
        reasons.append("A goal is past its target date")
    return tuple(reasons)


# --- comparing versions ---------------------------------------------------------

COMPARED_FIELDS = (
    ("primary_need", "Primary need"),
    ("clinical_lead", "Clinical lead"),
    ("navigator", "Care navigator"),
    ("self_management", "Self-management plan"),
    ("contingency", "Contingency and escalation plan"),
    ("carer_involvement", "Carer's involvement"),
    ("review_interval_weeks", "Review interval"),
    ("next_review_on", "Next review"),
)


@dataclass(frozen=True)
class Change:
    what: str
    before: str
    after: str


def _display(plan: CarePlan, field: str) -> str:
    value = getattr(plan, field)
    if value in (None, ""):
        return ""
    display = getattr(plan, f"get_{field}_display", None)
    if display is not None:
        return str(display())
    if hasattr(value, "get_full_name"):
        return value.get_full_name() or value.username
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    return str(value)


def _goal_line(goal: CarePlanGoal) -> str:
    parts = [goal.what_matters]
    if goal.support_agreed:
        parts.append(f"support: {goal.support_agreed}")
    provider = goal.provider or goal.provider_organisation or goal.provider_name
    if provider:
        provider = provider.get_full_name() if hasattr(provider, "get_full_name") else provider
        parts.append(f"by {provider}")
    if goal.target_on:
        parts.append(f"target {goal.target_on.day} {goal.target_on:%B %Y}")
    parts.append(goal.get_progress_display().lower())
    return " · ".join(str(part) for part in parts)


def _member_line(member: CareTeamMember) -> str:
    who = member.practitioner or member.organisation or member.name
    who = who.get_full_name() if hasattr(who, "get_full_name") else who
    return f"{who}: {member.role_in_plan}"


def plan_changes(old: CarePlan, new: CarePlan) -> list[Change]:
    """What changed from ``old`` to ``new``, field by field, then goal by goal
    and care-team member by member (added, removed or changed)."""
    changes = [
        Change(label, _display(old, field), _display(new, field))
        for field, label in COMPARED_FIELDS
        if _display(old, field) != _display(new, field)
    ]
    # Goals are matched by their place in the plan (a new version copies
    # them in order), so two goals in the same words stay two.
    old_goals = {goal.position: goal for goal in old.goals.all()}
    new_goals = {goal.position: goal for goal in new.goals.all()}
    for position in sorted(set(old_goals) | set(new_goals)):
        old_goal, new_goal = old_goals.get(position), new_goals.get(position)
        before = _goal_line(old_goal) if old_goal else ""
        after = _goal_line(new_goal) if new_goal else ""
        if before != after:
            words = (new_goal or old_goal).what_matters
            changes.append(Change(f"Goal: “{words}”", before, after))
    old_team = sorted(_member_line(m) for m in old.care_team.all())
    new_team = sorted(_member_line(m) for m in new.care_team.all())
    if old_team != new_team:
        changes.append(Change("Care team", "; ".join(old_team), "; ".join(new_team)))
    return changes
