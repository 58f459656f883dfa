"""Scheduling MDT meetings and building their agendas."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from mdtcare.notifications.models import Notification
from meetings import services
from meetings.models import AgendaItem, Discussion, Meeting
from meetings.selectors import agenda_proposals
from patients.models import RegisterEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
NINE, TEN, ELEVEN = dt.time(9), dt.time(10), dt.time(11)


def _meeting(by, network, day=None, **kwargs):
    day = day or TODAY + dt.timedelta(days=7)
    return services.meeting_schedule(
        by=by, network=network, date=day, starts_at=NINE, ends_at=ELEVEN, **kwargs
    ).meetings[0]


def test_a_fortnightly_series_makes_one_meeting_each_fortnight(navigator, network_a):
    scheduled = services.meeting_schedule(
        by=navigator,
        network=network_a,
        date=TODAY + dt.timedelta(days=1),
        starts_at=NINE,
        ends_at=ELEVEN,
        frequency="fortnightly",
        until=TODAY + dt.timedelta(days=60),
    )

    dates = [meeting.date for meeting in scheduled.meetings]
    assert dates == [TODAY + dt.timedelta(days=1 + 14 * n) for n in range(5)]
    assert len({meeting.series_id for meeting in scheduled.meetings}) == 1


def test_a_meeting_must_end_after_it_starts(navigator, network_a):
    with pytest.raises(ValidationError, match="end after it starts"):
        services.meeting_schedule(
            by=navigator, network=network_a, date=TODAY, starts_at=TEN, ends_at=NINE
        )


def test_an_overlapping_meeting_is_scheduled_with_a_warning(navigator, network_a):
    _meeting(navigator, network_a)

    scheduled = services.meeting_schedule(
        by=navigator,
        network=network_a,
        date=TODAY + dt.timedelta(days=7),
        starts_at=TEN,
        ends_at=dt.time(12),
    )

    assert "overlaps" in scheduled.warnings[0]


def test_members_and_outsiders_cannot_schedule(outsider, matron, network_a):
    for user in (outsider, matron):
        with pytest.raises(PermissionDenied):
            _meeting(user, network_a)


def test_one_meeting_of_a_series_is_cancelled_alone(navigator, network_a):
    scheduled = services.meeting_schedule(
        by=navigator,
        network=network_a,
        date=TODAY + dt.timedelta(days=1),
        starts_at=NINE,
        ends_at=ELEVEN,
        frequency="weekly",
        until=TODAY + dt.timedelta(days=15),
    )

    with pytest.raises(ValidationError, match="why"):
        services.meeting_cancel(by=navigator, meeting=scheduled.meetings[1], reason="")
    services.meeting_cancel(by=navigator, meeting=scheduled.meetings[1], reason="Bank holiday")

    statuses = list(Meeting.objects.order_by("date").values_list("status", flat=True))
    assert statuses == ["scheduled", "cancelled", "scheduled"]


def test_the_agenda_refuses_other_networks_and_duplicates(
    navigator, network_a, practice_a, practice_b
):
    meeting = _meeting(navigator, network_a)
    patient = PatientFactory(practice=practice_a)

    services.agenda_item_add(by=navigator, meeting=meeting, patient=patient, reason="urgent")
    with pytest.raises(ValidationError, match="already"):
        services.agenda_item_add(by=navigator, meeting=meeting, patient=patient, reason="urgent")
    with pytest.raises(ValidationError, match="another network"):
        services.agenda_item_add(
            by=navigator,
            meeting=meeting,
            patient=PatientFactory(practice=practice_b),
            reason="urgent",
        )
    assert meeting.agenda.count() == 1


def test_items_move_and_a_stale_change_is_refused(navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    items = [
        services.agenda_item_add(
            by=navigator,
            meeting=meeting,
            patient=PatientFactory(practice=practice_a),
            reason="urgent",
        )
        for _ in range(3)
    ]
    meeting.refresh_from_db()
    seen = meeting.revision

    services.agenda_item_move(by=navigator, item=items[2], to_position=1, expected_revision=seen)

    assert list(meeting.agenda.values_list("pk", flat=True)) == [
        items[2].pk,
        items[0].pk,
        items[1].pk,
    ]
    with pytest.raises(services.StaleAgenda):
        services.agenda_item_remove(by=navigator, item=items[0], expected_revision=seen)


def test_publishing_tells_the_invited_members_once(navigator, matron, chair, network_a, practice_a):
    meeting = _meeting(navigator, network_a, invited=[matron, chair])
    with pytest.raises(ValidationError, match="Add people"):
        services.agenda_publish(by=navigator, meeting=meeting)
    services.agenda_item_add(
        by=navigator, meeting=meeting, patient=PatientFactory(practice=practice_a), reason="urgent"
    )

    services.agenda_publish(by=navigator, meeting=meeting)
    services.agenda_publish(by=navigator, meeting=meeting)

    assert set(
        Notification.objects.filter(kind="agenda_published").values_list(
            "recipient__username", flat=True
        )
    ) == {"matron", "chair"}
    assert Notification.objects.filter(kind="agenda_published").count() == 2


def test_proposals_come_with_their_reasons(navigator, chair, network_a, practice_a):
    def patient_with(status):
        patient = PatientFactory(practice=practice_a)
        RegisterEntry.objects.create(
            patient=patient,
            status=status,
            source="gp_practice",
            referrer_name="Dr",
            reason="x",
            referred_on=TODAY,
        )
        return patient

    carried, relisted, new = (patient_with("active") for _ in range(3))
    patient_with("referred")  # not accepted yet: not proposed
    last = Meeting.objects.create(
        network=network_a,
        date=TODAY - dt.timedelta(days=7),
        starts_at=NINE,
        ends_at=ELEVEN,
        status="closed",
    )
    AgendaItem.objects.create(meeting=last, patient=carried, reason="urgent", not_reached=True)
    item = AgendaItem.objects.create(meeting=last, patient=relisted, reason="new_referral")
    Discussion.objects.create(item=item, outcome="relist", recorded_by=chair)
    meeting = _meeting(navigator, network_a)

    proposals = {p.patient: p.reason for p in agenda_proposals(meeting)}

    assert proposals == {
        carried: "carried_forward",
        relisted: "relisted",
        new: "new_referral",
    }


# --- running the meeting --------------------------------------------------------


@pytest.fixture
def agenda(navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a, day=TODAY)
    items = [
        services.agenda_item_add(
            by=navigator,
            meeting=meeting,
            patient=PatientFactory(practice=practice_a),
            reason="urgent",
        )
        for _ in range(2)
    ]
    return meeting, items


@pytest.mark.parametrize("persona", ["matron", "navigator", "outsider"])
def test_only_a_gp_chair_starts_the_meeting(request, agenda, persona):
    with pytest.raises(PermissionDenied):
        services.meeting_start(by=request.getfixturevalue(persona), meeting=agenda[0])


def test_an_admin_acts_as_chair_only_with_a_reason(admin_user, agenda):
    with pytest.raises(PermissionDenied):
        services.meeting_start(by=admin_user, meeting=agenda[0])

    meeting = services.meeting_start(
        by=admin_user, meeting=agenda[0], acting_reason="Dr Patel is on leave"
    )

    assert meeting.acting_chair_reason == "Dr Patel is on leave"


def test_outcomes_then_close_carries_the_unreached_forward(chair, navigator, network_a, agenda):
    meeting, (discussed, skipped) = agenda
    with pytest.raises(ValidationError, match="in progress"):
        services.discussion_save(by=chair, item=discussed, outcome="continue")
    services.meeting_start(by=chair, meeting=meeting)

    first = services.discussion_save(by=chair, item=discussed, outcome="continue", summary="Well")
    with pytest.raises(ValidationError, match="Someone else saved"):
        services.discussion_save(
            by=chair, item=discussed, outcome="relist", expected_revision=first.revision + 1
        )
    services.meeting_close(by=chair, meeting=meeting)
    services.meeting_close(by=chair, meeting=meeting)  # a second click

    skipped.refresh_from_db()
    assert skipped.not_reached
    with pytest.raises(ValidationError, match="closed"):
        services.discussion_save(by=chair, item=discussed, outcome="relist")
    following = _meeting(navigator, network_a, day=TODAY + dt.timedelta(days=14))
    proposals = {p.patient: p.reason for p in agenda_proposals(following)}
    assert proposals[skipped.patient] == "carried_forward"
