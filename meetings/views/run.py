"""The chair's meeting screen: starting the meeting, the agenda with its
time slots, the person being discussed and the outcome form, actions and
attendance, closing the meeting, and the minutes.

Every page reads the meeting through the gate (404 outside it) and writes
one access event naming the people it shows. Who may start, record and
close is the services' rule (``_require_chair``): their PermissionDenied is
a 403 with its reason, their ValidationError is shown on the form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careplans.models import CarePlan
from careplans.plan_selectors import current_plan
from mdtcare.accounts import permissions
from mdtcare.audit.services import access_record
from mdtcare.core.forms_errors import add_service_errors
from meetings import services
from meetings.cards import patient_cards
from meetings.models import Action, AgendaItem, Discussion, DiscussionAmendment, Meeting
from meetings.run_forms import ActingForm, ActionForm, AmendForm, AttendanceForm, OutcomeForm
from meetings.selectors import meeting_get_for_user


@dataclass(frozen=True)
class Slot:
    item: AgendaItem
    number: int
    starts_at: dt.time
    ends_at: dt.time
    state: str  # "done", "current", "to_come", "not_reached"


def _agenda(meeting: Meeting) -> list[AgendaItem]:
    """The agenda with each person and their outcome: one query, however long."""
    return list(
        meeting.agenda.select_related("patient__practice", "discussion").order_by(
            "position", "created_at"
        )
    )


def _discussion(item):
    return getattr(item, "discussion", None)


def _slots(meeting: Meeting, items: list[AgendaItem], current: AgendaItem | None) -> list[Slot]:
    """The meeting's length shared equally between the items (never stored)."""
    start = dt.datetime.combine(meeting.date, meeting.starts_at)
    length = dt.datetime.combine(meeting.date, meeting.ends_at) - start
    each = length / max(len(items), 1)
    slots = []
    for index, item in enumerate(items):
        if current is not None and item.pk == current.pk:
            state = "current"
        elif _discussion(item) is not None:
            state = "done"
        elif item.not_reached:
            state = "not_reached"
        else:
            state = "to_come"
        slots.append(
            Slot(
                item,
                index + 1,
                (start + each * index).time(),
                (start + each * (index + 1)).time(),
                state,
            )
        )
    return slots


@dataclass(frozen=True)
class Clock:
    """The time now against the current item's slot, for the chair."""

    now: dt.datetime
    slot: Slot | None
    # Minutes past the end of the current slot (0 when on time).
    minutes_over: int
    running: bool


