"""Small builders for report tests: records made directly, with the dates
and times a test names (timestamps set after saving, since they are
``auto_now_add``)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from careplans.models import Assessment, CarePlan
from meetings.models import Action, AgendaItem, Attendance, Discussion, Meeting
from patients.models import RegisterEntry
from tests.factories import PatientFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")


def london(year, month, day, hour=12, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def utc(year, month, day, hour=12, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def person(practice, **fields):
    return PatientFactory(practice=practice, **fields)


def referral(patient, referred_on, *, decided_on=None, status=None, source="gp_practice"):
    if status is None:
        status = RegisterEntry.Status.ACTIVE if decided_on else RegisterEntry.Status.REFERRED
    return RegisterEntry.objects.create(
        patient=patient,
        status=status,
        source=source,
        referrer_name="Dr Test, GP",
        reason="Complex needs",
        referred_on=referred_on,
        decided_on=decided_on,
        closed_on=decided_on if status == RegisterEntry.Status.DECLINED else None,
    )


def meeting(network, day, status=Meeting.Status.CLOSED):
    return Meeting.objects.create(
        network=network,
        date=day,
        starts_at=dt.time(13, 0),
        ends_at=dt.time(15, 0),
        status=status,
        cancel_reason="Not enough members" if status == Meeting.Status.CANCELLED else "",
    )


def discussed(at, patient, by, *, reason=AgendaItem.Reason.NEW_REFERRAL, outcome="continue"):
    item = AgendaItem.objects.create(meeting=at, patient=patient, reason=reason)
    return Discussion.objects.create(item=item, outcome=outcome, recorded_by=by)


def not_reached(at, patient):
    return AgendaItem.objects.create(
        meeting=at, patient=patient, reason=AgendaItem.Reason.NEW_REFERRAL, not_reached=True
    )


def action(patient, *, created_at, due_on, completed_at=None, cancelled_at=None, owner=None):
    status = Action.Status.OPEN
    if completed_at:
        status = Action.Status.DONE
    if cancelled_at:
        status = Action.Status.CANCELLED
    made = Action.objects.create(
        patient=patient,
        what="Something to do",
        owner=owner,
        # Someone owns it: the person's practice team unless a test names one.
        owner_organisation=None if owner else patient.practice,
        due_on=due_on,
        status=status,
        completed_at=completed_at,
        cancelled_at=cancelled_at,
    )
    Action.objects.filter(pk=made.pk).update(created_at=created_at)
    return made


def attended(at, name, profession, status="present"):
    return Attendance.objects.create(meeting=at, name=name, profession=profession, status=status)


def assessment(patient, by, *, kind, assessed_on, signed_at=None):
    return Assessment.objects.create(
        patient=patient,
        kind=kind,
        assessor=by,
        assessed_on=assessed_on,
        status=Assessment.Status.COMPLETED if signed_at else Assessment.Status.DRAFT,
        signed_by=by if signed_at else None,
        signed_at=signed_at,
    )


def plan(entry, *, ratified_at=None, next_review_on, shared_on=None, previous=None, by=None):
    status = CarePlan.Status.PROPOSED
    if ratified_at:
        status = CarePlan.Status.SHARED if shared_on else CarePlan.Status.RATIFIED
    return CarePlan.objects.create(
        patient=entry.patient,
        entry=entry,
        number=previous.number + 1 if previous else 1,
        previous=previous,
        status=status,
        starts_on=(ratified_at or london(2026, 1, 1)).date(),
        next_review_on=next_review_on,
        ratified_at=ratified_at,
        ratified_by=(by or entry.patient.practice.network.memberships.first().user)
        if ratified_at
        else None,
        shared_on=shared_on,
    )
