"""Running the meeting: attendance, actions, and outcomes that ratify the
plan or change the episode's allocation."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from careplans.models import CarePlan
from meetings import services
from meetings.models import Action, Attendance, Discussion
from patients.models import RegisterEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def open_episode(patient):
    return RegisterEntry.objects.create(
        patient=patient,
        status="active",
        source="gp_practice",
        referrer_name="Dr",
        reason="x",
        referred_on=TODAY,
    )


def proposed_plan(patient, entry):
    return CarePlan.objects.create(
        patient=patient,
        entry=entry,
        status=CarePlan.Status.PROPOSED,
        starts_on=TODAY,
        next_review_on=TODAY + dt.timedelta(days=42),
    )


@pytest.fixture
def running(navigator, chair, network_a, practice_a):
    meeting = services.meeting_schedule(
        by=navigator,
        network=network_a,
        date=TODAY,
        starts_at=dt.time(9),
        ends_at=dt.time(11),
    ).meetings[0]
    patient = PatientFactory(practice=practice_a)
    item = services.agenda_item_add(by=navigator, meeting=meeting, patient=patient, reason="urgent")
    services.meeting_start(by=chair, meeting=meeting)
    item.meeting.refresh_from_db()
    return item


def test_attendance_records_a_member_once_and_a_guest_by_name(chair, matron, running):
    meeting = running.meeting
    services.attendance_record(by=chair, meeting=meeting, user=matron)
    services.attendance_record(by=chair, meeting=meeting, user=matron, status="apologies")
    services.attendance_record(by=chair, meeting=meeting, name="Ann Social Worker")
    with pytest.raises(ValidationError, match="name"):
        services.attendance_record(by=chair, meeting=meeting, name=" ")

    assert sorted(Attendance.objects.values_list("status", flat=True)) == ["apologies", "present"]


def test_only_the_chair_records_attendance(navigator, running):
    with pytest.raises(PermissionDenied):
        services.attendance_record(by=navigator, meeting=running.meeting, name="Someone")


def test_an_action_needs_an_owner_and_the_outcome_first(chair, matron, running):
    tomorrow = TODAY + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="Save the outcome"):
        services.action_add(by=chair, item=running, what="Call", due_on=tomorrow, owner=matron)
    services.discussion_save(by=chair, item=running, outcome="continue")

    with pytest.raises(ValidationError) as refused:
        services.action_add(by=chair, item=running, what="Call", due_on=tomorrow)
    assert "owner" in refused.value.message_dict

    added = services.action_add(
        by=chair, item=running, what="Call", due_on=tomorrow, owner=matron, priority="high"
    )
    assert added.warnings == ()
    assert added.action.patient == running.patient
    assert added.action.source == "discussion"


def test_an_action_already_overdue_is_added_with_a_warning(chair, matron, running):
    services.discussion_save(by=chair, item=running, outcome="continue")

    added = services.action_add(
        by=chair, item=running, what="Chase", due_on=TODAY - dt.timedelta(days=2), owner=matron
    )

    assert "overdue" in added.warnings[0]
    assert Action.objects.count() == 1


def test_an_owner_outside_the_network_is_refused(chair, outsider, running):
    services.discussion_save(by=chair, item=running, outcome="continue")
    with pytest.raises(ValidationError, match="member of this network"):
        services.action_add(by=chair, item=running, what="x", due_on=TODAY, owner=outsider)


def test_the_discussion_ratifies_the_proposed_plan(chair, running):
    entry = open_episode(running.patient)
    plan = proposed_plan(running.patient, entry)

    discussion = services.discussion_save(
        by=chair, item=running, outcome="continue", ratify_plan=True
    )

    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.RATIFIED and plan.ratified_by == chair
    assert discussion.ratified_plan == plan


def test_ratifying_without_a_proposed_plan_is_refused_and_nothing_is_saved(chair, running):
    open_episode(running.patient)
    with pytest.raises(ValidationError, match="no proposed plan"):
        services.discussion_save(by=chair, item=running, outcome="continue", ratify_plan=True)
    assert not Discussion.objects.filter(item=running).exists()


def test_the_discussion_sets_the_primary_need_and_clinical_lead(chair, matron, running):
    entry = open_episode(running.patient)

    discussion = services.discussion_save(
        by=chair, item=running, outcome="continue", primary_need="frailty", clinical_lead=matron
    )

    entry.refresh_from_db()
    assert (entry.primary_need, entry.clinical_lead) == ("frailty", matron)
    assert (discussion.primary_need, discussion.clinical_lead) == ("frailty", matron)
