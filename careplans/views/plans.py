"""Integrated care and support plan pages: starting a plan from an
assessment, the plan (any version), its contents, goals and care team,
proposing it, ratifying it (GP chairs), recording that it was shared, a new
version, comparing versions, the copy printed for the person, and the plans
that need attention.

Every page reads the plan through the gate (404 outside it), writes one
access event, and leaves every rule to ``careplans.plans``: a refusal there
(a ratified version, a stale revision, a role that may not) is shown to the
user, never worked around here. What the pages work out for themselves is
only which buttons to show.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from careplans import plan_selectors, plans
from careplans.models import CarePlan, CarePlanGoal, CareTeamMember
from careplans.plan_forms import (
    CONTENT_FIELDS,
    STALE_PAGE,
    GoalForm,
    PlanContentsForm,
    PlanCreateForm,
    RatifyForm,
    RevisionForm,
    ShareForm,
    TeamMemberForm,
    goal_data,
    goal_initial,
    plan_contents_data,
    plan_contents_initial,
)
from careplans.scoring import effective_answers
from careplans.selectors import episode_for_banner, patient_latest_signed
from mdtcare.accounts.models import Membership
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
from mdtcare.core.forms_errors import add_service_errors
from mdtcare.core.templatetags.nhsuk_dates import nhs_date, nhs_datetime
from patients.views.patient_forms import patient_for_page

PAGE_SIZE = 25
IN_FORCE = plan_selectors.IN_FORCE
# Who writes plans, as ``plans._require_editor`` has it: only to decide which
# buttons and forms to show. The services refuse everyone else.
WRITER_ROLES = frozenset({Membership.Role.MATRON, Membership.Role.GP_CHAIR})
NOT_A_WRITER = "Care plans are written by community matrons, GP chairs and the clinical lead."
NOT_A_CHAIR = (
    "Your role does not allow you to ratify care plans (GP chairs ratify them at the MDT)."
)


def _plan_for_page(request, plan_id, what: str) -> CarePlan:
    """The plan version through the gate (404 outside it), with its goals
    and care team, and the access event this request writes."""
    plan = plan_selectors.plan_get_for_user(user=request.user, plan_id=plan_id)
    access_record(
        request=request,
        what=what,
        patient_ids=[plan.patient_id],
        network_ids={plan.patient.practice.network_id},
    )
    return plan


def _role(request, network_id) -> str | None:
    """The user's role in the network (read with the access event: no query)."""
    return next(
        (m.role for m in memberships_cached(request=request) if m.network_id == network_id), None
    )


def _may_write(request, entry, network_id) -> bool:
    role = _role(request, network_id)
    return role in WRITER_ROLES or (role is not None and entry.clinical_lead_id == request.user.pk)


def _may_ratify(request, plan: CarePlan) -> bool:
    return _role(request, plan.patient.practice.network_id) == Membership.Role.GP_CHAIR


def _require_writer(request, plan: CarePlan) -> None:
    """Forms the user could not send are not shown (the service would
    refuse them anyway)."""
    if not _may_write(request, plan.entry, plan.patient.practice.network_id):
        raise PermissionDenied(NOT_A_WRITER)


def _not_editable(request, plan: CarePlan):
    """A ratified, shared or superseded version is changed only by a new
    version: its edit pages lead back to it."""
    messages.info(
        request,
        f"This version is {plan.status} and cannot be changed. "
        "To change the plan, make a new version.",
    )
    return redirect("careplans:plan", plan_id=plan.pk)


def _render(request, template, plan, context=None):
    """A page about one plan version: with the patient banner (and its
    episode's tags) and the plan."""
    return render(
        request,
        template,
        {"plan": plan, "patient": plan.patient, "banner_entry": plan.entry, **(context or {})},
    )


def _posted(request):
    """The form's data when it was sent (even empty), else None."""
    return request.POST if request.method == "POST" else None


def _fhir_url(plan: CarePlan) -> str:
    """The FHIR export of the API, once it is there (ARCHITECTURE.md)."""
    try:
        return reverse("careplan-fhir", args=[plan.pk])
    except NoReverseMatch:
        return ""


