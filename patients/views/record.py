"""The patient record page: the banner, then tabs for the overview, the
holistic assessments, the care plan, the parts later work fills (MDT
discussions, actions) and the timeline."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import render
from django.views.decorators.http import require_GET

from careplans import instruments, plan_selectors
from careplans.models import Assessment, CarePlan, CarePlanGoal
from careplans.scoring import assessment_scores, effective_answers
from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
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


def _summary(assessment: Assessment, before: Assessment | None = None) -> AssessmentSummary:
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
        rows=[_summary(assessment) for assessment in assessments],
        latest_signed=_summary(signed[0], signed[1] if len(signed) > 1 else None)
        if signed
        else None,
        draft=next((a for a in assessments if a.status == Assessment.Status.DRAFT), None),
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
            "actions": _actions(
                request,
                patient,
                current,
                draft=assessments.draft,
                has_plan=care_plan.plan is not None,
            ),
        },
    )
