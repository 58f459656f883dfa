"""Reading holistic assessments, always through the access gate, and the
scores as the pages show them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch

from careplans import instruments
from careplans.forms import AnswerRow, answer_rows, answers_differing
from careplans.models import Assessment, AssessmentAmendment
from careplans.scoring import ScoreChange, effective_answers, score_changes
from careplans.sections import SECTIONS, Section, section_state
from mdtcare.core.gate import get_visible_or_404
from patients.models import Patient, RegisterEntry


def assessment_get_for_user(*, user, assessment_id) -> Assessment:
    """One assessment through the gate (404 outside it or unknown), with
    everything its pages show in a fixed number of queries: the patient and
    practice, assessor and signer, its amendments with who made them, and
    the previous assessment with its amendments (for the change since)."""
    amendments = AssessmentAmendment.objects.select_related("created_by").order_by(
        "created_at", "id"
    )
    return get_visible_or_404(
        Assessment.objects.select_related(
            "patient", "patient__practice", "assessor", "signed_by", "previous"
        ).prefetch_related(
            Prefetch("amendments", queryset=amendments),
            Prefetch("previous__amendments", queryset=amendments),
        ),
        user,
        pk=assessment_id,
    )


def assessment_drafts(*, user):
    """The user's own drafts, latest first, to resume."""
    return (
        Assessment.objects.visible_to(user)
        .filter(assessor=user, status=Assessment.Status.DRAFT)
        .select_related("patient", "patient__practice")
        .order_by("-updated_at", "-created_at")
    )


def assessments_completed(*, user):
    """Signed assessments of the user's networks, the latest signed first."""
    return (
        Assessment.objects.visible_to(user)
        .filter(status=Assessment.Status.COMPLETED)
        .select_related("patient", "patient__practice", "assessor", "signed_by")
        .order_by("-signed_at", "-created_at")
    )


def patient_drafts(patient: Patient) -> list[Assessment]:
    """Drafts of this person already started (by anyone), so that nobody
    starts a second one unawares."""
    return list(
        Assessment.objects.filter(patient=patient, status=Assessment.Status.DRAFT)
        .select_related("assessor")
        .order_by("-created_at")[:5]
    )


def patient_latest_signed(patient: Patient) -> Assessment | None:
    """The assessment a new one would start from (as the service picks it)."""
    return (
        Assessment.objects.filter(patient=patient, status=Assessment.Status.COMPLETED)
        .order_by("-assessed_on", "-signed_at")
        .first()
    )


def episode_for_banner(patient: Patient) -> RegisterEntry | None:
    """The open episode, or the latest one (one query)."""
    entries = list(
        RegisterEntry.objects.filter(patient=patient).order_by("-referred_on", "-created_at")
    )
    return next((entry for entry in entries if entry.is_open), entries[0] if entries else None)


# --- The task list --------------------------------------------------------------------

STATE_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "completed": "Completed",
}


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    mandatory: bool
    state: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def assessment_tasks(assessment: Assessment) -> list[Task]:
    """Every section with its state (not started, in progress, completed)."""
    return [
        Task(
            section.key,
            section.title,
            section.mandatory,
            section_state(section, assessment.answers),
        )
        for section in SECTIONS
    ]


# --- Answers section by section ----------------------------------------------------


@dataclass(frozen=True)
class AmendmentChange:
    question: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class AmendmentView:
    amendment: AssessmentAmendment
    changes: list[AmendmentChange]


@dataclass(frozen=True)
class SectionAnswers:
    """A section's answers as a summary list shows them; for a signed
    assessment, as amended, with each amendment and the signed original."""

    section: Section
    state: str
    rows: list[AnswerRow]
    amended_keys: frozenset[str] = frozenset()
    amendments: tuple[AmendmentView, ...] = ()
    original_rows: tuple[AnswerRow, ...] = ()

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def _amendment_view(section_key: str, amendment: AssessmentAmendment) -> AmendmentView:
    keys = answers_differing(amendment.before, amendment.after)
    before = {row.key: row for row in answer_rows(section_key, amendment.before, keys)}
    after = answer_rows(section_key, amendment.after, keys)
    return AmendmentView(
        amendment,
        [AmendmentChange(row.question, before[row.key].lines, row.lines) for row in after],
    )