# --- Starting a plan ------------------------------------------------------------------------


def plan_create(request, patient_id):
    """What the plan will start with (the open episode's primary need, lead
    and navigator; the latest signed assessment's "what matters to me" as
    the goals to discuss), then the draft."""
    patient = patient_for_page(request, patient_id, "care_plan.create")
    entry = episode_for_banner(patient)
    open_entry = entry if entry is not None and entry.is_open else None
    if open_entry is not None:
        existing = plan_selectors.current_plan(
            CarePlan.objects.filter(entry=open_entry).order_by("-number")
        )
        if existing is not None:
            messages.info(
                request,
                f"{patient} already has a care plan for this episode: change it, or make a "
                "new version.",
            )
            return redirect("careplans:plan", plan_id=existing.pk)
    # As the other plan forms: not shown to whom the service would refuse it.
    network_id = patient.practice.network_id
    if not (
        _may_write(request, open_entry, network_id)
        if open_entry is not None
        else _role(request, network_id) in WRITER_ROLES
    ):
        raise PermissionDenied(NOT_A_WRITER)
    assessment = patient_latest_signed(patient)
    form = PlanCreateForm(
        _posted(request),
        patient=patient,
        initial={"from_assessment": assessment.pk if assessment else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan = plans.plan_create(
                by=request.user,
                patient=patient,
                from_assessment=form.cleaned_data["from_assessment"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Care plan for {patient} started as a draft. Go through each goal with "
                "the person: the support agreed, who provides it and by when.",
            )
            return redirect("careplans:plan", plan_id=plan.pk)
    statements = []
    if assessment is not None:
        statements = effective_answers(assessment).get("what_matters", {}).get("i_statements", [])
    return render(
        request,
        "careplans/plans/create.html",
        {
            "form": form,
            "patient": patient,
            "banner_entry": entry,
            "entry": open_entry,
            "assessment": assessment,
            "statements": statements,
            "may_write": open_entry is None
            or _may_write(request, open_entry, patient.practice.network_id),
            "review_weeks": CarePlan.Interval.SIX_WEEKS,
        },
    )


# --- The plan -------------------------------------------------------------------------------


def _plan_page(request, plan: CarePlan, *, refusal: ValidationError | None = None):
    """The plan page, with the reason when an action on it was refused."""
    form = RevisionForm()  # carries the refusal, if any, to the error summary
    if refusal is not None:
        form = RevisionForm({"revision": plan.revision})
        form.is_valid()
        add_service_errors(form, refusal)
    versions = list(plan_selectors.plan_versions(plan))
    newest = versions[0] if versions else plan
    may_write = _may_write(request, plan.entry, plan.patient.practice.network_id)
    return _render(
        request,
        "careplans/plans/plan.html",
        plan,
        {
            "form": form,
            "versions": versions,
            "current": plan_selectors.current_plan(versions),
            "newer": newest if newest.number > plan.number else None,
            "review_state": plan_selectors.review_state(plan),
            "may_edit": may_write and plan.is_editable,
            "may_propose": may_write and plan.status == CarePlan.Status.DRAFT,
            "may_ratify": _may_ratify(request, plan) and plan.status == CarePlan.Status.PROPOSED,
            "may_share": plan.status == CarePlan.Status.RATIFIED,
            "may_new_version": may_write and plan.status in IN_FORCE and newest == plan,
            "may_print": plan.status in IN_FORCE,
            "fhir_url": _fhir_url(plan),
        },
    )


@require_GET
def plan_view(request, plan_id):
    """One version of the plan: summary, goals, care team, the person's own
    plans for managing and for when things get worse, and what can be done
    with it now."""
    plan = _plan_for_page(request, plan_id, "care_plan.view")
    return _plan_page(request, plan)


# --- Contents -------------------------------------------------------------------------------


def _unsaved_rows(form, theirs: dict, labels: dict) -> list[tuple[str, str]]:
    """The user's values that differ from the ones now saved, to show them
    beside the form after a refused save (nothing typed is lost)."""
    rows = []
    for name, label in labels.items():
        if name in form.cleaned_data and form.cleaned_data[name] != theirs.get(name):
            rows.append((label, _shown(form, name, form.cleaned_data[name])))
    return rows


def _shown(form, name, value) -> str:
    """A value as the form offers it (a choice's label, a date in words)."""
    if value in (None, ""):
        return "(empty)"
    field = form.fields[name]
    if hasattr(field, "choices") and not hasattr(value, "pk"):
        return str(dict(field.choices).get(value, value))
    if hasattr(value, "year"):
        return nhs_date(value)
    if hasattr(field, "label_from_instance"):
        return field.label_from_instance(value)
    return str(value)


def plan_edit(request, plan_id):
    """The plan's contents (not its goals or care team). Several people may
    edit a draft: a save based on an older revision is refused, and the page
    then shows what is saved now, with the user's own values listed."""
    plan = _plan_for_page(request, plan_id, "care_plan.edit")
    if request.method != "POST":
        if not plan.is_editable:
            return _not_editable(request, plan)
        _require_writer(request, plan)
    form = PlanContentsForm(_posted(request), plan=plan, initial=plan_contents_initial(plan))
    unsaved = None
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields(plan)
        try:
            plans.plan_update(
                by=request.user,
                plan=plan,
                expected_revision=form.cleaned_data["revision"],
                **fields,
            )
        except plans.StalePlan as exc:
            theirs = exc.plan
            saved = PlanContentsForm(plan_contents_data(theirs), plan=plan)
            saved.is_valid()
            unsaved = _unsaved_rows(
                form,
                {name: saved.cleaned_data.get(name) for name in CONTENT_FIELDS},
                {name: form.fields[name].label for name in CONTENT_FIELDS},
            )
            form = saved
            add_service_errors(form, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The plan has been saved.")
            return redirect("careplans:plan", plan_id=plan.pk)
    return _render(request, "careplans/plans/edit.html", plan, {"form": form, "unsaved": unsaved})


# --- Goals ----------------------------------------------------------------------------------


def _goal_of(plan: CarePlan, goal_id) -> CarePlanGoal | None:
    """One of the plan's goals (prefetched with it: no query)."""
    return next((goal for goal in plan.goals.all() if goal.pk == goal_id), None)


GOAL_LABELS = {
    "what_matters": "What matters to me",
    "support_agreed": "Support agreed",
    "provider": "Practitioner",
    "provider_organisation": "Organisation or service",
    "provider_name": "Someone else",
    "target_on": "By when",
    "progress": "Progress",
}


def plan_goal(request, plan_id, goal_id=None):
    """Add a goal, or change one: the person's words, the support agreed,
    who provides it, by when, and how it is going. A target more than two
    years away is saved with a warning."""
    plan = _plan_for_page(request, plan_id, "care_plan.goal")
    goal = None
    if goal_id is not None:
        goal = _goal_of(plan, goal_id)
        if goal is None:
            raise Http404
    if request.method != "POST":
        if not plan.is_editable:
            return _not_editable(request, plan)
        _require_writer(request, plan)
    network_id = plan.patient.practice.network_id
    form = GoalForm(
        _posted(request), network_id=network_id, initial=goal_initial(goal, plan.revision)
    )
    unsaved = None
    if request.method == "POST" and form.is_valid():
        try:
            saved, warnings = plans.goal_save(
                by=request.user,
                plan=plan,
                expected_revision=form.cleaned_data["revision"],
                goal=goal,
                **form.goal_fields(),
            )
        except plans.StalePlan as exc:
            form, unsaved = _goal_refused_as_stale(form, exc, goal, network_id)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            for warning in warnings:
                messages.warning(request, warning)
            messages.success(request, f"Goal saved: “{saved.what_matters}”.")
            return redirect(reverse("careplans:plan", args=[plan.pk]) + f"#goal-{saved.pk}")
    return _render(
        request,
        "careplans/plans/goal.html",
        plan,
        {"form": form, "goal": goal, "unsaved": unsaved},
    )


def _goal_refused_as_stale(form, exc: plans.StalePlan, goal, network_id):
    """After a save refused as stale: a changed goal shows as it is saved
    now, the user's differing values listed; a new goal keeps what the user
    typed. Either way at the plan's new revision, so that saving again is a
    deliberate choice."""
    revision = exc.plan.revision
    if goal is None:
        data = form.data.copy()
        data["revision"] = str(revision)
        refused = GoalForm(data, network_id=network_id)
        refused.is_valid()
        add_service_errors(refused, exc)
        return refused, None
    current = CarePlanGoal.objects.filter(pk=goal.pk).first()
    if current is None:
        data = form.data.copy()
        data["revision"] = str(revision)
        refused = GoalForm(data, network_id=network_id)
        refused.is_valid()
        add_service_errors(refused, exc)
        refused.add_error(None, "The other person removed this goal: save it to add it again.")
        return refused, None
    saved = GoalForm(goal_data(current, revision), network_id=network_id)
    saved.is_valid()
    unsaved = _unsaved_rows(
        form, {name: saved.cleaned_data.get(name) for name in GOAL_LABELS}, GOAL_LABELS
    )
    add_service_errors(saved, exc)
    return saved, unsaved


@require_POST
def plan_goal_remove(request, plan_id, goal_id):
    plan = _plan_for_page(request, plan_id, "care_plan.goal_remove")
    goal = _goal_of(plan, goal_id)
    if goal is None:
        messages.info(request, "That goal had already been removed.")
        return redirect("careplans:plan", plan_id=plan.pk)
    form = RevisionForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, plan, refusal=ValidationError(STALE_PAGE))
    try:
        plans.goal_remove(
            by=request.user, plan=plan, goal=goal, expected_revision=form.cleaned_data["revision"]
        )
    except ValidationError as exc:
        return _plan_page(request, plan, refusal=exc)
    messages.success(request, f"Goal removed: “{goal.what_matters}”.")
    return redirect("careplans:plan", plan_id=plan.pk)


# --- The care team --------------------------------------------------------------------------


def plan_team_add(request, plan_id):
    """Add someone to the care team: a practitioner of the network, an
    organisation (the voluntary sector's included) or a name, with their role
    in this plan."""
    plan = _plan_for_page(request, plan_id, "care_plan.team_add")
    if request.method != "POST":
        if not plan.is_editable:
            return _not_editable(request, plan)
        _require_writer(request, plan)
    network_id = plan.patient.practice.network_id
    form = TeamMemberForm(
        _posted(request), network_id=network_id, initial={"revision": plan.revision}
    )
    if request.method == "POST" and form.is_valid():
        try:
            member = plans.team_member_add(
                by=request.user,
                plan=plan,
                expected_revision=form.cleaned_data["revision"],
                **form.member_fields(),
            )
        except plans.StalePlan as exc:
            data = form.data.copy()
            data["revision"] = str(exc.plan.revision)
            form = TeamMemberForm(data, network_id=network_id)
            form.is_valid()
            add_service_errors(form, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Added to the care team: {_member_name(member)}.")
            return redirect(reverse("careplans:plan", args=[plan.pk]) + "#care-team")
    return _render(request, "careplans/plans/team_add.html", plan, {"form": form})


def _member_name(member: CareTeamMember) -> str:
    return str(member.practitioner or member.organisation or member.name)


@require_POST
def plan_team_remove(request, plan_id, member_id):
    plan = _plan_for_page(request, plan_id, "care_plan.team_remove")
    member = next((m for m in plan.care_team.all() if m.pk == member_id), None)
    if member is None:
        messages.info(request, "They had already been removed from the care team.")
        return redirect("careplans:plan", plan_id=plan.pk)
    form = RevisionForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, plan, refusal=ValidationError(STALE_PAGE))
    try:
        plans.team_member_remove(
            by=request.user,
            plan=plan,
            member=member,
            expected_revision=form.cleaned_data["revision"],
        )
    except ValidationError as exc:
        return _plan_page(request, plan, refusal=exc)
    messages.success(request, f"Removed from the care team: {_member_name(member)}.")
    return redirect(reverse("careplans:plan", args=[plan.pk]) + "#care-team")


# --- Proposing, ratifying, sharing ----------------------------------------------------------


@require_POST
def plan_propose(request, plan_id):
    """Put the draft forward for ratification at the MDT. A second click
    changes nothing."""
    plan = _plan_for_page(request, plan_id, "care_plan.propose")
    already = plan.status == CarePlan.Status.PROPOSED
    try:
        plans.plan_propose(by=request.user, plan=plan)
    except ValidationError as exc:
        return _plan_page(request, plan, refusal=exc)
    if already:
        messages.info(request, "This plan has already been proposed for the MDT.")
    else:
        messages.success(
            request,
            "The plan has been proposed for the MDT. The GP chair ratifies it at the meeting.",
        )
    return redirect("careplans:plan", plan_id=plan.pk)


def _ratified_text(plan: CarePlan) -> str:
    return f"{nhs_datetime(plan.ratified_at)} by {plan.ratified_by}"


def plan_ratify(request, plan_id):
    """GP chairs ratify a proposed plan, normally at the MDT; here, from the
    plan page, with a note (why outside the meeting). Who and when are
    recorded. A second click changes nothing and says when it was done."""
    plan = _plan_for_page(request, plan_id, "care_plan.ratify")
    if plan.status in IN_FORCE:
        if request.method == "POST":
            plans.plan_ratify(by=request.user, plan=plan)  # refuses other roles
        messages.info(request, f"This plan was already ratified on {_ratified_text(plan)}.")
        return redirect("careplans:plan", plan_id=plan.pk)
    if request.method != "POST":
        if not _may_ratify(request, plan):
            raise PermissionDenied(NOT_A_CHAIR)
        if not plan.is_editable:
            messages.info(
                request,
                f"This version is {plan.status}: it cannot be ratified.",
            )
            return redirect("careplans:plan", plan_id=plan.pk)
    form = RatifyForm(_posted(request), initial={"revision": plan.revision})
    if request.method == "POST" and form.is_valid():
        stale = form.cleaned_data["revision"] != plan.revision
        if stale and _may_ratify(request, plan):
            # The chair ratifies the plan she read, not one changed since
            # (anyone else is refused by the service, below).
            form = RatifyForm({**form.data.dict(), "revision": plan.revision})
            form.is_valid()
            form.add_error(
                None,
                "Someone changed the plan after you opened this page. Read it again below, "
                "then ratify it.",
            )
        else:
            try:
                ratified = plans.plan_ratify(
                    by=request.user, plan=plan, note=form.cleaned_data["note"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Plan ratified on {_ratified_text(ratified)}.")
                return redirect("careplans:plan", plan_id=plan.pk)
    return _render(request, "careplans/plans/ratify.html", plan, {"form": form})


def plan_share(request, plan_id):
    """Record that the ratified plan was shared with the person: when, how
    and (the user) by whom."""
    plan = _plan_for_page(request, plan_id, "care_plan.share")
    if plan.status == CarePlan.Status.SHARED:
        messages.info(
            request,
            f"This plan was shared {plan.get_shared_how_display().lower()} on "
            f"{nhs_date(plan.shared_on)} by {plan.shared_by}.",
        )
        return redirect("careplans:plan", plan_id=plan.pk)
    if request.method != "POST" and plan.status != CarePlan.Status.RATIFIED:
        messages.info(request, "A plan is shared with the person once it has been ratified.")
        return redirect("careplans:plan", plan_id=plan.pk)
    form = ShareForm(_posted(request), initial={"shared_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            plans.plan_share(
                by=request.user,
                plan=plan,
                shared_on=form.cleaned_data["shared_on"],
                how=form.cleaned_data["shared_how"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Sharing recorded: the plan is now shared with the person.")
            return redirect("careplans:plan", plan_id=plan.pk)
    return _render(request, "careplans/plans/share.html", plan, {"form": form})


@require_POST
def plan_new_version(request, plan_id):
    """Copy the ratified or shared plan forward as a draft (goals and care
    team included); this version stays in force until the new one is
    ratified. A second click goes to the same draft."""
    plan = _plan_for_page(request, plan_id, "care_plan.new_version")
    try:
        draft = plans.plan_new_version(by=request.user, plan=plan)
    except ValidationError as exc:
        return _plan_page(request, plan, refusal=exc)
    messages.success(
        request,
        f"Version {draft.number} is a draft, copied from version {plan.number}. Change what is "
        "needed, then propose it for the MDT.",
    )
    return redirect("careplans:plan", plan_id=draft.pk)


# --- Comparing versions ---------------------------------------------------------------------


@require_GET
def plan_compare(request, plan_id):
    """This version against the one before it (or ``?with=`` any other
    version of the episode's plan): what changed, field by field, goal by
    goal; and every version with its status and dates."""
    plan = _plan_for_page(request, plan_id, "care_plan.compare")
    other_id = request.GET.get("with") or plan.previous_id
    other = None
    if other_id:
        try:
            other_id = uuid.UUID(str(other_id))
        except ValueError:
            raise Http404 from None
        if other_id == plan.pk:
            raise Http404
        other = plan_selectors.plan_get_for_user(user=request.user, plan_id=other_id)
        if other.entry_id != plan.entry_id:
            raise Http404
    versions = list(plan_selectors.plan_versions(plan))
    changes = None
    old = new = None
    if other is not None:
        old, new = (other, plan) if other.number < plan.number else (plan, other)
        changes = plan_selectors.plan_changes(old, new)
    return _render(
        request,
        "careplans/plans/compare.html",
        plan,
        {"other": other, "old": old, "new": new, "changes": changes, "versions": versions},
    )


# --- The person's copy ----------------------------------------------------------------------

PROGRESS_IN_WORDS = {
    CarePlanGoal.Progress.NOT_STARTED: "Not started yet",
    CarePlanGoal.Progress.ON_TRACK: "Going to plan",
    CarePlanGoal.Progress.ACHIEVED: "Done",
    CarePlanGoal.Progress.NO_LONGER_RELEVANT: "No longer needed",
}


@require_GET
def plan_print(request, plan_id):
    """The plan in plain English, to leave with the person: what matters to
    them first, in their words, with who helps and by when; what to do if
    things get worse; whom to contact; when it is looked at again."""
    plan = _plan_for_page(request, plan_id, "care_plan.print")
    if plan.status not in IN_FORCE:
        messages.info(
            request,
            "The person's copy is printed once the plan has been ratified at the MDT.",
        )
        return redirect("careplans:plan", plan_id=plan.pk)
    goals = [(goal, PROGRESS_IN_WORDS[goal.progress]) for goal in plan.goals.all()]
    # The lead and the navigator are named as the contacts already.
    contacts = {plan.clinical_lead_id, plan.navigator_id} - {None}
    team = [m for m in plan.care_team.all() if m.practitioner_id not in contacts]
    return _render(request, "careplans/plans/print.html", plan, {"goals": goals, "team": team})


# --- Plans needing attention ----------------------------------------------------------------


@require_GET
def plan_attention(request):
    """Plans of the user's networks that need someone: review overdue,
    ratified but not shared after 14 days, no clinical lead, a goal past its
    target date. Oldest review first."""
    page = Paginator(plan_selectors.plans_needing_attention(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        (plan, plan_selectors.attention_reasons(plan), plan_selectors.review_state(plan))
        for plan in page
    ]
    access_record(
        request=request,
        what="care_plan.attention",
        patient_ids=[plan.patient_id for plan, _, _ in rows],
        network_ids={plan.patient.practice.network_id for plan, _, _ in rows},
    )
    return render(request, "careplans/plans/attention.html", {"page": page, "rows": rows})
