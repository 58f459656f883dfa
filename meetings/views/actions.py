"""The worklists: "My actions" (every role) and the navigator's worklist of
every action in her networks (navigators, admins and GP chairs), each row
with Start, Complete (with an optional note), Reassign and Cancel (with a
note); and adding an action for a person outside a meeting.

The buttons are plain POST forms that work without JavaScript (the change,
then back to the list with a message). With htmx the same forms are sent
in the background and answered with the list block as it is now (its
section counts, rows and pages), saying what was done or why it was
refused.

Every page reads actions through the gate (another network's action: 404)
and writes one access event naming the people it shows. Every rule is
``meetings.actions``'s: a refusal there is shown to the user (a
PermissionDenied is a 403 with its reason), never worked around here. What
the pages work out for themselves is which buttons to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careplans.plan_forms import (
    OrganisationChoiceField,
    PractitionerChoiceField,
    network_practitioners,
    plan_organisations,
)
from mdtcare.accounts.models import Organisation, User
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
from mdtcare.core.forms import DateInputField
from mdtcare.core.forms_errors import add_service_errors
from meetings import action_selectors as selectors
from meetings import actions as services
from meetings.models import Action
from patients.selectors import patient_get_for_user

NOT_FOR_ROLE = (
    "The worklist of every action in a network is for care navigators, admins and GP chairs. "
    "Your own actions are under “My actions”."
)
OUT_OF_DATE = "This page was out of date. Check the action as it is now, then try again."
MINE, WORKLIST = "mine", "worklist"
LIST_URLS = {MINE: "meetings:my_actions", WORKLIST: "meetings:worklist"}
DONE_SAID = {
    "start": "{patient}: the action is in progress.",
    "complete": "{patient}: the action is done.",
    "reassign": "{patient}: the action has been given to {owner}.",
    "cancel": "{patient}: the action has been cancelled.",
}


# --- forms: they parse what was sent; the rules are the services' --------------------------


class ChangeForm(forms.Form):
    """What every row's button sends: the action as the user saw it (a
    change based on an older one is refused), and the list to go back to."""

    expected_status = forms.ChoiceField(choices=Action.Status.choices, required=False)
    expected_updated_at = forms.DateTimeField(required=False)
    next = forms.CharField(required=False, max_length=2000)
    list = forms.ChoiceField(choices=[(MINE, MINE), (WORKLIST, WORKLIST)], required=False)

    def expected(self) -> dict:
        return {
            "expected_status": self.cleaned_data["expected_status"] or None,
            "expected_updated_at": self.cleaned_data["expected_updated_at"],
        }


class CompleteForm(ChangeForm):
    note = forms.CharField(label="Note (optional)", max_length=1000, required=False)


class CancelForm(ChangeForm):
    # Required by the service, which says so in its own words.
    note = forms.CharField(label="Why is it cancelled?", max_length=1000, required=False)


class ReassignForm(ChangeForm):
    owner = forms.ModelChoiceField(queryset=User.objects.all(), required=False)
    owner_organisation = forms.ModelChoiceField(queryset=Organisation.objects.all(), required=False)
    note = forms.CharField(max_length=1000, required=False)

    def clean(self):
        cleaned = super().clean()
        # "Choose a person" or "an organisation": a choice of both is a person.
        if cleaned.get("owner") and cleaned.get("owner_organisation"):
            cleaned["owner_organisation"] = None
        return cleaned


class ActionCreateForm(forms.Form):
    what = forms.CharField(
        label="What needs to be done",
        max_length=500,
        error_messages={"required": "Enter what needs to be done"},
    )
    source = forms.ChoiceField(
        label="Where does it come from?",
        choices=[
            (value, label)
            for value, label in Action.Source.choices
            if value in services.SOURCES_OUTSIDE_MEETINGS
        ],
        initial=Action.Source.OTHER,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose where the action comes from"},
    )
    owner = PractitionerChoiceField(
        label="Owner",
        help_text="A member of the person's network, or else an organisation below.",
        queryset=None,
        required=False,
        empty_label="Choose a person",
    )
    owner_organisation = OrganisationChoiceField(
        label="Or an organisation",
        help_text="A team, when no one person will own it yet.",
        queryset=None,
        required=False,
        empty_label="Choose an organisation",
    )
    due_on = DateInputField(label="Due date", help_text="For example 26 2 2026")
    priority = forms.ChoiceField(
        label="Priority",
        choices=Action.Priority.choices,
        initial=Action.Priority.ROUTINE,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, network_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = network_practitioners(network_id)
        self.fields["owner_organisation"].queryset = plan_organisations(network_id)


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One action as a worklist shows it, with the buttons the user gets
    (the services check again). Who it can be reassigned to is asked for
    when Reassign is opened (``action_reassign``'s form), not sent with
    every row: a network has hundreds of people."""

    action: Action
    due: str  # "overdue", "soon" (due this week) or ""
    may_start: bool
    may_complete: bool
    may_manage: bool

    @property
    def owner_inactive(self) -> bool:
        return self.action.owner is not None and not self.action.owner.is_active

    @property
    def meeting(self):
        discussion = self.action.discussion
        return discussion.item.meeting if discussion is not None else None


