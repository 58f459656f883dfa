"""The patient record page: the banner, then tabs for the overview, the
holistic assessments, the care plan, the MDT discussions, the actions and
the timeline."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from careplans import instruments, plan_selectors
from careplans.models import Assessment, CarePlan, CarePlanGoal
from careplans.scoring import assessment_scores, effective_answers
from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
from meetings.models import Action, AgendaItem, Discussion, Meeting
from patients import selectors
from patients.models import Consent, RegisterEntry
from patients.timeline import patient_timeline


@dataclass(frozen=True)
class RecordActions:
    """Which action links the page offers the user, by their role in the
    patient's network. The services check again: this only spares people
    links that would refuse them."""

    change_details: bool
    refer: bool
    triage: bool
    manage_episode: bool
    access_log: bool
    # Start an assessment (a re-assessment once one is signed); not while a
    # draft is open, which is resumed instead, nor for someone who has died.
    start_assessment: bool
    resume_draft: bool
    # Start the care plan of the open episode when it has none: matrons, GP
    # chairs and the episode's clinical lead write plans.
    start_plan: bool


def _actions(
    request,
    patient,
    current: RegisterEntry | None,
    *,
    draft: Assessment | None,
    has_plan: bool,
) -> RecordActions:
    role = next(
        (
            membership.role
            for membership in memberships_cached(request=request)
            if membership.network_id == patient.practice.network_id
        ),
        None,
    )
    is_open = current is not None and current.is_open
    user = request.user
    return RecordActions(
        change_details=role in permissions.ALL_ROLES,
        refer=role in permissions.ALL_ROLES and not is_open and not patient.date_of_death,
        triage=(
            role in permissions.TRIAGE_ROLES
            and is_open
            and current.status == RegisterEntry.Status.REFERRED
        ),
        manage_episode=role in permissions.REGISTER_KEEPERS and is_open,
        # The admin page of who accessed the record needs both; checking
        # is_staff first spares everyone else the permission queries.
        access_log=user.is_staff and user.has_perm("audit.view_accessevent"),
        start_assessment=(
            role in permissions.ALL_ROLES and draft is None and not patient.date_of_death
        ),
        resume_draft=role in permissions.ALL_ROLES and draft is not None,
        start_plan=(
            is_open
            and not has_plan
            and not patient.date_of_death
            and (
                role in (Membership.Role.MATRON, Membership.Role.GP_CHAIR)
                or (role is not None and current.clinical_lead_id == user.pk)
            )
        ),
    )


# --- the care plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordPlan:
    """The care plan the record shows for the current episode: the version
    in force, else its newest draft or proposal, else (an episode that has
    ended) its newest version; with its review state ("overdue", "due" or
    "") and a newer version being written while it is in force."""

    plan: CarePlan | None
    review: str
    newer: CarePlan | None
    goals: tuple[CarePlanGoal, ...]


def _record_plan(patient, current: RegisterEntry | None) -> RecordPlan:
    """From the prefetched plan versions and goals: no query of its own."""
    versions = [
        plan for plan in patient.care_plans.all() if current and plan.entry_id == current.pk
    ]  # newest first
    plan = plan_selectors.current_plan(versions) or (versions[0] if versions else None)
    if plan is None:
        return RecordPlan(plan=None, review="", newer=None, goals=())
    return RecordPlan(
        plan=plan,
        # Only an open episode has a review to come.
        review=plan_selectors.review_state(plan) if current.is_open else "",
        newer=next((v for v in versions if v.number > plan.number and v.is_editable), None),
        goals=tuple(plan.goals.all()),
    )


# --- holistic assessments -------------------------------------------------------------------

# The scores the record shows, in this order, by their short names.
KEY_SCORES = (
    ("cfs", "CFS"),
    ("barthel", "Barthel"),
    ("phq9", "PHQ-9"),
    ("gad7", "GAD-7"),
    ("falls", "Falls"),
)


@dataclass(frozen=True)
class ScoreLine:
    """One instrument's score on the record, with the score it had at the
    assessment before (when there is one) for the change since."""

    key: str
    label: str
    score: instruments.Score
    previous: instruments.Score | None = None

    @property
    def short(self) -> str:
        """``14/20``; ``6`` for the frailty level and the number of falls."""
        if not self.score.complete:
            return "incomplete"
        if self.key in ("cfs", "falls"):
            return str(self.score.total)
        return f"{self.score.total}/{self.score.maximum}"

    @property
    def text(self) -> str:
        """``14/20 (moderate dependency)``, ``6 (living with moderate frailty)``."""
        if not self.score.complete:
            return "incomplete"
        if self.key == "falls":
            return f"{self.score.total} in 12 months"
        band = self.score.band
        return f"{self.short} ({band[:1].lower()}{band[1:]})" if band else self.short

    @property
    def change(self) -> int | None:
        if self.previous is None or not self.previous.complete or not self.score.complete:
            return None
        return self.score.total - self.previous.total


@dataclass(frozen=True)
class AssessmentSummary:
    """An assessment as the record lists it: its key scores (from the
    answers as amended) and whether PHQ-9 item 9 was answered above zero."""

    assessment: Assessment
    lines: tuple[ScoreLine, ...]
    self_harm: bool
    # The signed assessment before this one, for the change since.
    before: Assessment | None = None

    @property
    def flags(self) -> list[str]:
        return [flag for line in self.lines for flag in line.score.flags]


def assessment_summary(
    assessment: Assessment, before: Assessment | None = None
) -> AssessmentSummary:
    answers = effective_answers(assessment)  # from the prefetched amendments
    scores = assessment_scores(answers)
    previous = assessment_scores(effective_answers(before)) if before else {}
    return AssessmentSummary(
        assessment=assessment,
        lines=tuple(
            ScoreLine(key, label, scores[key], previous.get(key)) for key, label in KEY_SCORES
        ),
        self_harm=instruments.phq9_self_harm_flag(answers.get("mood", {})),
        before=before,
    )


@dataclass(frozen=True)
class RecordAssessments:
    rows: list[AssessmentSummary]  # latest first
    latest_signed: AssessmentSummary | None
    draft: Assessment | None


def _record_assessments(patient) -> RecordAssessments:
    """From the prefetched assessments: no query of its own."""
    assessments = list(patient.assessments.all())  # latest first
    signed = [assessment for assessment in assessments if assessment.is_signed]
    return RecordAssessments(
        rows=[assessment_summary(assessment) for assessment in assessments],
        latest_signed=assessment_summary(signed[0], signed[1] if len(signed) > 1 else None)
        if signed
        else None,
        draft=next((a for a in assessments if a.status == Assessment.Status.DRAFT), None),
    )


# --- MDT discussions and actions -------------------------------------------------------------


@dataclass(frozen=True)
class RecordAction:
    action: Action
    overdue: bool

    @property
    def still_to_do(self) -> bool:
        return self.action.status in (Action.Status.OPEN, Action.Status.IN_PROGRESS)


@dataclass(frozen=True)
class RecordDiscussion:
    """One time the person was on an MDT agenda that met: the discussion and
    the actions agreed in it, or (``discussion`` None) not reached, so
    carried forward."""

    item: AgendaItem  # with its meeting
    discussion: Discussion | None
    actions: tuple[RecordAction, ...]


@dataclass(frozen=True)
class RecordMeetings:
    rows: list[RecordDiscussion]  # newest meeting first
    # The next meeting the person is on the agenda of (not yet discussed).
    next_item: AgendaItem | None
    # Every action for the person: still to do first (soonest due), then
    # done or cancelled (latest due first).
    actions: list[RecordAction]

    @property
    def last_discussed(self) -> RecordDiscussion | None:
        return next((row for row in self.rows if row.discussion is not None), None)

    @property
    def open_count(self) -> int:
        return sum(1 for each in self.actions if each.still_to_do)

    @property
    def overdue_count(self) -> int:
        return sum(1 for each in self.actions if each.overdue)


def _record_meetings(user, patient) -> RecordMeetings:
    """Two queries, however many meetings and actions: the person's agenda
    items (with meeting and outcome) and their actions, both through the
    gate."""
    today = timezone.localdate()
    items = list(
        AgendaItem.objects.visible_to(user)
        .filter(patient=patient)
        .exclude(meeting__status=Meeting.Status.CANCELLED)
        .select_related(
            "meeting", "discussion", "discussion__clinical_lead", "discussion__ratified_plan"
        )
        .order_by("-meeting__date", "-meeting__starts_at")
    )
    actions = [
        RecordAction(
            action,
            overdue=action.due_on < today
            and action.status in (Action.Status.OPEN, Action.Status.IN_PROGRESS),
        )
        for action in Action.objects.visible_to(user)
        .filter(patient=patient)
        .select_related("owner", "owner_organisation", "discussion__item__meeting")
        .order_by("due_on", "created_at")
    ]
    by_discussion: dict = {}
    for each in actions:
        by_discussion.setdefault(each.action.discussion_id, []).append(each)
    rows = []
    waiting = []
    for item in items:
        discussion = getattr(item, "discussion", None)
        if discussion is not None:
            rows.append(
                RecordDiscussion(item, discussion, tuple(by_discussion.get(discussion.pk, ())))
            )
        elif item.not_reached:
            rows.append(RecordDiscussion(item, None, ()))
        elif item.meeting.status != Meeting.Status.CLOSED and item.meeting.date >= today:
            waiting.append(item)  # newest first: the soonest is the last
    done = [each for each in actions if not each.still_to_do]
    return RecordMeetings(
        rows=rows,
        next_item=waiting[-1] if waiting else None,
        actions=[each for each in actions if each.still_to_do] + done[::-1],
    )


@require_GET
def patient_record(request, patient_id):
    # Through the gate, with every sub-record the page shows: 404 if the
    # patient is outside the user's networks or unknown.
    patient = selectors.patient_record(user=request.user, patient_id=patient_id)
    access_record(
        request=request,
        what="patient.view",
        patient_ids=[patient.pk],
        network_ids={patient.practice.network_id},
    )
    episodes = list(patient.entries.all())  # newest first
    current = selectors.open_entry(patient) or (episodes[0] if episodes else None)
    in_force = selectors.consents_in_force(patient)
    # The score before the latest one, for the change since last time.
    history = list(patient.risk_scores.all())  # newest first
    previous_risk = history[1] if len(history) > 1 and patient.risk_score is not None else None
    assessments = _record_assessments(patient)
    care_plan = _record_plan(patient, current)
    meetings = _record_meetings(request.user, patient)
    return render(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "banner_entry": current,
            "banner_review": care_plan.review,
            "current_entry": current,
            "episodes": episodes,
            "consents": [(label, in_force.get(topic)) for topic, label in Consent.Topic.choices],
            "conditions": list(patient.conditions.all()),
            "carers": list(patient.carers.all()),
            "risk_band": selectors.risk_band_of(patient.risk_score),
            "previous_risk": previous_risk,
            "risk_change": patient.risk_score - previous_risk.score if previous_risk else None,
            "timeline": patient_timeline(patient),
            "assessments": assessments,
            "care_plan": care_plan,
            "meetings": meetings,
            "actions": _actions(
                request,
                patient,
                current,
                draft=assessments.draft,
                has_plan=care_plan.plan is not None,
            ),
        },
    )
