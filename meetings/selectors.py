"""Reading meetings through the access gate, and the agenda builder's
proposals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone

from careplans.models import CarePlan
from mdtcare.core.gate import get_visible_or_404
from meetings.models import Action, AgendaItem, Discussion, Meeting
from patients.models import Patient, RegisterEntry


def meeting_get_for_user(*, user, meeting_id) -> Meeting:
    return get_visible_or_404(
        Meeting.objects.select_related("network", "chair"), user, pk=meeting_id
    )


def actions_with_overdue(queryset, *, today: dt.date | None = None):
    """The actions with ``overdue`` worked out in the query: due before
    today (the local date in ``TIME_ZONE``, Europe/London) and still open or
    in progress. The one place the rule is written: derived, never stored."""
    today = today or timezone.localdate()
    still_to_do = [Action.Status.OPEN, Action.Status.IN_PROGRESS]
    return queryset.annotate(
        overdue=ExpressionWrapper(
            Q(due_on__lt=today, status__in=still_to_do), output_field=BooleanField()
        )
    )


def upcoming_meetings(*, user):
    """The user's networks' meetings from today on, not closed or cancelled,
    soonest first, with how many people are on each agenda."""
    return (
        Meeting.objects.visible_to(user)
        .filter(date__gte=timezone.localdate())
        .exclude(status__in=[Meeting.Status.CLOSED, Meeting.Status.CANCELLED])
        .select_related("network")
        .annotate(agenda_count=Count("agenda"))
        .order_by("date", "starts_at")
    )


def previous_meeting(meeting: Meeting) -> Meeting | None:
    """The network's last closed meeting before this one."""
    return (
        Meeting.objects.filter(
            network_id=meeting.network_id, status=Meeting.Status.CLOSED, date__lt=meeting.date
        )
        .order_by("-date", "-starts_at")
        .first()
    )


@dataclass(frozen=True)
class Proposal:
    patient: Patient
    reason: str


def agenda_proposals(meeting: Meeting) -> list[Proposal]:
    """Who the navigator should consider for this meeting, grouped by reason:
    people carried forward (not reached last time), re-listed at the last
    meeting, with a care plan review due by the meeting's date, and new
    referrals accepted but never discussed. Nobody already on the agenda,
    nobody twice (the first reason wins). A fixed number of queries."""
    on_agenda = set(meeting.agenda.values_list("patient_id", flat=True))
    proposals: dict = {}

    def add(patients, reason):
        for patient in patients:
            if patient.pk not in on_agenda and patient.pk not in proposals:
                proposals[patient.pk] = Proposal(patient, reason)

    people = Patient.objects.select_related("practice")
    last = previous_meeting(meeting)
    if last is not None:
        add(
            people.filter(agenda_items__meeting=last, agenda_items__not_reached=True),
            AgendaItem.Reason.CARRIED_FORWARD,
        )
        add(
            people.filter(
                agenda_items__meeting=last,
                agenda_items__discussion__outcome=Discussion.Outcome.RELIST,
            ),
            AgendaItem.Reason.RELISTED,
        )
    open_episode = RegisterEntry.objects.filter(
        patient=OuterRef("pk"), status__in=RegisterEntry.OPEN_STATUSES
    )
    in_network = people.filter(practice__network_id=meeting.network_id).filter(Exists(open_episode))
    review_due = CarePlan.objects.filter(
        patient=OuterRef("pk"),
        status__in=[CarePlan.Status.RATIFIED, CarePlan.Status.SHARED],
        next_review_on__lte=meeting.date,
    )
    add(in_network.filter(Exists(review_due)).order_by("family_name"), AgendaItem.Reason.REVIEW_DUE)
    accepted = RegisterEntry.objects.filter(
        patient=OuterRef("pk"),
        status__in=[RegisterEntry.Status.ACCEPTED, RegisterEntry.Status.ACTIVE],
    )
    discussed = Discussion.objects.filter(item__patient=OuterRef("pk"))
    add(
        in_network.filter(Exists(accepted)).exclude(Exists(discussed)).order_by("family_name"),
        AgendaItem.Reason.NEW_REFERRAL,
    )
    return list(proposals.values())
