"""The daily meeting and action reminders: one overdue-action digest a day
per owner and per navigator of a network with overdue actions, without
patient ids; one reminder per invited member of a meeting tomorrow."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mdtcare.accounts.models import Membership
from mdtcare.notifications.models import Notification
from meetings import reminders
from meetings.models import Action, Meeting
from meetings.tasks import meeting_reminders, overdue_digests
from tests.factories import MembershipFactory, PatientFactory, PracticeFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)


def _at(time_machine, day: dt.date):
    """Move the clock to noon, London time, on ``day`` (and keep it there)."""
    time_machine.move_to(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), tick=False)


@pytest.fixture(autouse=True)
def today(time_machine):
    _at(time_machine, TODAY)
    return TODAY


def _action(practice, *, owner=None, due_in=-1, status="open", **kwargs):
    return Action.objects.create(
        patient=PatientFactory(practice=practice),
        what="Arrange a falls assessment",
        owner=owner,
        due_on=TODAY + dt.timedelta(days=due_in),
        status=status,
        **kwargs,
    )


def _digests():
    """(username, event_id) of every overdue digest, sorted."""
    return sorted(
        Notification.objects.filter(kind="actions_overdue").values_list(
            "recipient__username", "event_id"
        )
    )


# --- overdue actions ---------------------------------------------------------------


def test_each_owner_gets_one_digest_a_day_however_many_actions_are_overdue(
    time_machine, practice_a, matron, chair, navigator
):
    _action(practice_a, owner=matron, due_in=-1)
    _action(practice_a, owner=matron, due_in=-20, status="in_progress")
    _action(practice_a, owner=chair, due_in=-3)

    overdue_digests.apply().get()
    overdue_digests.apply().get()  # the same day again: nothing new
    _at(time_machine, TODAY + dt.timedelta(days=1))
    overdue_digests.apply().get()

    owner_digests = [(user, event) for user, event in _digests() if user != "navigator"]
    assert owner_digests == [
        ("chair", f"overdue:{chair.pk}:2026-03-10"),
        ("chair", f"overdue:{chair.pk}:2026-03-11"),
        ("matron", f"overdue:{matron.pk}:2026-03-10"),
        ("matron", f"overdue:{matron.pk}:2026-03-11"),
    ]


def test_no_digest_when_nothing_is_overdue(practice_a, matron, navigator):
    _action(practice_a, owner=matron, due_in=0)  # due today: not overdue yet
    _action(practice_a, owner=matron, due_in=3)
    _action(practice_a, owner=matron, due_in=-5, status="done", completed_by=matron)
    _action(practice_a, owner=matron, due_in=-5, status="cancelled")

    run = reminders.overdue_digests_raise()

    assert (run.owners, run.navigators, run.made) == (0, 0, 0)
    assert not Notification.objects.exists()


def test_navigators_get_one_digest_for_their_networks_overdue_actions(
    practice_a, practice_b, network_b, matron, navigator, outsider
):
    south_navigator = UserFactory(username="south-navigator")
    MembershipFactory(user=south_navigator, network=network_b, role=Membership.Role.NAVIGATOR)
    _action(practice_a, owner=matron, due_in=-2)
    # A team's action (no one person owns it yet) is the navigator's to chase.
    _action(practice_a, due_in=-2, owner_organisation=PracticeFactory(network=None))
    _action(practice_b, owner=outsider, due_in=4)  # the south network: nothing overdue

    run = reminders.overdue_digests_raise()

    assert (run.owners, run.navigators, run.made) == (1, 1, 2)
    assert _digests() == [
        ("matron", f"overdue:{matron.pk}:2026-03-10"),
        ("navigator", f"overdue-network:{navigator.pk}:2026-03-10"),
    ]


def test_a_navigator_who_owns_overdue_actions_gets_both_digests(practice_a, navigator):
    _action(practice_a, owner=navigator, due_in=-2)

    reminders.overdue_digests_raise()

    assert sorted(event.split(":")[0] for _, event in _digests()) == [
        "overdue",
        "overdue-network",
    ]


def test_digests_name_no_patient_and_link_to_the_overdue_lists(practice_a, matron, navigator):
    _action(practice_a, owner=matron, due_in=-2)

    reminders.overdue_digests_raise()

    rows = {n.recipient.username: n for n in Notification.objects.select_related("recipient")}
    assert [n.patient_id for n in rows.values()] == [None, None]
    assert rows["matron"].link == reverse("meetings:my_actions") + "?section=overdue"
    assert rows["navigator"].link == reverse("meetings:worklist") + "?section=overdue"


def test_no_digest_for_an_inactive_owner_or_navigator(practice_a, navigator):
    gone = UserFactory(username="gone", is_active=False)
    _action(practice_a, owner=gone, due_in=-2)
    navigator.is_active = False
    navigator.save(update_fields=["is_active"])

    assert reminders.overdue_digests_raise().made == 0


def test_the_digest_queries_do_not_grow_with_the_actions_or_the_people(
    practice_a, matron, chair, navigator
):
    _action(practice_a, owner=matron, due_in=-2)
    with CaptureQueriesContext(connection) as few:
        reminders.overdue_digests_raise()
    for n in range(10):
        owner = UserFactory(username=f"owner{n}")
        for _ in range(5):
            _action(practice_a, owner=owner, due_in=-3)

    with CaptureQueriesContext(connection) as many:
        run = reminders.overdue_digests_raise(today=TODAY + dt.timedelta(days=1))

    assert (run.owners, run.navigators, run.made) == (11, 1, 12)
    assert len(many) == len(few)


# --- meetings tomorrow ---------------------------------------------------------------


def _meeting(network, *, on, status="scheduled", invited=(), **kwargs):
    meeting = Meeting.objects.create(
        network=network,
        date=on,
        starts_at=dt.time(9),
        ends_at=dt.time(11),
        status=status,
        **kwargs,
    )
    meeting.invited.set(invited)
    return meeting


def test_each_invited_member_of_a_meeting_tomorrow_is_reminded_once(
    network_a, matron, chair, navigator
):
    gone = UserFactory(username="gone", is_active=False)
    meeting = _meeting(
        network_a, on=TODAY + dt.timedelta(days=1), invited=[matron, chair, gone], chair=chair
    )

    assert meeting_reminders.apply().get() == 2
    assert meeting_reminders.apply().get() == 0

    rows = Notification.objects.filter(kind="meeting_tomorrow")
    assert sorted(rows.values_list("recipient__username", "event_id", "patient_id")) == [
        ("chair", f"meeting:{meeting.pk}:{meeting.date:%Y%m%d}", None),
        ("matron", f"meeting:{meeting.pk}:{meeting.date:%Y%m%d}", None),
    ]
    assert {row.link for row in rows} == {reverse("meetings:meeting", args=[meeting.pk])}


def test_no_reminder_for_a_cancelled_meeting_or_one_on_another_day(network_a, matron):
    tomorrow = TODAY + dt.timedelta(days=1)
    _meeting(
        network_a, on=tomorrow, status="cancelled", cancel_reason="GP chair ill", invited=[matron]
    )
    _meeting(network_a, on=TODAY, invited=[matron])
    _meeting(network_a, on=TODAY + dt.timedelta(days=2), invited=[matron])

    assert reminders.meeting_reminders_raise() == 0


def test_a_meeting_is_reminded_the_day_before_only(time_machine, network_a, matron):
    meeting = _meeting(network_a, on=TODAY + dt.timedelta(days=3), invited=[matron])

    made = []
    for day in range(4):
        _at(time_machine, TODAY + dt.timedelta(days=day))
        made.append(reminders.meeting_reminders_raise())

    assert made == [0, 0, 1, 0]
    assert Notification.objects.get().event_id == f"meeting:{meeting.pk}:{meeting.date:%Y%m%d}"