def assessment_sections(assessment: Assessment) -> list[SectionAnswers]:
    """Every section's answers (as amended, for a signed assessment), from
    the prefetched amendments: no query of its own."""
    answers = effective_answers(assessment)
    amendments: dict[str, list[AssessmentAmendment]] = {}
    if assessment.is_signed:
        for amendment in assessment.amendments.all():
            amendments.setdefault(amendment.section, []).append(amendment)
    result = []
    for section in SECTIONS:
        own = amendments.get(section.key, [])
        views = tuple(_amendment_view(section.key, amendment) for amendment in own)
        result.append(
            SectionAnswers(
                section=section,
                state=section_state(section, answers),
                rows=answer_rows(section.key, answers.get(section.key, {})),
                amended_keys=frozenset(
                    change_key
                    for amendment in own
                    for change_key in answers_differing(amendment.before, amendment.after)
                ),
                amendments=views,
                original_rows=tuple(
                    answer_rows(section.key, assessment.answers.get(section.key, {}))
                )
                if own
                else (),
            )
        )
    return result


# --- Scores as the pages show them ---------------------------------------------------

# The two-item screens are shown only while the full instrument is incomplete.
_SCREENS = {"phq2": "phq9", "gad2": "gad7"}


def score_text(key: str, score: instruments.Score | None) -> str:
    """A score as staff read it: "14/20 (moderate dependency)", "6 (Living
    with moderate frailty)", "2 falls", or "incomplete"."""
    if score is None:
        return ""
    if not score.complete:
        return "incomplete"
    if key == "cfs":
        return f"{score.total} ({score.band})"
    if key == "falls":
        return f"{score.total} fall" + ("" if score.total == 1 else "s")
    return f"{score.total}/{score.maximum}" + (f" ({score.band})" if score.band else "")


@dataclass(frozen=True)
class ScoreLine:
    """One instrument now and, for a re-assessment, at the previous one."""

    key: str
    name: str
    current: instruments.Score
    previous: instruments.Score | None
    change: int | None

    @property
    def text(self) -> str:
        return score_text(self.key, self.current)

    @property
    def previous_text(self) -> str:
        return score_text(self.key, self.previous)

    @property
    def change_text(self) -> str:
        """For example "14 → 11 (-3)" (written with a true minus sign, U+2212);
        "" when either score is incomplete."""
        if self.change is None:
            return ""
        if self.change == 0:
            return f"{self.previous.total} → {self.current.total} (no change)"
        sign = "+" if self.change > 0 else "\u2212"
        return f"{self.previous.total} → {self.current.total} ({sign}{abs(self.change)})"

    @property
    def flags(self) -> tuple[str, ...]:
        return self.current.flags


def score_lines(assessment: Assessment) -> list[ScoreLine]:
    """The instruments' scores from the answers (as amended), with the
    previous assessment's beside them for a re-assessment. A two-item
    screen (PHQ-2, GAD-2) appears only when it is complete and its full
    questionnaire is not (the short form was asked)."""
    changes: list[ScoreChange] = score_changes(assessment)
    complete = {change.key for change in changes if change.current.complete}
    return [
        ScoreLine(change.key, change.name, change.current, change.previous, change.change)
        for change in changes
        if change.key not in _SCREENS
        or (change.key in complete and _SCREENS[change.key] not in complete)
    ]


def section_score_lines(assessment: Assessment, keys: list[str]) -> list[ScoreLine]:
    """The score lines of the instruments a section page shows."""
    return [line for line in score_lines(assessment) if line.key in keys]


