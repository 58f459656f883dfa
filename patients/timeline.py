"""A person's timeline: what happened to them on the register, newest first.

Built from the sub-records ``selectors.patient_record`` has already fetched,
so it runs no query of its own however long the history is. It reads what
the register holds today: referrals and each change of an episode's status,
consent decisions, risk scores, long-term conditions as they were recorded,
holistic assessments, and the person's being added to the register (and
their death). Later work adds plans, MDT discussions and actions here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from patients.models import EntryStatus, Patient
from patients.selectors import risk_band_of


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened.

    ``on`` is the day it happened as recorded (a referral or consent decision
    may be recorded days later); ``recorded_at`` orders events of the same
    day, and is shown as a time only when ``show_time`` (the time is the
    event's own, not when someone typed it in)."""

    on: dt.date
    recorded_at: dt.datetime
    kind: str
    kind_label: str
    title: str
    detail: str = ""
    by: str = ""
    show_time: bool = False

    @property
    def sort_key(self) -> tuple[dt.date, dt.datetime]:
        return (self.on, self.recorded_at)


def _name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _referral_events(patient: Patient):
    for entry in patient.entries.all():
        detail = " · ".join(
            part
            for part in (
                entry.get_source_display(),
                "Urgent" if entry.urgency == entry.Urgency.URGENT else "",
                entry.reason,
            )
            if part
        )
        yield TimelineEvent(
            on=entry.referred_on,
            recorded_at=entry.created_at,
            kind="referral",
            kind_label="Referral",
            title="Referred to the register",
            detail=detail,
            by=entry.referrer_name,
        )
        for change in entry.status_changes.all():
            # The change into "referred" is the referral itself, shown above
            # with its source and reason.
            if not change.from_status:
                continue
            yield TimelineEvent(
                on=timezone.localdate(change.at),
                recorded_at=change.at,
                kind="status",
                kind_label="Episode",
                title=(
                    f"{EntryStatus(change.from_status).label} → "
                    f"{EntryStatus(change.to_status).label}"
                ),
                detail=change.reason,
                by=_name(change.by),
                show_time=True,
            )


def _consent_events(patient: Patient):
    for consent in patient.consents.all():
        yield TimelineEvent(
            on=consent.decided_on,
            recorded_at=consent.created_at,
            kind="consent",
            kind_label="Consent",
            title=f"{consent.get_topic_display()}: {consent.get_decision_display().lower()}",
            detail=consent.note,
            by=_name(consent.recorded_by),
        )


def _risk_events(patient: Patient):
    for score in patient.risk_scores.all():
        band = risk_band_of(score.score)
        yield TimelineEvent(
            on=score.scored_on,
            recorded_at=score.imported_at,
            kind="risk",
            kind_label="Risk score",
            title=f"Risk score {score.score} ({band.label.lower()})",
            detail=score.get_frailty_category_display(),
            by=_name(score.imported_by) or "Risk-stratification import",
        )


def _condition_events(patient: Patient):
    for record in patient.conditions.all():
        diagnosed = record.diagnosed_on
        yield TimelineEvent(
            on=timezone.localdate(record.created_at),
            recorded_at=record.created_at,
            kind="condition",
            kind_label="Long-term condition",
            title=f"{record.condition.name} recorded",
            detail=f"Diagnosed {diagnosed.day} {diagnosed:%B %Y}" if diagnosed else "",
            by=_name(record.created_by),
            show_time=True,
        )


def _assessment_events(patient: Patient):
    for assessment in patient.assessments.all():
        signed = assessment.is_signed
        yield TimelineEvent(
            on=assessment.assessed_on,
            recorded_at=assessment.signed_at or assessment.created_at,
            kind="assessment",
            kind_label="Assessment",
            title=f"{assessment.get_kind_display()} " + ("signed" if signed else "started (draft)"),
            detail=assessment.get_setting_display()
            + (f" · with {assessment.people_present}" if assessment.people_present else ""),
            by=_name(assessment.assessor),
        )


def _person_events(patient: Patient):
    yield TimelineEvent(
        on=timezone.localdate(patient.created_at),
        recorded_at=patient.created_at,
        kind="person",
        kind_label="Register",
        title="Added to the register",
        by=_name(patient.created_by),
        show_time=True,
    )
    if patient.date_of_death:
        yield TimelineEvent(
            on=patient.date_of_death,
            # Last among the events of that day.
            recorded_at=timezone.make_aware(
                dt.datetime.combine(patient.date_of_death, dt.time.max)
            ),
            kind="death",
            kind_label="Death",
            title="Died",
        )


def patient_timeline(patient: Patient) -> list[TimelineEvent]:
    """Every event of the person's record, newest first.

    ``patient`` must come from ``selectors.patient_record`` (its sub-records
    prefetched): this function then runs no query."""
    events = [
        *_referral_events(patient),
        *_consent_events(patient),
        *_risk_events(patient),
        *_condition_events(patient),
        *_assessment_events(patient),
        *_person_events(patient),
    ]
    return sorted(events, key=lambda event: event.sort_key, reverse=True)