def _roles(request) -> dict:
    """The user's role in each of their networks (the header's memberships:
    no query)."""
    return {m.network_id: m.role for m in memberships_cached(request=request)}


def _rows(request, actions: list[Action]) -> list[Row]:
    """The rows, with the buttons each gets (no query)."""
    roles = _roles(request)
    today = timezone.localdate()
    user = request.user
    rows = []
    for action in actions:
        still_to_do = action.status in services.STILL_TO_DO
        due = ""
        if action.overdue:
            due = "overdue"
        elif still_to_do and action.due_on <= today + selectors.WEEK:
            due = "soon"
        rows.append(
            Row(
                action=action,
                due=due,
                may_start=action.status == Action.Status.OPEN,
                may_complete=still_to_do,
                may_manage=still_to_do
                and services.may_manage(
                    role=roles.get(action.patient.practice.network_id), action=action, user=user
                ),
            )
        )
    return rows


def _may_see_worklist(request) -> bool:
    return any(role in selectors.WORKLIST_ROLES for role in _roles(request).values())


def _read_list(request, kind: str, query: QueryDict):
    filters = selectors.WorklistFilters.from_query(query)
    read = selectors.worklist if kind == WORKLIST else selectors.my_actions
    return read(
        user=request.user,
        filters=filters,
        page_number=query.get("page"),
        network_ids=list(_roles(request)),
    )


def _link(url: str, query: dict) -> str:
    return f"{url}?{urlencode(query)}" if query else url


def _list_context(request, kind: str, listing, *, path: str, **said) -> dict:
    """What the list block (``_list.html``) draws: its sections with their
    counts, rows and pages, each link keeping the filters (the block is also
    drawn in answer to a button, whose own query string is not the list's)."""
    url = reverse(LIST_URLS[kind])
    filters, page = listing.filters, listing.page
    return {
        "kind": kind,
        "listing": listing,
        "filters": filters,
        "rows": _rows(request, listing.actions),
        "list_path": path,
        "list_url": url,
        "sections": [
            (key, label, count, _link(url, filters.as_query(section=key)), key == filters.section)
            for key, label, count in listing.sections
        ],
        "previous_url": _link(url, {**filters.as_query(), "page": page.previous_page_number()})
        if page.has_previous()
        else "",
        "next_url": _link(url, {**filters.as_query(), "page": page.next_page_number()})
        if page.has_next()
        else "",
        **said,
    }


# --- the pages --------------------------------------------------------------------------------


def _several_networks(request) -> bool:
    return len(memberships_cached(request=request)) > 1


