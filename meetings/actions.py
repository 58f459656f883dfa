"""Changing an action's status and owner: start, complete, reassign,
cancel, and adding an action outside a meeting (from a care plan, a review
or anything else).

Each service is one transaction that locks the action (``select_for_update``),
checks who may, refuses a change its status does not allow with a sentence
the user can act on, and (given what the user saw: ``expected_status``,
``expected_updated_at``) refuses a change based on an action someone else
has changed since. The change triggers record every row's before and after.

Who may:

- start and complete: any member of the person's network (every role takes
  part in the MDT, and an action is done by whoever does it);
- reassign and cancel: navigators, admins and GP chairs of the network, and
  the action's owner (for an action owned by a team, a member of that team:
  the user's organisation);
- add an action outside a meeting: any member of the person's network.

An action nobody owns (no person, no team) is taken by whoever starts or
completes it: a started or done action always has an owner (the model's
``meetings_action_owned_once_started`` constraint).

Assigning a person (``action_create``, ``action_reassign``; at a meeting
``services.action_add``) raises an ``action_assigned`` notification for them
in the same transaction (the outbox), never naming the action's text.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership, Organisation, User
from mdtcare.notifications.models import Notification
from mdtcare.notifications.services import notifications_raise
from meetings.models import Action
from meetings.services import ActionAdded
from patients.models import Patient

# Who may reassign or cancel any action of their network (besides its owner).
ACTION_MANAGERS = frozenset(
    {Membership.Role.NAVIGATOR, Membership.Role.ADMIN, Membership.Role.GP_CHAIR}
)
STILL_TO_DO = (Action.Status.OPEN, Action.Status.IN_PROGRESS)
# Sources of an action added outside a meeting (a discussion's are added at it).
SOURCES_OUTSIDE_MEETINGS = (Action.Source.PLAN, Action.Source.REVIEW, Action.Source.OTHER)
NOTE_MAX = 1000
NOT_A_MEMBER = "Only members of this person's network update their actions."
NOT_A_MANAGER = (
    "Only the action's owner, or a care navigator, admin or GP chair of the network, may "
    "reassign or cancel an action."
)


class StaleAction(ValidationError):
    """The action changed since the user saw it."""

    def __init__(self, action: Action):
        super().__init__(
            "Someone else changed this action while you were looking at it: it is now "
            f"{action.get_status_display().lower()}. Check it as it is now, then try again.",
            code="stale",
        )
        self.action = action


def assigned_link() -> str:
    """Where an ``action_assigned`` notification takes its reader: their own
    list ("My actions"), which every role may open."""
    return reverse("meetings:my_actions")


def action_assigned_notify(*, action: Action, by: User | None) -> int:
    """Tell the action's owner it is theirs: one notification per action and
    owner, however often it is raised (assigned again, a page sent twice).
    Nobody is told of an action they gave themselves, nor a team (no one
    person owns it yet), nor a deactivated owner. The notification carries
    the person's id for the in-app link, never the action's text."""
    owner = action.owner
    if owner is None or not owner.is_active or (by is not None and owner.pk == by.pk):
        return 0
    # The recipient is part of the notification's identity, so the event id
    # needs only the action: "action:<uuid>" (event ids hold 64 characters,
    # which an action's and a user's UUID together would not fit).
    return notifications_raise(
        kind=Notification.Kind.ACTION_ASSIGNED,
        event_id=f"action:{action.pk}",
        recipients=[owner],
        patient_id=action.patient_id,
        link=assigned_link(),
    )


def _locked(action: Action) -> Action:
    return (
        Action.objects.select_for_update(of=("self",))
        .select_related("patient__practice", "owner", "owner_organisation")
        .get(pk=action.pk)
    )


def _open_for_change(
    *,
    by: User,
    action: Action,
    expected_status: str | None,
    expected_updated_at: dt.datetime | None,
) -> tuple[Action, str]:
    """The action locked for the change, and the user's role in its
    person's network; PermissionDenied for a non-member, StaleAction when it
    changed since the user saw it."""
    current = _locked(action)
    role = permissions.role_in(user=by, network_id=current.patient.practice.network_id)
    if role is None:
        raise PermissionDenied(NOT_A_MEMBER)
    if (expected_status is not None and current.status != expected_status) or (
        expected_updated_at is not None and current.updated_at != expected_updated_at
    ):
        raise StaleAction(current)
    return current, role


def is_owned_by(action: Action, user: User) -> bool:
    """The user owns the action, or it is their team's (their organisation's)
    and no one person has it."""
    if action.owner_id is not None:
        return action.owner_id == user.pk
    return action.owner_organisation_id is not None and (
        action.owner_organisation_id == user.organisation_id
    )


def may_manage(*, role: str | None, action: Action, user: User) -> bool:
    """May reassign or cancel: the rule, for the services and for the pages
    deciding which buttons to show."""
    return role in ACTION_MANAGERS or (role is not None and is_owned_by(action, user))


def _note(note: str) -> str:
    return (note or "").strip()[:NOTE_MAX]


def _take_if_unowned(action: Action, by: User) -> None:
    if action.owner_id is None and action.owner_organisation_id is None:
        action.owner = by


def _refuse_finished(action: Action, doing: str) -> None:
    if action.status == Action.Status.DONE:
        raise ValidationError(
            f"This action is done: it cannot be {doing}. Add a new action if more is needed.",
            code="done",
        )
    if action.status == Action.Status.CANCELLED:
        raise ValidationError(
            f"This action was cancelled: it cannot be {doing}. Add a new action if it is "
            "needed after all.",
            code="cancelled",
        )


@transaction.atomic
def action_start(
    *,
    by: User,
    action: Action,
    expected_status: str | None = None,
    expected_updated_at: dt.datetime | None = None,
) -> Action:
    """Mark an open action in progress. Starting one already in progress
    changes nothing; a done or cancelled one is refused."""
    current, _ = _open_for_change(
        by=by,
        action=action,
        expected_status=expected_status,
        expected_updated_at=expected_updated_at,
    )
    if current.status == Action.Status.IN_PROGRESS:
        return current
    _refuse_finished(current, "started")
    _take_if_unowned(current, by)
    current.status = Action.Status.IN_PROGRESS
    current.save()
    return current


@transaction.atomic
def action_complete(
    *,
    by: User,
    action: Action,
    note: str = "",
    expected_status: str | None = None,
    expected_updated_at: dt.datetime | None = None,
) -> Action:
    """Mark an open or in-progress action done, with an optional note of
    what was done; who and when are recorded. A done action is not completed
    twice, nor a cancelled one at all."""
    current, _ = _open_for_change(
        by=by,
        action=action,
        expected_status=expected_status,
        expected_updated_at=expected_updated_at,
    )
    if current.status == Action.Status.DONE:
        when = timezone.localdate(current.completed_at) if current.completed_at else None
        raise ValidationError(
            f"This action was marked done on {when:%d/%m/%Y} already."
            if when
            else "This action is done already.",
            code="done",
        )
    _refuse_finished(current, "completed")
    _take_if_unowned(current, by)
    current.status = Action.Status.DONE
    current.completion_note = _note(note)
    current.completed_at = timezone.now()
    current.completed_by = by
    current.save()
    return current


def _check_owner(
    *, owner: User | None, owner_organisation: Organisation | None, network_id
) -> dict[str, list[str]]:
    """The errors of a choice of owner for an action of this network: a
    person who is an active member of it, or an organisation that serves it
    (a partner organisation, or one of its own GP practices)."""
    if (owner is None) == (owner_organisation is None):
        return {"owner": ["Choose who owns the action: a person or an organisation"]}
    if owner is not None:
        if not owner.is_active or permissions.role_in(user=owner, network_id=network_id) is None:
            return {"owner": ["Choose a member of this person's network"]}
        return {}
    serves = Organisation.objects.filter(
        Q(network__isnull=True) | Q(network_id=network_id), pk=owner_organisation.pk
    ).exists()
    if not serves:
        return {"owner_organisation": ["Choose an organisation that serves this network"]}
    return {}


@transaction.atomic
def action_reassign(
    *,
    by: User,
    action: Action,
    owner: User | None = None,
    owner_organisation: Organisation | None = None,
    note: str = "",
    expected_status: str | None = None,
    expected_updated_at: dt.datetime | None = None,
) -> Action:
    """Give an action still to do to another person (an active member of
    the person's network) or a team (an organisation serving the network).
    The new owner is told (``action_assigned``). The note, if given, is kept
    as the action's note until it is completed (the change history keeps
    every earlier one)."""
    current, role = _open_for_change(
        by=by,
        action=action,
        expected_status=expected_status,
        expected_updated_at=expected_updated_at,
    )
    if not may_manage(role=role, action=current, user=by):
        raise PermissionDenied(NOT_A_MANAGER)
    _refuse_finished(current, "reassigned")
    errors = _check_owner(
        owner=owner,
        owner_organisation=owner_organisation,
        network_id=current.patient.practice.network_id,
    )
    if errors:
        raise ValidationError(errors)
    if owner is not None and current.owner_id == owner.pk:
        raise ValidationError({"owner": [f"The action is {owner}'s already"]})
    if (
        owner_organisation is not None
        and current.owner_id is None
        and current.owner_organisation_id == owner_organisation.pk
    ):
        raise ValidationError(
            {"owner_organisation": [f"The action is {owner_organisation.name}'s already"]}
        )
    current.owner, current.owner_organisation = owner, owner_organisation
    if _note(note):
        current.completion_note = _note(note)
    current.save()
    action_assigned_notify(action=current, by=by)
    return current


@transaction.atomic
def action_cancel(
    *,
    by: User,
    action: Action,
    note: str,
    expected_status: str | None = None,
    expected_updated_at: dt.datetime | None = None,
) -> Action:
    """Cancel an action still to do, saying why (kept as its note). A done
    action is not cancelled, and a cancelled one not again."""
    current, role = _open_for_change(
        by=by,
        action=action,
        expected_status=expected_status,
        expected_updated_at=expected_updated_at,
    )
    if not may_manage(role=role, action=current, user=by):
        raise PermissionDenied(NOT_A_MANAGER)
    _refuse_finished(current, "cancelled")
    if not _note(note):
        raise ValidationError({"note": ["Enter why the action is cancelled"]})
    current.status = Action.Status.CANCELLED
    current.completion_note = _note(note)
    current.cancelled_at = timezone.now()
    current.save()
    return current


@transaction.atomic
def action_create(
    *,
    by: User,
    patient: Patient,
    what: str,
    due_on: dt.date | None,
    owner: User | None = None,
    owner_organisation: Organisation | None = None,
    priority: str = Action.Priority.ROUTINE,
    source: str = Action.Source.OTHER,
    plan=None,
) -> ActionAdded:
    """Add an action for a person outside a meeting: from their care plan, a
    review or anything else (an MDT discussion's actions are added at the
    meeting, ``services.action_add``). Any member of the person's network
    may; it needs what, an owner (an active member of the network or an
    organisation serving it) and a due date; a date already past is accepted
    with a warning. The owner is told."""
    network_id = Patient.objects.filter(pk=patient.pk).values_list(
        "practice__network_id", flat=True
    )[0]
    if permissions.role_in(user=by, network_id=network_id) is None:
        raise PermissionDenied("Only members of this person's network add their actions.")
    errors: dict[str, list[str]] = {}
    if not (what or "").strip():
        errors["what"] = ["Enter what needs to be done"]
    errors.update(
        _check_owner(owner=owner, owner_organisation=owner_organisation, network_id=network_id)
    )
    if due_on is None:
        errors["due_on"] = ["Enter the date the action is due"]
    if priority not in Action.Priority.values:
        errors["priority"] = ["Choose the priority"]
    if source not in SOURCES_OUTSIDE_MEETINGS:
        errors["source"] = ["Choose where the action comes from: a care plan, a review or other"]
    if plan is not None and plan.patient_id != patient.pk:
        errors["plan"] = ["Choose one of this person's care plans"]
    if errors:
        raise ValidationError(errors)
    action = Action.objects.create(
        patient=patient,
        what=what.strip()[:500],
        owner=owner,
        owner_organisation=owner_organisation if owner is None else None,
        due_on=due_on,
        priority=priority,
        source=source,
        plan=plan,
        created_by=by,
    )
    action_assigned_notify(action=action, by=by)
    warnings = []
    if due_on < timezone.localdate():
        warnings.append(f"The action is due on {due_on:%d/%m/%Y}, which has passed: it is overdue.")
    return ActionAdded(action, tuple(warnings))
