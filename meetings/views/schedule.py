"""Scheduling MDT meetings and building their agendas: the user's meetings,
scheduling one (or a series), a meeting with its agenda and time slots,
cancelling it, and the navigator's agenda builder (proposals, urgent
additions, up / down, remove, publish).

Every page reads the meeting through ``meeting_get_for_user`` (404 outside
the gate) and writes one access event naming the people it shows. Every
rule is ``meetings.services``'s: a refusal there is shown to the user
(PermissionDenied as a 403), never worked around here. What the pages work
out for themselves is which buttons to show and the derived time slots.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from itertools import groupby
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from mdtcare.accounts.models import Network
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
from mdtcare.core.forms_errors import add_service_errors
from meetings import services
from meetings.forms import (
    AgendaAddForm,
    AgendaMoveForm,
    AgendaPlaceForm,
    MeetingCancelForm,
    MeetingScheduleForm,
    RevisionForm,
)
from meetings.models import AgendaItem, Meeting
from meetings.selectors import agenda_proposals, meeting_get_for_user
from patients.models import Patient
from patients.selectors import patient_search_filter

PAGE_SIZE = 20
SEARCH_LIMIT = 20
UPCOMING = (Meeting.Status.SCHEDULED, Meeting.Status.IN_PROGRESS)
PAST = (Meeting.Status.CLOSED, Meeting.Status.CANCELLED)
# The order the proposals are grouped in on the builder (SCREENS.md).
PROPOSAL_ORDER = [
    AgendaItem.Reason.NEW_REFERRAL,
    AgendaItem.Reason.REVIEW_DUE,
    AgendaItem.Reason.RELISTED,
    AgendaItem.Reason.CARRIED_FORWARD,
]
NOT_A_SCHEDULER = (
    "Meetings are scheduled and their agendas built by care navigators, admins and GP chairs."
)
OUT_OF_DATE = "This page was out of date. Check the agenda as it is now, then try again."


def _scheduler_network_ids(request) -> set:
    """The networks where the user may schedule (read with the header's
    memberships: no query). Only to decide what to show; services decide."""
    return {
        m.network_id for m in memberships_cached(request=request) if m.role in services.SCHEDULERS
    }


def _may_schedule(request, meeting: Meeting) -> bool:
    return meeting.network_id in _scheduler_network_ids(request)


def _agenda(meeting: Meeting) -> list[AgendaItem]:
    return list(
        meeting.agenda.select_related("patient", "patient__practice").order_by(
            "position", "created_at"
        )
    )


def time_slots(meeting: Meeting, count: int) -> list[tuple[dt.time, dt.time]]:
    """The meeting's length shared equally among ``count`` items, to the
    minute; the last slot ends when the meeting does. Derived, never stored."""
    if count <= 0:
        return []
    start = dt.datetime.combine(meeting.date, meeting.starts_at)
    end = dt.datetime.combine(meeting.date, meeting.ends_at)
    minutes = (end - start).total_seconds() / 60
    bounds = [
        start + dt.timedelta(minutes=int(minutes * index / count)) for index in range(count)
    ] + [end]
    return [(bounds[i].time(), bounds[i + 1].time()) for i in range(count)]


def _with_slots(meeting: Meeting, items: list[AgendaItem]) -> list[tuple[AgendaItem, tuple]]:
    return list(zip(items, time_slots(meeting, len(items)), strict=True))


# --- The user's meetings --------------------------------------------------------------------


def meeting_list(request):
    """Meetings of the user's networks: those to come (soonest first) or the
    past ones (closed or cancelled, latest first), a page at a time."""
    past = request.GET.get("show") == "past"
    meetings = (
        Meeting.objects.visible_to(request.user)
        .select_related("network", "chair")
        .annotate(agenda_count=Count("agenda"))
    )
    if past:
        meetings = meetings.filter(status__in=PAST).order_by("-date", "-starts_at", "id")
    else:
        meetings = meetings.filter(status__in=UPCOMING).order_by("date", "starts_at", "id")
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "meetings/schedule/meeting_list.html",
        {
            "page": page,
            "meetings": page.object_list,
            "past": past,
            "may_schedule": bool(_scheduler_network_ids(request)),
            "several_networks": len(memberships_cached(request=request)) > 1,
        },
    )


def meeting_schedule(request):
    """Schedule a meeting, or one at a regular interval until a date. An
    overlap with another meeting is allowed, with a warning."""
    network_ids = _scheduler_network_ids(request)
    if not network_ids:
        raise PermissionDenied(NOT_A_SCHEDULER)
    networks = Network.objects.filter(pk__in=network_ids).order_by("name")
    form = MeetingScheduleForm(
        request.POST if request.method == "POST" else None,
        networks=networks,
        initial={"network": next(iter(network_ids)) if len(network_ids) == 1 else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            scheduled = services.meeting_schedule(
                by=request.user,
                network=data["network"],
                date=data["date"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                format=data["format"],
                venue=data["venue"],
                dial_in=data["dial_in"],
                chair=data["chair"],
                frequency=data["frequency"],
                until=data["until"] if data["frequency"] else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            count = len(scheduled.meetings)
            if count == 1:
                messages.success(request, "The meeting has been scheduled.")
            else:
                messages.success(request, f"{count} meetings have been scheduled.")
            for warning in scheduled.warnings:
                messages.warning(request, warning)
            return redirect("meetings:meeting", meeting_id=scheduled.meetings[0].pk)
    return render(request, "meetings/schedule/meeting_schedule.html", {"form": form})


# --- One meeting ----------------------------------------------------------------------------


def meeting_view(request, meeting_id):
    """The meeting's details and its agenda with the time slots."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    items = _agenda(meeting)
    access_record(
        request=request,
        what="meeting.view",
        patient_ids=[item.patient_id for item in items],
        network_ids={meeting.network_id},
    )
    may_schedule = _may_schedule(request, meeting)
    scheduled = meeting.status == Meeting.Status.SCHEDULED
    return render(
        request,
        "meetings/schedule/meeting.html",
        {
            "meeting": meeting,
            "agenda": _with_slots(meeting, items),
            "may_cancel": may_schedule and scheduled,
            "may_build": may_schedule and scheduled,
        },
    )


