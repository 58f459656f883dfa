"""Writes to MDT meetings and their agendas. Each service is one transaction
that checks who may do it; the change triggers audit every row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership, Network, Organisation, User
from mdtcare.notifications.models import Notification
from mdtcare.notifications.services import notifications_raise
from meetings.models import (
    Action,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Discussion,
    DiscussionAmendment,
    Meeting,
    MeetingSeries,
)
from patients.models import Patient

SCHEDULERS = frozenset({Membership.Role.NAVIGATOR, Membership.Role.ADMIN, Membership.Role.GP_CHAIR})
STEPS = {
    MeetingSeries.Frequency.WEEKLY: relativedelta(weeks=1),
    MeetingSeries.Frequency.FORTNIGHTLY: relativedelta(weeks=2),
    MeetingSeries.Frequency.MONTHLY: relativedelta(months=1),
}


class StaleAgenda(ValidationError):
    """The agenda changed since this page was opened."""

    def __init__(self):
        super().__init__(
            "Someone else changed this agenda while you were looking at it. Check it as "
            "it is now, then make your change again.",
            code="stale",
        )


@dataclass(frozen=True)
class Scheduled:
    meetings: tuple[Meeting, ...]
    warnings: tuple[str, ...] = ()


def _require_scheduler(*, user: User, network: Network) -> None:
    permissions.require_role(
        user=user, network_id=network.pk, roles=SCHEDULERS, action="schedule MDT meetings"
    )


def _overlaps(network: Network, date: dt.date, starts_at: dt.time, ends_at: dt.time):
    return Meeting.objects.filter(
        network=network, date=date, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exclude(status=Meeting.Status.CANCELLED)


@transaction.atomic
def meeting_schedule(
    *,
    by: User,
    network: Network,
    date: dt.date,
    starts_at: dt.time,
    ends_at: dt.time,
    format: str = Meeting.Format.FACE_TO_FACE,
    venue: str = "",
    dial_in: str = "",
    chair: User | None = None,
    invited: list[User] | tuple = (),
    frequency: str = "",
    until: dt.date | None = None,
) -> Scheduled:
    """Schedule one meeting, or a series (``frequency`` and ``until``). A
    meeting must end after it starts; one that overlaps another meeting of
    the network is scheduled with a warning."""
    _require_scheduler(user=by, network=network)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": ["The meeting must end after it starts"]})
    if date < timezone.localdate():
        raise ValidationError({"date": ["A new meeting cannot be in the past"]})
    if chair is not None and permissions.role_in(user=chair, network_id=network.pk) is None:
        raise ValidationError({"chair": ["The chair must be a member of this network"]})
    series = None
    dates = [date]
    if frequency:
        if frequency not in STEPS or until is None or until < date:
            raise ValidationError({"until": ["Give how often and an end date after the first"]})
        series = MeetingSeries.objects.create(
            network=network, frequency=frequency, first_on=date, until=until, created_by=by
        )
        step, dates = STEPS[frequency], []
        count, next_date = 0, date
        while next_date <= until:
            dates.append(next_date)
            count += 1
            next_date = date + step * count
    warnings = []
    meetings = []
    for day in dates:
        if _overlaps(network, day, starts_at, ends_at).exists():
            warnings.append(
                f"Another meeting of {network.name} overlaps the one on {day:%d/%m/%Y}."
            )
        meeting = Meeting.objects.create(
            network=network,
            series=series,
            date=day,
            starts_at=starts_at,
            ends_at=ends_at,
            format=format,
            venue=venue.strip()[:300],
            dial_in=dial_in.strip()[:300],
            chair=chair,
            created_by=by,
        )
        meeting.invited.set(invited)
        meetings.append(meeting)
    return Scheduled(tuple(meetings), tuple(warnings))


@transaction.atomic
def meeting_cancel(*, by: User, meeting: Meeting, reason: str) -> Meeting:
    """Cancel one meeting (of a series or not), with the reason."""
    _require_scheduler(user=by, network=meeting.network)
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if current.status != Meeting.Status.SCHEDULED:
        raise ValidationError("Only a meeting that has not started can be cancelled.")
    if not reason.strip():
        raise ValidationError({"reason": ["Enter why the meeting is cancelled"]})
    current.status = Meeting.Status.CANCELLED
    current.cancel_reason = reason.strip()[:500]
    current.save()
    return current


def _open_agenda(meeting: Meeting, expected_revision: int | None) -> Meeting:
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if current.status != Meeting.Status.SCHEDULED:
        raise ValidationError("The agenda of a meeting that has started or closed cannot change.")
    if expected_revision is not None and current.revision != expected_revision:
        raise StaleAgenda()
    Meeting.objects.filter(pk=current.pk).update(revision=F("revision") + 1)
    current.revision += 1
    return current


@transaction.atomic
def agenda_item_add(
    *,
    by: User,
    meeting: Meeting,
    patient: Patient,
    reason: str,
    note: str = "",
    expected_revision: int | None = None,
) -> AgendaItem:
    """Put a person on the agenda. Refused for a person of another network
    and for a person already on this agenda."""
    _require_scheduler(user=by, network=meeting.network)
    if patient.practice.network_id != meeting.network_id:
        raise ValidationError("This person belongs to another network's MDT.")
    if reason not in AgendaItem.Reason.values:
        raise ValidationError({"reason": ["Choose why the person is on the agenda"]})
    current = _open_agenda(meeting, expected_revision)
    position = (current.agenda.aggregate(last=Max("position"))["last"] or 0) + 1
    try:
        with transaction.atomic():
            return AgendaItem.objects.create(
                meeting=current,
                patient=patient,
                reason=reason,
                note=note.strip()[:300],
                position=position,
                created_by=by,
            )
    except IntegrityError as exc:
        raise ValidationError("This person is on this agenda already.", code="duplicate") from exc


@transaction.atomic
def agenda_item_remove(*, by: User, item: AgendaItem, expected_revision: int | None = None) -> None:
    _require_scheduler(user=by, network=item.meeting.network)
    _open_agenda(item.meeting, expected_revision)
    item.delete()


@transaction.atomic
def agenda_item_move(
    *, by: User, item: AgendaItem, to_position: int, expected_revision: int | None = None
) -> list[AgendaItem]:
    """Move an item to a place in the agenda (1 is first); the others close up."""
    _require_scheduler(user=by, network=item.meeting.network)
    meeting = _open_agenda(item.meeting, expected_revision)
    items = [
        other for other in meeting.agenda.order_by("position", "created_at") if other.pk != item.pk
    ]
    to_position = max(1, min(to_position, len(items) + 1))
    items.insert(to_position - 1, item)
    for position, each in enumerate(items, start=1):
        each.position = position
    AgendaItem.objects.bulk_update(items, ["position"])
    return items


@transaction.atomic
def agenda_publish(*, by: User, meeting: Meeting, expected_revision: int | None = None) -> Meeting:
    """Publish the agenda to the invited members (delivered from the
    outbox); publishing again after changes tells them again. With
    ``expected_revision``, an agenda changed since the user saw it is
    refused: they would publish one they have not read."""
    _require_scheduler(user=by, network=meeting.network)
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if current.status != Meeting.Status.SCHEDULED:
        raise ValidationError("Only the agenda of a meeting still to come is published.")
    if expected_revision is not None and current.revision != expected_revision:
        raise StaleAgenda()
    if not current.agenda.exists():
        raise ValidationError("Add people to the agenda before publishing it.")
    current.agenda_published_at, current.agenda_published_by = timezone.now(), by
    current.save()
    notifications_raise(
        kind=Notification.Kind.AGENDA_PUBLISHED,
        event_id=f"agenda:{current.pk}:{current.revision}",
        recipients=current.invited.filter(is_active=True),
        link=reverse("home"),
    )
    return current


# --- running the meeting ------------------------------------------------------


# Who runs a meeting: its GP chair, or an admin acting as chair with a reason.
CHAIR_ROLES = frozenset({Membership.Role.GP_CHAIR, Membership.Role.ADMIN})


def _require_chair(*, user: User, meeting: Meeting, reason: str = "") -> str:
    """GP chairs run meetings; an admin may act as chair, with a reason."""
    role = permissions.role_in(user=user, network_id=meeting.network_id)
    if role == Membership.Role.GP_CHAIR:
        return ""
    if role == Membership.Role.ADMIN and reason.strip():
        return reason.strip()[:500]
    raise PermissionDenied(
        "Only a GP chair runs the meeting (an admin may act as chair, giving the reason)."
    )


@transaction.atomic
def meeting_start(*, by: User, meeting: Meeting, acting_reason: str = "") -> Meeting:
    """Start the meeting. Starting it again changes nothing."""
    reason = _require_chair(user=by, meeting=meeting, reason=acting_reason)
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if current.status == Meeting.Status.IN_PROGRESS:
        return current
    if current.status != Meeting.Status.SCHEDULED:
        raise ValidationError(f"A {current.get_status_display().lower()} meeting cannot start.")
    current.status = Meeting.Status.IN_PROGRESS
    current.started_at = timezone.now()
    current.chair = current.chair or by
    current.acting_chair_reason = reason
    current.save()
    return current


def _require_in_progress(meeting: Meeting) -> Meeting:
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if current.status != Meeting.Status.IN_PROGRESS:
        raise ValidationError(
            "Outcomes are recorded while the meeting is in progress; this one is "
            f"{current.get_status_display().lower()}.",
            code="not_in_progress",
        )
    return current


@transaction.atomic
def discussion_save(
    *,
    by: User,
    item: AgendaItem,
    outcome: str,
    summary: str = "",
    decisions: str = "",
    next_review_on: dt.date | None = None,
    expected_revision: int | None = None,
    acting_reason: str = "",
    ratify_plan: bool = False,
    primary_need: str = "",
    clinical_lead: User | None = None,
) -> Discussion:
    """Record (or change) the outcome of discussing one agenda item while the
    meeting is in progress. A save based on an older revision is refused.

    With ``ratify_plan`` the person's proposed plan is ratified (through
    ``careplans.plans.plan_ratify``, so only a GP chair can); with a
    ``primary_need`` or ``clinical_lead`` the open episode's allocation is
    changed (through ``patients.services.entry_allocate``). All in the same
    transaction as the outcome: one refusal undoes the lot."""
    _require_chair(user=by, meeting=item.meeting, reason=acting_reason)
    _require_in_progress(item.meeting)
    if outcome not in Discussion.Outcome.values:
        raise ValidationError({"outcome": ["Choose the outcome of the discussion"]})
    discussion = Discussion.objects.select_for_update().filter(item=item).first()
    if discussion is not None and expected_revision not in (None, discussion.revision):
        differences = _differences(
            discussion,
            outcome=outcome,
            summary=summary.strip(),
            decisions=decisions.strip(),
            next_review_on=next_review_on,
        )
        if differences:
            raise ValidationError(
                "Someone else saved this outcome while you were working on it. Saved now: "
                f"{'; '.join(differences)}. Check theirs, then save yours again if it "
                "should replace it.",
                code="stale",
            )
    discussion = discussion or Discussion(item=item, recorded_by=by, created_by=by)
    discussion.outcome = outcome
    discussion.summary = summary.strip()
    discussion.decisions = decisions.strip()
    discussion.next_review_on = next_review_on
    if not discussion._state.adding:
        discussion.revision += 1
    discussion.recorded_by = by
    if primary_need or clinical_lead is not None:
        _allocate_from_discussion(
            by=by, item=item, primary_need=primary_need, clinical_lead=clinical_lead
        )
        discussion.primary_need = primary_need
        discussion.clinical_lead = clinical_lead
    if ratify_plan:
        discussion.ratified_plan = _ratify_from_discussion(
            by=by, item=item, acting_reason=acting_reason
        )
    discussion.save()
    return discussion


def _differences(discussion: Discussion, **sent) -> list[str]:
    """How the saved outcome differs from what was sent, in words."""
    labels = {
        "outcome": "outcome",
        "summary": "summary",
        "decisions": "decisions",
        "next_review_on": "next review",
    }
    shown = []
    for field, value in sent.items():
        saved = getattr(discussion, field)
        if saved == value:
            continue
        if field == "outcome":
            text = discussion.get_outcome_display()
        elif field == "next_review_on":
            text = f"{saved:%-d %B %Y}" if saved else "none"
        else:
            text = f"“{saved[:80]}{'…' if len(saved) > 80 else ''}”" if saved else "blank"
        shown.append(f"{labels[field]} {text}")
    return shown


@transaction.atomic
def meeting_close(*, by: User, meeting: Meeting, acting_reason: str = "") -> Meeting:
    """Close the meeting: items not discussed are marked not reached (they
    are proposed as carried forward for the next meeting) and the outcomes
    are locked. Closing a closed meeting changes nothing."""
    _require_chair(user=by, meeting=meeting, reason=acting_reason)
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if current.status == Meeting.Status.CLOSED:
        return current
    if current.status != Meeting.Status.IN_PROGRESS:
        raise ValidationError("Only a meeting in progress is closed.")
    current.agenda.filter(discussion__isnull=True).update(not_reached=True)
    current.status = Meeting.Status.CLOSED
    current.closed_at, current.closed_by = timezone.now(), by
    current.save()
    return current


# --- outcomes that change the episode and the plan, attendance, actions ---------


def _allocate_from_discussion(
    *, by: User, item: AgendaItem, primary_need: str, clinical_lead: User | None
) -> None:
    """The MDT sets the primary need and clinical lead of the open episode;
    what it does not give (navigator, tier, or a blank field) stays as it was."""
    from patients.models import RegisterEntry
    from patients.services import entry_allocate

    entry = (
        RegisterEntry.objects.open()
        .select_related("patient__practice")
        .filter(patient_id=item.patient_id)
        .order_by("-referred_on", "-created_at")
        .first()
    )
    if entry is None:
        raise ValidationError(
            {"primary_need": ["This person has no open episode to set the need or lead on"]}
        )
    entry_allocate(
        by=by,
        entry=entry,
        clinical_lead=clinical_lead or entry.clinical_lead,
        navigator=entry.navigator,
        tier=entry.tier,
        primary_need=primary_need or entry.primary_need,
    )


def _ratify_from_discussion(*, by: User, item: AgendaItem, acting_reason: str = ""):
    # Imported here: careplans depends on patients, and meetings sits above both.
    from careplans import plans
    from careplans.models import CarePlan
    from careplans.plan_selectors import current_plan

    plan = current_plan(CarePlan.objects.filter(patient_id=item.patient_id).order_by("-number"))
    if plan is None or plan.status != CarePlan.Status.PROPOSED:
        raise ValidationError(
            {"ratify_plan": ["This person has no proposed plan to ratify"]}, code="no_plan"
        )
    return plans.plan_ratify(
        by=by,
        plan=plan,
        note=f"Ratified at the MDT on {item.meeting.date:%d/%m/%Y}",
        acting_reason=acting_reason,
    )


@transaction.atomic
def attendance_record(
    *,
    by: User,
    meeting: Meeting,
    user: User | None = None,
    name: str = "",
    profession: str = "",
    organisation: str = "",
    status: str = AttendanceStatus.PRESENT,
    acting_reason: str = "",
) -> Attendance:
    """Record who attended (or sent apologies). A member of the network is
    recorded once: recording them again changes their entry; a guest is
    recorded by name. Not once the meeting is closed or cancelled."""
    _require_chair(user=by, meeting=meeting, reason=acting_reason)
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if current.status not in (Meeting.Status.SCHEDULED, Meeting.Status.IN_PROGRESS):
        raise ValidationError(
            f"Attendance cannot change at a {current.get_status_display().lower()} meeting."
        )
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": ["Choose present or apologies"]})
    if user is not None:
        if permissions.role_in(user=user, network_id=current.network_id) is None:
            raise ValidationError({"user": ["Choose a member of this network"]})
        name = name.strip() or user.get_full_name() or user.get_username()
        attendance, _ = Attendance.objects.update_or_create(
            meeting=current,
            user=user,
            defaults={
                "name": name[:200],
                "profession": (profession.strip() or user.get_profession_display())[:60],
                "organisation": organisation.strip()[:200],
                "status": status,
            },
            create_defaults={
                "name": name[:200],
                "profession": (profession.strip() or user.get_profession_display())[:60],
                "organisation": organisation.strip()[:200],
                "status": status,
                "created_by": by,
            },
        )
        return attendance
    if not name.strip():
        raise ValidationError({"name": ["Enter the name of the person attending"]})
    return Attendance.objects.create(
        meeting=current,
        name=name.strip()[:200],
        profession=profession.strip()[:60],
        organisation=organisation.strip()[:200],
        status=status,
        created_by=by,
    )


@dataclass(frozen=True)
class ActionAdded:
    action: Action
    warnings: tuple[str, ...] = ()


@transaction.atomic
def action_add(
    *,
    by: User,
    item: AgendaItem,
    what: str,
    due_on: dt.date | None,
    owner: User | None = None,
    owner_organisation: Organisation | None = None,
    priority: str = Action.Priority.ROUTINE,
    acting_reason: str = "",
) -> ActionAdded:
    """Add an action agreed in the discussion of ``item``, for its person.
    It needs an owner (a member of the network or an organisation) and a
    due date; a date already past is accepted with a warning (the MDT may be
    recording something already late). Refused before the outcome is saved
    and once the meeting is not in progress."""
    _require_chair(user=by, meeting=item.meeting, reason=acting_reason)
    _require_in_progress(item.meeting)
    errors: dict[str, list[str]] = {}
    if not what.strip():
        errors["what"] = ["Enter what needs to be done"]
    if owner is None and owner_organisation is None:
        errors["owner"] = ["Choose who owns the action: a person or an organisation"]
    elif (
        owner is not None
        and permissions.role_in(user=owner, network_id=item.meeting.network_id) is None
    ):
        errors["owner"] = ["Choose a member of this network"]
    if due_on is None:
        errors["due_on"] = ["Enter the date the action is due"]
    if priority not in Action.Priority.values:
        errors["priority"] = ["Choose the priority"]
    if errors:
        raise ValidationError(errors)
    discussion = Discussion.objects.filter(item=item).first()
    if discussion is None:
        raise ValidationError(
            "Save the outcome of the discussion before adding its actions.", code="no_outcome"
        )
    action = Action.objects.create(
        patient_id=item.patient_id,
        what=what.strip()[:500],
        owner=owner,
        owner_organisation=owner_organisation if owner is None else None,
        due_on=due_on,
        priority=priority,
        source=Action.Source.DISCUSSION,
        discussion=discussion,
        created_by=by,
    )
    # The owner is told, in this transaction (the outbox): the rule is the
    # actions module's, which imports this one.
    from meetings.actions import action_assigned_notify

    action_assigned_notify(action=action, by=by)
    warnings = []
    if due_on < timezone.localdate():
        warnings.append(f"The action is due on {due_on:%d/%m/%Y}, which has passed: it is overdue.")
    return ActionAdded(action, tuple(warnings))


# --- corrections after the meeting ----------------------------------------------

AMENDERS = frozenset({Membership.Role.GP_CHAIR, Membership.Role.NAVIGATOR, Membership.Role.ADMIN})
AMENDABLE = ("outcome", "summary", "decisions", "next_review_on")


@transaction.atomic
def discussion_amend(
    *,
    by: User,
    discussion: Discussion,
    reason: str,
    expected_revision: int | None = None,
    **changes,
) -> DiscussionAmendment:
    """Correct the outcome of a discussion once its meeting has closed (the
    outcomes are locked then): give the reason; the fields that change are
    kept before and after beside the discussion. GP chairs, navigators (who
    keep the minutes) and admins correct; the primary need, clinical lead
    and a ratification are corrected where they live (the register, the
    plan), not here."""
    unknown = set(changes) - set(AMENDABLE)
    if unknown:
        raise TypeError(f"Not amendable here: {', '.join(sorted(unknown))}")
    current = (
        Discussion.objects.select_for_update().select_related("item__meeting").get(pk=discussion.pk)
    )
    meeting = current.item.meeting
    permissions.require_role(
        user=by, network_id=meeting.network_id, roles=AMENDERS, action="correct MDT outcomes"
    )
    if meeting.status != Meeting.Status.CLOSED:
        raise ValidationError(
            "While the meeting is in progress the chair changes the outcome on the meeting "
            "screen; corrections with a reason are for closed meetings."
        )
    if expected_revision is not None and current.revision != expected_revision:
        raise ValidationError(
            "Someone else corrected this outcome while you were working on it. Check theirs, "
            "then make your change again.",
            code="stale",
        )
    if not reason.strip():
        raise ValidationError({"reason": ["Enter the reason for the correction"]})
    if "outcome" in changes and changes["outcome"] not in Discussion.Outcome.values:
        raise ValidationError({"outcome": ["Choose the outcome of the discussion"]})
    before, after = {}, {}
    for field, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(current, field) != value:
            before[field], after[field] = getattr(current, field), value
            setattr(current, field, value)
    if not after:
        raise ValidationError("Nothing was changed: correct at least one field.")
    current.revision += 1
    current.save()
    return DiscussionAmendment.objects.create(
        discussion=current, before=before, after=after, reason=reason.strip()[:500], created_by=by
    )