# --- The summary for the person, in words ----------------------------------------------


@dataclass(frozen=True)
class PlainScore:
    heading: str
    sentence: str
    since_last_time: str = ""


_PLAIN_BANDS = {
    "barthel": {
        "independent": "you manage everyday tasks on your own",
        "mild dependency": "you need a little help with some everyday tasks",
        "moderate dependency": "you need some help with everyday tasks",
        "severe dependency": "you need a lot of help with everyday tasks",
        "very severe dependency": "you need help with almost all everyday tasks",
    },
    "phq9": {
        "minimal": "few or no signs of low mood",
        "mild": "some signs of low mood",
        "moderate": "signs of low mood that are affecting you",
        "moderately severe": "signs of low mood that are affecting you a lot",
        "severe": "signs of low mood that are affecting you very much",
    },
    "gad7": {
        "minimal": "few or no signs of anxiety",
        "mild": "some signs of anxiety",
        "moderate": "signs of anxiety that are affecting you",
        "severe": "signs of anxiety that are affecting you a lot",
    },
}
_PLAIN_HEADINGS = {
    "cfs": "How you are managing day to day",
    "barthel": "Everyday activities",
    "phq9": "Mood",
    "gad7": "Worry and anxiety",
    "falls": "Falls",
}


def _since_last_time(line: ScoreLine, previous_on: dt.date | None) -> str:
    """The change in words, without judging it: what it means is for the
    conversation with the professional."""
    if line.change is None:
        return ""
    when = f"on {previous_on.day} {previous_on:%B %Y}" if previous_on else "last time"
    if line.change == 0:
        return f"This is the same as {when}."
    count = abs(line.change)
    if line.key == "falls":
        more = "more" if line.change > 0 else "fewer"
        return f"That is {count} {more} than {when}, when it was {line.previous.total}."
    points = "point" if count == 1 else "points"
    direction = "higher" if line.change > 0 else "lower"
    return f"That is {count} {points} {direction} than {when}, when it was {line.previous.total}."


def plain_scores(lines: list[ScoreLine], previous_on: dt.date | None = None) -> list[PlainScore]:
    """The scores in plain English for the person's printed summary: no
    abbreviations without their meaning, no internal bands."""
    plain = []
    for line in lines:
        if line.key not in _PLAIN_HEADINGS or not line.current.complete:
            continue
        score = line.current
        if line.key == "cfs":
            sentence = (
                f"On the Clinical Frailty Scale, which runs from 1 (very fit) to 9 "
                f"(terminally ill), you scored {score.total}: "
                f"{score.band[0].lower()}{score.band[1:]}."
            )
        elif line.key == "barthel":
            sentence = (
                f"On the Barthel index of everyday activities you scored {score.total} out of "
                f"{score.maximum}: {_PLAIN_BANDS['barthel'].get(score.band, score.band)}."
            )
        elif line.key in ("phq9", "gad7"):
            name = (
                "mood questionnaire (PHQ-9)"
                if line.key == "phq9"
                else "anxiety questionnaire (GAD-7)"
            )
            sentence = (
                f"On the {name} you scored {score.total} out of {score.maximum}, "
                f"where a higher score means more difficulty: "
                f"{_PLAIN_BANDS[line.key].get(score.band, score.band)}."
            )
        else:
            sentence = (
                "You told us you have not fallen in the last 12 months."
                if not score.total
                else f"You told us about {score.total} fall{'s' if score.total != 1 else ''} "
                "in the last 12 months."
            )
            if any("Timed Up and Go" in flag for flag in score.flags):
                sentence += (
                    " The walking test (getting up from a chair, walking 3 metres and back) "
                    f"took more than {instruments.TUG_FLAG_SECONDS} seconds, which means a "
                    "higher chance of falling."
                )
        plain.append(
            PlainScore(_PLAIN_HEADINGS[line.key], sentence, _since_last_time(line, previous_on))
        )
    return plain