def meeting_cancel(request, meeting_id):
    """Cancel one meeting (of a series or not), giving the reason."""
    # The page names no one (the meeting's date and the reason asked), so it
    # writes no access event; the cancellation is in the change history.
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    if not _may_schedule(request, meeting):
        raise PermissionDenied(NOT_A_SCHEDULER)
    if meeting.status != Meeting.Status.SCHEDULED:
        messages.info(request, "Only a meeting that has not started can be cancelled.")
        return redirect("meetings:meeting", meeting_id=meeting.pk)
    form = MeetingCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_cancel(
                by=request.user, meeting=meeting, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The meeting has been cancelled.")
            return redirect("meetings:meeting", meeting_id=meeting.pk)
    return render(
        request, "meetings/schedule/meeting_cancel.html", {"meeting": meeting, "form": form}
    )


# --- The agenda builder ---------------------------------------------------------------------


def _search(request, meeting: Meeting, text: str, on_agenda: set) -> list[Patient]:
    """People of the meeting's network (through the gate) matching a name or
    NHS number, not on the agenda already."""
    if not text.strip():
        return []
    return list(
        Patient.objects.visible_to(request.user)
        .filter(practice__network_id=meeting.network_id)
        .filter(patient_search_filter(text))
        .exclude(pk__in=on_agenda)
        .select_related("practice")
        .order_by("family_name", "given_name", "id")[:SEARCH_LIMIT]
    )


def agenda_builder(request, meeting_id):
    """Proposed people grouped by reason, the agenda with its slots and the
    buttons that change it, a search to add someone urgently, and publish."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    may_schedule = _may_schedule(request, meeting)
    items = _agenda(meeting) if may_schedule else []
    proposals = agenda_proposals(meeting) if may_schedule else []
    on_agenda = {item.patient_id for item in items}
    query = request.GET.get("q", "")[:100]
    found = _search(request, meeting, query, on_agenda) if may_schedule else []
    # One event naming everyone on the page (none when the page is refused).
    access_record(
        request=request,
        what="meeting.agenda",
        patient_ids=[
            *on_agenda,
            *(proposal.patient.pk for proposal in proposals),
            *(patient.pk for patient in found),
        ],
        network_ids={meeting.network_id},
    )
    if not may_schedule:
        raise PermissionDenied(NOT_A_SCHEDULER)
    labels = dict(AgendaItem.Reason.choices)
    ordered = sorted(proposals, key=lambda proposal: PROPOSAL_ORDER.index(proposal.reason))
    groups = [
        (labels[reason], list(group))
        for reason, group in groupby(ordered, key=lambda proposal: proposal.reason)
    ]
    return render(
        request,
        "meetings/schedule/agenda_builder.html",
        {
            "meeting": meeting,
            "agenda": _with_slots(meeting, items),
            "proposal_groups": groups,
            "query": query,
            "found": found,
            "editable": meeting.status == Meeting.Status.SCHEDULED,
        },
    )


def _back_to_builder(meeting: Meeting, query: str = ""):
    url = reverse("meetings:agenda_builder", args=[meeting.pk])
    return redirect(f"{url}?{urlencode({'q': query})}" if query else url)


def _refusal(request, exc: ValidationError, who: Patient | None = None) -> None:
    text = " ".join(exc.messages)
    messages.error(request, f"{who}: {text}" if who is not None and exc.code != "stale" else text)


def _stale_form(request) -> None:
    messages.error(request, OUT_OF_DATE)


@require_POST
def agenda_add(request, meeting_id):
    """Add the ticked proposals ("Add selected"), every proposal ("Add
    all"), or one person found by the search as urgent."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    form = AgendaAddForm(request.POST)
    if not form.is_valid():
        access_record(request=request, what="meeting.agenda.add", network_ids={meeting.network_id})
        _stale_form(request)
        return _back_to_builder(meeting)
    data = form.cleaned_data
    if data["urgent"]:
        patients = list(
            Patient.objects.visible_to(request.user)
            .select_related("practice")
            .filter(pk__in=_uuids(data["patient"]))
            .order_by("family_name", "given_name")
        )
        wanted = [(patient, AgendaItem.Reason.URGENT) for patient in patients]
    else:
        proposals = agenda_proposals(meeting)
        ticked = set(data["patient"])
        wanted = [
            (proposal.patient, proposal.reason)
            for proposal in proposals
            if data["add_all"] or str(proposal.patient.pk) in ticked
        ]
    access_record(
        request=request,
        what="meeting.agenda.add",
        patient_ids=[patient.pk for patient, _ in wanted],
        network_ids={meeting.network_id},
    )
    if not wanted:
        messages.error(
            request,
            "Tick the people to add." if not data["urgent"] else "That person could not be found.",
        )
        return _back_to_builder(meeting)
    current = None
    try:
        # "Add selected" adds everyone ticked or no one: each add raises the
        # revision by one, so the next expects the one after.
        with transaction.atomic():
            for offset, (patient, reason) in enumerate(wanted):
                current = patient
                services.agenda_item_add(
                    by=request.user,
                    meeting=meeting,
                    patient=patient,
                    reason=reason,
                    expected_revision=data["revision"] + offset,
                )
    except ValidationError as exc:
        _refusal(request, exc, current)
        return _back_to_builder(meeting, request.POST.get("q", "") if data["urgent"] else "")
    if len(wanted) == 1:
        messages.success(request, f"{wanted[0][0]} has been added to the agenda.")
    else:
        messages.success(request, f"{len(wanted)} people have been added to the agenda.")
    return _back_to_builder(meeting)


def _uuids(values) -> list:
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return ids


def _item_get(request, meeting_id, item_id) -> AgendaItem:
    """An item of a meeting the user may see (404 otherwise)."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    try:
        item = meeting.agenda.select_related("patient").get(pk=item_id)
    except AgendaItem.DoesNotExist as exc:
        raise Http404 from exc
    item.meeting = meeting
    return item


def _item_access(request, item: AgendaItem, what: str) -> None:
    access_record(
        request=request,
        what=what,
        patient_ids=[item.patient_id],
        network_ids={item.meeting.network_id},
    )


def _agenda_change(
    request, item: AgendaItem, what: str, change: Callable[[], str], *, announce: bool
) -> HttpResponse:
    """Make one change to the agenda (``change`` parses the form and calls one
    service, which refuses with a ValidationError) and answer.

    Without htmx (the buttons' own forms): one access event naming the item's
    person, the refusal (or, with ``announce``, what ``change`` says it did)
    as a message, and back to the builder. With htmx (the same buttons, and
    a drop in the drag-and-drop list): the builder's agenda block as it is
    now, with the refusal or what was done in it, and one access event naming
    everyone it shows, in the change's transaction. A PermissionDenied is a
    403 either way, with the item's access event."""
    if not request.htmx:
        _item_access(request, item, what)
        try:
            done = change()
        except ValidationError as exc:
            _refusal(request, exc)
        else:
            if announce:
                messages.success(request, done)
        return _back_to_builder(item.meeting)
    try:
        with transaction.atomic():
            problem = done = ""
            try:
                done = change()
            except ValidationError as exc:
                problem = " ".join(exc.messages)
            return _agenda_block(
                request,
                item,
                what,
                problem=problem,
                done=done if announce else "",
                moved="" if announce else done,
            )
    except PermissionDenied:
        _item_access(request, item, what)
        raise


def _agenda_block(request, item: AgendaItem, what: str, **said) -> HttpResponse:
    """The builder's agenda (``_agenda_table.html``) as it is now, with its
    new revision and slots, saying what happened (``problem``, ``done``,
    ``moved``: see the template); a refusal shows the agenda as it is, so
    a change made underneath is seen before the user tries again."""
    meeting = item.meeting
    meeting.refresh_from_db()
    items = _agenda(meeting)
    access_record(
        request=request,
        what=what,
        patient_ids=[item.patient_id, *(each.patient_id for each in items)],
        network_ids={meeting.network_id},
    )
    return render(
        request,
        "meetings/schedule/_agenda_table.html",
        {
            "meeting": meeting,
            "agenda": _with_slots(meeting, items),
            "buttons": meeting.status == Meeting.Status.SCHEDULED,
            **said,
        },
    )


@require_POST
def agenda_move(request, meeting_id, item_id):
    """Move an item one place up or down (the Up and Down buttons:
    ``direction``), or to a place (a drop in the drag-and-drop list:
    ``position``, 1 being first)."""
    item = _item_get(request, meeting_id, item_id)

    def move() -> str:
        to_place = "position" in request.POST
        form = (AgendaPlaceForm if to_place else AgendaMoveForm)(request.POST)
        if not form.is_valid():
            raise ValidationError(OUT_OF_DATE, code="form")
        if to_place:
            to_position = form.cleaned_data["position"]
        else:
            order = list(
                item.meeting.agenda.order_by("position", "created_at").values_list("pk", flat=True)
            )
            place = order.index(item.pk) + 1
            to_position = place - 1 if form.cleaned_data["direction"] == "up" else place + 1
        items = services.agenda_item_move(
            by=request.user,
            item=item,
            to_position=to_position,
            expected_revision=form.cleaned_data["revision"],
        )
        return f"{item.patient} is now number {items.index(item) + 1} of {len(items)}."

    return _agenda_change(request, item, "meeting.agenda.move", move, announce=False)


@require_POST
def agenda_remove(request, meeting_id, item_id):
    """Take an item off the agenda."""
    item = _item_get(request, meeting_id, item_id)

    def remove() -> str:
        form = RevisionForm(request.POST)
        if not form.is_valid():
            raise ValidationError(OUT_OF_DATE, code="form")
        who = str(item.patient)
        services.agenda_item_remove(
            by=request.user, item=item, expected_revision=form.cleaned_data["revision"]
        )
        return f"{who} has been taken off the agenda."

    return _agenda_change(request, item, "meeting.agenda.remove", remove, announce=True)


@require_POST
def agenda_publish(request, meeting_id):
    """Publish the agenda as the user saw it."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    access_record(request=request, what="meeting.agenda.publish", network_ids={meeting.network_id})
    form = RevisionForm(request.POST)
    if not form.is_valid():
        _stale_form(request)
        return _back_to_builder(meeting)
    try:
        services.agenda_publish(
            by=request.user, meeting=meeting, expected_revision=form.cleaned_data["revision"]
        )
    except ValidationError as exc:
        _refusal(request, exc)
        return _back_to_builder(meeting)
    messages.success(request, "The agenda has been published to the people invited.")
    return redirect("meetings:meeting", meeting_id=meeting.pk)