def _clock(meeting: Meeting, slots: list[Slot]) -> Clock:
    now = timezone.localtime()
    slot = next((each for each in slots if each.state == "current"), None)
    running = meeting.status == Meeting.Status.IN_PROGRESS and now.date() == meeting.date
    over = 0
    if running and slot is not None:
        ends = timezone.make_aware(dt.datetime.combine(meeting.date, slot.ends_at))
        over = max(0, int((now - ends).total_seconds() // 60))
    return Clock(now, slot, over, running)


def _meeting_for_page(request, meeting_id, what: str, patient_ids=None, *, roles=None, action=""):
    """The meeting through the gate, its agenda, and the access event naming
    the people shown (everyone on the agenda unless said otherwise); with
    ``roles``, 403 for a role the page's service would refuse."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    if roles is not None:
        permissions.require_page_role(
            request=request, network_id=meeting.network_id, roles=roles, action=action
        )
    items = _agenda(meeting)
    access_record(
        request=request,
        what=what,
        patient_ids=[item.patient_id for item in items] if patient_ids is None else patient_ids,
        network_ids={meeting.network_id},
    )
    return meeting, items


def _patient_card(item: AgendaItem) -> dict:
    """What the chair needs about the person: the card of ``meetings.cards``
    (a fixed number of queries), for the partial; with the plan (the outcome
    form offers to ratify a proposed one) and the banner's person and episode."""
    card = patient_cards([item])[item.pk]
    return {"card": card, "patient": card.patient, "banner_entry": card.entry, "plan": card.plan}


def _next_item(items, after: AgendaItem | None):
    """The first item still to discuss after ``after`` (or from the top)."""
    ordered = items
    if after is not None:
        index = next(i for i, item in enumerate(items) if item.pk == after.pk)
        ordered = items[index + 1 :] + items[: index + 1]
    return next(
        (
            item
            for item in ordered
            if _discussion(item) is None and item.pk != getattr(after, "pk", None)
        ),
        None,
    )


def _acting(form) -> str:
    return form.cleaned_data.get("acting_reason", "") if form.is_valid() else ""


@require_http_methods(["GET", "POST"])
def meeting_run(request, meeting_id):
    """The screen opens on the first person still to discuss; "Start
    meeting" is posted here."""
    if request.method == "POST":
        meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
        access_record(request=request, what="meeting.start", network_ids={meeting.network_id})
        form = ActingForm(request.POST)
        form.is_valid()
        try:
            services.meeting_start(
                by=request.user,
                meeting=meeting,
                acting_reason=form.cleaned_data.get("acting_reason", ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "The meeting has started.")
        return redirect("meetings:meeting_run", meeting_id=meeting.pk)
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    items = _agenda(meeting)
    current = _next_item(items, None) or (items[0] if items else None)
    if current is not None:
        return _screen(request, meeting, items, current, "meeting.run")
    access_record(request=request, what="meeting.run", network_ids={meeting.network_id})
    return render(
        request,
        "meetings/run/run.html",
        {
            "meeting": meeting,
            "slots": [],
            "start_form": ActingForm(),
            "may_close": _may_close(request, meeting),
        },
    )


def _may_close(request, meeting) -> bool:
    """Whether to offer "Close meeting": to whoever may run it."""
    return (
        meeting.status == Meeting.Status.IN_PROGRESS
        and permissions.page_role(request=request, network_id=meeting.network_id)
        in services.CHAIR_ROLES
    )


def _screen(request, meeting, items, current, what, forms=None, status=200):
    """Render the screen for ``current``; the access event names the agenda."""
    access_record(
        request=request,
        what=what,
        patient_ids=[item.patient_id for item in items],
        network_ids={meeting.network_id},
    )
    return _render_screen(request, meeting, items, current, forms, status)


def _render_screen(request, meeting, items, current, forms=None, status=200):
    card = _patient_card(current)
    plan = card["plan"]
    may_ratify = plan is not None and plan.status == CarePlan.Status.PROPOSED
    discussion = _discussion(current)
    forms = forms or {}
    if "outcome" not in forms:
        initial = {}
        if discussion is not None:
            initial = {
                "summary": discussion.summary,
                "decisions": discussion.decisions,
                "outcome": discussion.outcome,
                "primary_need": discussion.primary_need,
                "clinical_lead": discussion.clinical_lead_id,
                "next_review_on": discussion.next_review_on,
                "revision": discussion.revision,
            }
        forms["outcome"] = OutcomeForm(
            initial=initial, network_id=meeting.network_id, may_ratify=may_ratify
        )
    forms.setdefault("action", ActionForm(network_id=meeting.network_id))
    forms.setdefault("attendance", AttendanceForm(network_id=meeting.network_id))
    slots = _slots(meeting, items, current)
    index = next(i for i, slot in enumerate(slots) if slot.state == "current")
    item_actions = (
        list(discussion.actions.select_related("owner", "owner_organisation"))
        if discussion is not None
        else []
    )
    return render(
        request,
        "meetings/run/run.html",
        {
            "meeting": meeting,
            "slots": slots,
            "clock": _clock(meeting, slots),
            "previous_slot": slots[index - 1] if index > 0 else None,
            "next_slot": slots[index + 1] if index + 1 < len(slots) else None,
            "item": current,
            "discussion": discussion,
            "item_actions": item_actions,
            "attendance": list(meeting.attendance.all()),
            "start_form": ActingForm(),
            "may_close": _may_close(request, meeting),
            "outcome_form": forms["outcome"],
            "action_form": forms["action"],
            "attendance_form": forms["attendance"],
            **card,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def meeting_run_item(request, meeting_id, item_id):
    """One person's discussion. The POST's ``form`` says which form was
    sent: the outcome ("Save and next patient"), an action, or attendance."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    items = _agenda(meeting)
    current = next((item for item in items if item.pk == item_id), None)
    if current is None:
        raise Http404("No such item on this agenda")
    current.meeting = meeting
    if request.method == "GET":
        return _screen(request, meeting, items, current, "meeting.run")
    access_record(
        request=request,
        what="meeting.record",
        patient_ids=[item.patient_id for item in items],
        network_ids={meeting.network_id},
    )
    sent = request.POST.get("form", "outcome")
    if sent == "action":
        return _post_action(request, meeting, items, current)
    if sent == "attendance":
        return _post_attendance(request, meeting, items, current)
    return _post_outcome(request, meeting, items, current)


def _post_outcome(request, meeting, items, current):
    plan = current_plan(CarePlan.objects.filter(patient_id=current.patient_id).order_by("-number"))
    form = OutcomeForm(
        request.POST,
        network_id=meeting.network_id,
        may_ratify=plan is not None and plan.status == CarePlan.Status.PROPOSED,
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.discussion_save(
                by=request.user,
                item=current,
                outcome=data["outcome"],
                summary=data["summary"],
                decisions=data["decisions"],
                next_review_on=data["next_review_on"],
                expected_revision=data["revision"],
                acting_reason=data["acting_reason"],
                ratify_plan=data.get("ratify_plan", False),
                primary_need=data["primary_need"],
                clinical_lead=data["clinical_lead"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            saved = _discussion(current)
            if getattr(exc, "code", None) == "stale" and saved is not None:
                # Shown with the revision now saved: saving again replaces theirs knowingly.
                form.data = form.data.copy()
                form.data["revision"] = saved.revision
        else:
            messages.success(request, f"Outcome for {current.patient} saved.")
            if request.POST.get("then") == "stay":
                # To add the discussion's actions before moving on.
                return redirect(
                    "meetings:meeting_run_item", meeting_id=meeting.pk, item_id=current.pk
                )
            following = _next_item(_agenda(meeting), current)
            if following is None:
                return redirect("meetings:meeting_close", meeting_id=meeting.pk)
            return redirect(
                "meetings:meeting_run_item", meeting_id=meeting.pk, item_id=following.pk
            )
    return _render_screen(request, meeting, items, current, {"outcome": form}, status=400)


def _post_action(request, meeting, items, current):
    form = ActionForm(request.POST, network_id=meeting.network_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            added = services.action_add(
                by=request.user,
                item=current,
                what=data["what"],
                due_on=data["due_on"],
                owner=data["owner"],
                owner_organisation=data["owner_organisation"],
                priority=data["priority"],
                acting_reason=data["acting_reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Action added: {added.action.what}")
            for warning in added.warnings:
                messages.warning(request, warning)
            return redirect("meetings:meeting_run_item", meeting_id=meeting.pk, item_id=current.pk)
    return _render_screen(request, meeting, items, current, {"action": form}, status=400)


def _post_attendance(request, meeting, items, current):
    form = AttendanceForm(request.POST, network_id=meeting.network_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.attendance_record(
                by=request.user,
                meeting=meeting,
                user=data["user"],
                name=data["name"],
                status=data["status"],
                acting_reason=data["acting_reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Attendance recorded.")
            return redirect("meetings:meeting_run_item", meeting_id=meeting.pk, item_id=current.pk)
    return _render_screen(request, meeting, items, current, {"attendance": form}, status=400)


@require_http_methods(["GET", "POST"])
def meeting_close(request, meeting_id):
    """First what will be carried forward, then the close."""
    meeting, items = _meeting_for_page(
        request,
        meeting_id,
        "meeting.close",
        roles=services.CHAIR_ROLES,
        action="close the meeting",
    )
    carried = [item for item in items if _discussion(item) is None]
    form = ActingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_close(
                by=request.user,
                meeting=meeting,
                acting_reason=form.cleaned_data["acting_reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The meeting is closed. The minutes are below.")
            return redirect("meetings:meeting_minutes", meeting_id=meeting.pk)
    return render(
        request,
        "meetings/run/close.html",
        {"meeting": meeting, "carried": carried, "form": form},
        status=400 if form.errors else 200,
    )


AMENDED_LABELS = {
    "outcome": "Outcome",
    "summary": "Summary",
    "decisions": "Decisions",
    "next_review_on": "Next review date",
}


def _amendment_changes(amendment: DiscussionAmendment) -> list[tuple[str, str, str]]:
    """What a correction changed, in words: (field, before, after)."""
    outcomes = dict(Discussion.Outcome.choices)

    def shown(field, value):
        if field == "outcome":
            return outcomes.get(value, value)
        if field == "next_review_on" and value:
            return dt.date.fromisoformat(value).strftime("%-d %B %Y")
        return value or ""

    return [
        (label, shown(field, amendment.before.get(field)), shown(field, amendment.after.get(field)))
        for field, label in AMENDED_LABELS.items()
        if field in amendment.after
    ]


@require_http_methods(["GET"])
def meeting_minutes(request, meeting_id):
    """Printable minutes: attendance, then one section per person."""
    meeting, items = _meeting_for_page(request, meeting_id, "meeting.minutes")
    actions = {}
    for action in Action.objects.filter(discussion__item__meeting=meeting).select_related(
        "owner", "owner_organisation"
    ):
        actions.setdefault(action.discussion_id, []).append(action)
    amendments = {}
    for amendment in DiscussionAmendment.objects.filter(
        discussion__item__meeting=meeting
    ).select_related("created_by"):
        amendment.changes = _amendment_changes(amendment)
        amendments.setdefault(amendment.discussion_id, []).append(amendment)
    sections = [
        (
            item,
            _discussion(item),
            actions.get(_discussion(item).pk, []),
            amendments.get(_discussion(item).pk, []),
        )
        for item in items
        if _discussion(item) is not None
    ]
    not_reached = [item for item in items if _discussion(item) is None]
    return render(
        request,
        "meetings/run/minutes.html",
        {
            "meeting": meeting,
            "attendance": list(meeting.attendance.all()),
            "sections": sections,
            "not_reached": not_reached,
            "may_amend": meeting.status == Meeting.Status.CLOSED
            and permissions.page_role(request=request, network_id=meeting.network_id)
            in services.AMENDERS,
        },
    )


@require_http_methods(["GET", "POST"])
def discussion_amend(request, meeting_id, item_id):
    """Correct one outcome of a closed meeting, with the reason."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    permissions.require_page_role(
        request=request,
        network_id=meeting.network_id,
        roles=services.AMENDERS,
        action="correct MDT outcomes",
    )
    item = (
        meeting.agenda.select_related("patient__practice", "discussion")
        .filter(pk=item_id, discussion__isnull=False)
        .first()
    )
    if item is None:
        raise Http404("No outcome for this item")
    access_record(
        request=request,
        what="meeting.outcome.amend",
        patient_ids=[item.patient_id],
        network_ids={meeting.network_id},
    )
    discussion = item.discussion
    if request.method == "POST":
        form = AmendForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.discussion_amend(
                    by=request.user,
                    discussion=discussion,
                    reason=data["reason"],
                    expected_revision=data["revision"],
                    outcome=data["outcome"],
                    summary=data["summary"],
                    decisions=data["decisions"],
                    next_review_on=data["next_review_on"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"The outcome for {item.patient} is corrected.")
                return redirect("meetings:meeting_minutes", meeting_id=meeting.pk)
    else:
        form = AmendForm(
            initial={
                "outcome": discussion.outcome,
                "summary": discussion.summary,
                "decisions": discussion.decisions,
                "next_review_on": discussion.next_review_on,
                "revision": discussion.revision,
            }
        )
    return render(
        request,
        "meetings/run/amend.html",
        {"meeting": meeting, "item": item, "discussion": discussion, "form": form},
        status=400 if form.errors else 200,
    )