@require_GET
def my_actions(request):
    """The user's actions and their team's, by section (still to do,
    overdue, done lately), a page at a time."""
    listing = _read_list(request, MINE, request.GET)
    access_record(
        request=request,
        what="actions.mine",
        patient_ids=[a.patient_id for a in listing.actions],
        network_ids={a.patient.practice.network_id for a in listing.actions},
    )
    context = _list_context(request, MINE, listing, path=request.get_full_path())
    context.update(
        scopes=selectors.SCOPES,
        sorts=selectors.SORT_CHOICES,
        priorities=Action.Priority.choices,
        has_team=request.user.organisation_id is not None,
        may_see_worklist=_may_see_worklist(request),
    )
    return render(request, "meetings/actions/mine.html", context)


@require_GET
def worklist(request):
    """Every action of the people of the user's networks, by section
    (still to do, overdue, due this week, unassigned, done lately), with
    filters and sorting, a page at a time."""
    if not _may_see_worklist(request):
        raise PermissionDenied(NOT_FOR_ROLE)
    listing = _read_list(request, WORKLIST, request.GET)
    access_record(
        request=request,
        what="actions.worklist",
        patient_ids=[a.patient_id for a in listing.actions],
        network_ids={a.patient.practice.network_id for a in listing.actions},
    )
    context = _list_context(request, WORKLIST, listing, path=request.get_full_path())
    context.update(
        networks=[m.network for m in memberships_cached(request=request)],
        several_networks=_several_networks(request),
        owners=selectors.worklist_owners(user=request.user),
        sorts=selectors.SORT_CHOICES,
        priorities=Action.Priority.choices,
        statuses=[(s, label) for s, label in Action.Status.choices if s in services.STILL_TO_DO],
    )
    return render(request, "meetings/actions/worklist.html", context)


# --- the buttons ------------------------------------------------------------------------------


def _back(request, form: ChangeForm) -> tuple[str, str]:
    """The list the button was on (``list`` and ``next``), as (kind, path):
    a path of this site only, else the user's own list."""
    data = form.cleaned_data if form.is_valid() else {}
    kind = data.get("list") or MINE
    if kind == WORKLIST and not _may_see_worklist(request):
        kind = MINE
    path = data.get("next") or ""
    own = reverse(LIST_URLS[kind])
    if not (
        url_has_allowed_host_and_scheme(path, allowed_hosts={request.get_host()})
        and urlsplit(path).path == own
    ):
        path = own
    return kind, path


def _change(request, action_id, what: str, form_class, change) -> HttpResponse:
    """Make one change to an action (``change(form, action)`` calls one
    service and returns what to say) and answer.

    Without htmx: the change (or its refusal, as a message) and back to the
    list, with one access event naming the action's person. With htmx: the
    list block as it is now, saying what was done or why not, and one
    access event naming the action's person and everyone the block shows,
    in the change's transaction. A PermissionDenied is a 403 either way,
    with the action's access event."""
    action = selectors.action_get_for_user(user=request.user, action_id=action_id)
    network_ids = {action.patient.practice.network_id}
    form = form_class(request.POST)
    kind, path = _back(request, form)
    try:
        with transaction.atomic():
            problem = done = ""
            if not form.is_valid():
                problem = OUT_OF_DATE
            else:
                try:
                    done = change(form, action)
                except ValidationError as exc:
                    problem = " ".join(exc.messages)
            if not request.htmx:
                access_record(
                    request=request,
                    what=f"action.{what}",
                    patient_ids=[action.patient_id],
                    network_ids=network_ids,
                )
                if problem:
                    messages.error(request, f"{action.patient}: {problem}")
                else:
                    messages.success(request, done)
                return redirect(path)
            query = QueryDict(urlsplit(path).query)
            listing = _read_list(request, kind, query)
            access_record(
                request=request,
                what=f"action.{what}",
                patient_ids=[action.patient_id, *(a.patient_id for a in listing.actions)],
                network_ids=network_ids | {a.patient.practice.network_id for a in listing.actions},
            )
            return render(
                request,
                "meetings/actions/_list.html",
                _list_context(
                    request,
                    kind,
                    listing,
                    path=path,
                    problem=f"{action.patient}: {problem}" if problem else "",
                    done=done,
                ),
            )
    except PermissionDenied:
        access_record(
            request=request,
            what=f"action.{what}",
            patient_ids=[action.patient_id],
            network_ids=network_ids,
        )
        raise


