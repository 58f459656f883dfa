"""Reading an assessment's answers and scores: the answers as amended, the
instruments' scores, and the change since the previous assessment."""

from __future__ import annotations

from dataclasses import dataclass

from careplans import instruments
from careplans.models import Assessment


def effective_answers(assessment: Assessment) -> dict:
    """The signed answers with each section's latest amendment in place
    (uses prefetched amendments when there are any)."""
    answers = {key: dict(value) for key, value in (assessment.answers or {}).items()}
    if assessment.pk and assessment.is_signed:
        for amendment in assessment.amendments.all():  # oldest first
            answers[amendment.section] = dict(amendment.after)
    return answers


def assessment_scores(answers: dict) -> dict[str, instruments.Score]:
    """Every instrument's score from the answers; "incomplete" where any of
    its items is unanswered."""
    function = answers.get("function", {})
    mood = answers.get("mood", {})
    return {
        "cfs": instruments.cfs_score(answers.get("frailty", {}).get("cfs")),
        "barthel": instruments.BARTHEL.score(function),
        "phq9": instruments.PHQ9.score(mood),
        "phq2": instruments.two_item_screen(instruments.PHQ9, mood, "phq2"),
        "gad7": instruments.GAD7.score(mood),
        "gad2": instruments.two_item_screen(instruments.GAD7, mood, "gad2"),
        "falls": instruments.falls_score(answers.get("falls", {})),
    }


SCORE_NAMES = {
    "cfs": "Clinical Frailty Scale",
    "barthel": "Barthel index",
    "phq9": "PHQ-9",
    "phq2": "PHQ-2",
    "gad7": "GAD-7",
    "gad2": "GAD-2",
    "falls": "Falls in 12 months",
}


@dataclass(frozen=True)
class ScoreChange:
    key: str
    name: str
    previous: instruments.Score | None
    current: instruments.Score

    @property
    def change(self) -> int | None:
        if self.previous is None or self.previous.total is None or self.current.total is None:
            return None
        return self.current.total - self.previous.total


def score_changes(assessment: Assessment) -> list[ScoreChange]:
    """Each instrument now and at the previous assessment (e.g. Barthel 14 → 11)."""
    current = assessment_scores(effective_answers(assessment))
    previous = (
        assessment_scores(effective_answers(assessment.previous)) if assessment.previous else {}
    )
    return [
        ScoreChange(key, SCORE_NAMES[key], previous.get(key), score)
        for key, score in current.items()
    ]