@require_POST
def action_start(request, action_id):
    def change(form, action):
        services.action_start(by=request.user, action=action, **form.expected())
        return DONE_SAID["start"].format(patient=action.patient)

    return _change(request, action_id, "start", ChangeForm, change)


@require_POST
def action_complete(request, action_id):
    def change(form, action):
        services.action_complete(
            by=request.user, action=action, note=form.cleaned_data["note"], **form.expected()
        )
        return DONE_SAID["complete"].format(patient=action.patient)

    return _change(request, action_id, "complete", CompleteForm, change)


def _reassign_form(request, action_id):
    """Who the action can go to: the people and teams of its person's
    network, with a note. Without JavaScript a page of its own (from the
    row's Reassign link); with htmx the form alone, inside the row's
    Reassign. Sent, it is the row's button (``_change``)."""
    action = selectors.action_get_for_user(user=request.user, action_id=action_id)
    network_id = action.patient.practice.network_id
    role = _roles(request).get(network_id)
    if not services.may_manage(role=role, action=action, user=request.user):
        raise PermissionDenied(services.NOT_A_MANAGER)
    if action.status not in services.STILL_TO_DO:
        raise PermissionDenied(
            f"This action is {action.get_status_display().lower()}: it cannot be reassigned."
        )
    access_record(
        request=request,
        what="action.reassign_form",
        patient_ids=[action.patient_id],
        network_ids={network_id},
    )
    kind, path = _back(request, ChangeForm(request.GET))
    people, organisations = selectors.owner_choices(network_ids={network_id}).for_network(
        network_id
    )
    return render(
        request,
        "meetings/actions/_reassign_form.html"
        if request.htmx
        else "meetings/actions/reassign.html",
        {
            "row": Row(action, "", False, False, True),
            "kind": kind,
            "list_path": path,
            "people": [person for person in people if person.pk != action.owner_id],
            "organisations": organisations,
        },
    )


@require_http_methods(["GET", "POST"])
def action_reassign(request, action_id):
    if request.method == "GET":
        return _reassign_form(request, action_id)

    def change(form, action):
        data = form.cleaned_data
        changed = services.action_reassign(
            by=request.user,
            action=action,
            owner=data["owner"],
            owner_organisation=data["owner_organisation"],
            note=data["note"],
            **form.expected(),
        )
        owner = changed.owner or changed.owner_organisation.name
        return DONE_SAID["reassign"].format(patient=action.patient, owner=owner)

    return _change(request, action_id, "reassign", ReassignForm, change)


@require_POST
def action_cancel(request, action_id):
    def change(form, action):
        services.action_cancel(
            by=request.user, action=action, note=form.cleaned_data["note"], **form.expected()
        )
        return DONE_SAID["cancel"].format(patient=action.patient)

    return _change(request, action_id, "cancel", CancelForm, change)


# --- adding an action outside a meeting -------------------------------------------------------


def action_create(request, patient_id):
    """Add an action for a person from their record (a care plan, a review,
    or anything else): any member of their network."""
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    network_id = patient.practice.network_id
    form = ActionCreateForm(
        request.POST if request.method == "POST" else None, network_id=network_id
    )
    with transaction.atomic():
        access_record(
            request=request,
            what="action.create",
            patient_ids=[patient.pk],
            network_ids={network_id},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                added = services.action_create(
                    by=request.user,
                    patient=patient,
                    what=data["what"],
                    due_on=data["due_on"],
                    owner=data["owner"],
                    owner_organisation=data["owner_organisation"],
                    priority=data["priority"],
                    source=data["source"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The action has been added.")
                for warning in added.warnings:
                    messages.warning(request, warning)
                return redirect(reverse("patients:detail", args=[patient.pk]) + "#actions")
    return render(request, "meetings/actions/new.html", {"patient": patient, "form": form})
