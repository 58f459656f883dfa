"""The demo's MDT meetings: each network's volumes every month of the last
year, outcomes that agree with the register and the care plans, actions
tracked to done, and the next meeting's agenda as the agenda builder
proposes it."""

import datetime as dt
import itertools
from collections import Counter, defaultdict

import pytest
from django.db import transaction
from django.utils import timezone

from careplans.models import CarePlan
from mdtcare.accounts.models import Membership, Organisation, Profession
from mdtcare.core import demo
from meetings.models import Action, AgendaItem, Attendance, Discussion, Meeting, MeetingSeries
from meetings.selectors import agenda_proposals
from patients.models import EntryStatus, Patient, RegisterEntry
from tests.demo_snapshot import demo_restore

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 1)  # a Sunday, as in tests/core/test_demo_data.py
NETWORKS = ("north", "south")


@pytest.fixture
def loaded():
    demo_restore(TODAY)


def _discussions(network: str):
    return (
        Discussion.objects.filter(item__meeting__network__code=network)
        .select_related("item__meeting")
        .order_by("item__meeting__date", "item__position")
    )


def _by_person(network: str) -> dict:
    people = defaultdict(list)
    for discussion in _discussions(network):
        people[discussion.item.patient_id].append(discussion)
    return people


def _last_twelve_months() -> list[str]:
    """The 12 whole months before TODAY, as "YYYY-MM"."""
    months, day = [], TODAY.replace(day=1)
    for _ in range(12):
        day = (day - dt.timedelta(days=1)).replace(day=1)
        months.append(f"{day:%Y-%m}")
    return months[::-1]


def test_each_network_meets_fortnightly_with_one_off_meetings_before_holidays(loaded):
    for network in NETWORKS:
        [series] = MeetingSeries.objects.filter(network__code=network)
        meetings = list(Meeting.objects.filter(network__code=network).order_by("date"))
        in_series = [m for m in meetings if m.series_id == series.pk]
        one_offs = [m for m in meetings if m.series_id is None]
        assert len(in_series) + len(one_offs) == len(meetings)
        assert series.frequency == "fortnightly"
        assert (series.first_on, series.until) == (in_series[0].date, in_series[-1].date)
        assert {(b.date - a.date).days for a, b in itertools.pairwise(in_series)} == {14}
        assert len({m.date.weekday() for m in meetings}) == 1 and meetings[0].date.weekday() < 5
        # From some 19 months back (the last 12 whole months come after the
        # first months' build-up) to two months ahead.
        assert TODAY - dt.timedelta(weeks=88) <= meetings[0].date < TODAY - dt.timedelta(days=455)
        assert meetings[-1].date >= TODAY + dt.timedelta(weeks=7)
        for meeting in meetings:
            expected = "closed" if meeting.date < TODAY else "scheduled"
            assert meeting.status in (expected, "cancelled")
            assert meeting.ends_at > meeting.starts_at
            assert meeting.venue or meeting.dial_in
            assert meeting.format == "face_to_face" or meeting.dial_in
        # Each meeting on a bank holiday or in Christmas week is cancelled
        # and held a week earlier instead, a one-off meeting.
        cancelled = [m for m in meetings if m.status == "cancelled"]
        assert len(cancelled) >= 2  # two Christmases
        for meeting in cancelled:
            assert meeting.date < TODAY and meeting.cancel_reason
            assert meeting.date.month in (12, 1) and "a week earlier" in meeting.cancel_reason
            assert not meeting.agenda.exists()
        assert sorted(m.date + dt.timedelta(weeks=1) for m in one_offs) == [
            m.date for m in cancelled
        ]
        assert all(m.status == "closed" and m.agenda.exists() for m in one_offs)


def test_each_network_has_an_mdts_volumes_every_month_of_the_last_year(loaded):
    """The product spec: per network per month roughly 2-3 meetings, 20-40
    discussions, a third of them new people; ~70% of people discussed again."""
    months = _last_twelve_months()
    for network in NETWORKS:
        by_month = defaultdict(Counter)
        for meeting in Meeting.objects.filter(network__code=network, date__lt=TODAY):
            by_month[f"{meeting.date:%Y-%m}"][meeting.status] += 1
        people = _by_person(network)
        for discussions in people.values():
            by_month[f"{discussions[0].item.meeting.date:%Y-%m}"]["new"] += 1
            for discussion in discussions:
                by_month[f"{discussion.item.meeting.date:%Y-%m}"]["discussions"] += 1
        for month in months:
            figures = by_month[month]
            held, discussed, new = figures["closed"], figures["discussions"], figures["new"]
            # A cancelled meeting (held a week earlier) may leave one or two.
            fewest = 1 if figures["cancelled"] else 2
            assert fewest <= held <= 3, (network, month, figures)
            assert 20 <= discussed <= 40, (network, month, figures)
            assert 0.25 <= new / discussed <= 0.40, (network, month, figures)
        # Of the people first discussed in those months, most were discussed again.
        cohort = [
            discussions
            for discussions in people.values()
            if months[0] <= f"{discussions[0].item.meeting.date:%Y-%m}" <= months[-1]
        ]
        again = sum(len(discussions) >= 2 for discussions in cohort) / len(cohort)
        assert 0.6 <= again <= 0.8, (network, again)


def test_every_closed_meeting_has_its_minutes(loaded):
    for network in NETWORKS:
        chair = Membership.objects.get(network__code=network, role="gp_chair").user
        professions = set()
        for meeting in Meeting.objects.filter(network__code=network, status="closed"):
            assert meeting.chair == meeting.closed_by == chair
            assert meeting.agenda_published_at.date() < meeting.date
            assert meeting.started_at < meeting.closed_at
            assert timezone.localdate(meeting.started_at) == meeting.date
            attendance = list(meeting.attendance.all())
            present = [a for a in attendance if a.status == "present"]
            assert chair.pk in {a.user_id for a in present}
            assert len(present) >= 3
            professions |= {a.profession for a in present}
            items = list(meeting.agenda.select_related("discussion"))
            assert [item.position for item in items] == list(range(1, len(items) + 1))
            assert meeting.revision == 1 + len(items)
            for item in items:
                assert item.not_reached != hasattr(item, "discussion")
            assert sum(hasattr(item, "discussion") for item in items) >= 1
        assert len(professions) >= 6  # members and guests of several professions
        # The profession's label, as attendance_record stores it, not its code.
        assert professions <= set(Profession.labels)
        for attendance in (
            Attendance.objects.filter(meeting__network__code=network)
            .exclude(user=None)
            .select_related("user")[:50]
        ):
            assert attendance.profession == attendance.user.get_profession_display()
        guests = Attendance.objects.filter(meeting__network__code=network, user=None)
        assert guests.filter(status="present").exclude(organisation="").exists()


def test_agenda_reasons_follow_from_the_meeting_before(loaded):
    for network in NETWORKS:
        held = list(Meeting.objects.filter(network__code=network, status="closed"))
        items = defaultdict(dict)
        for item in AgendaItem.objects.filter(meeting__in=held).select_related("discussion"):
            items[item.meeting_id][item.patient_id] = item
        carried = relisted = 0
        for before, after in itertools.pairwise(held):
            for patient, item in items[before.pk].items():
                if item.not_reached:
                    assert items[after.pk][patient].reason == "carried_forward"
                    carried += 1
                elif item.discussion.outcome == "relist":
                    assert items[after.pk][patient].reason == "relisted"
                    relisted += 1
        assert carried >= 1 and relisted >= 5
        # New the first time on an agenda, and only then.
        firsts = defaultdict(list)
        for item in AgendaItem.objects.filter(meeting__in=held).order_by("meeting__date"):
            firsts[item.patient_id].append(item.reason)
        for reasons in firsts.values():
            assert reasons[0] == "new_referral"
            assert "new_referral" not in reasons[1:]


def test_outcomes_agree_with_the_register(loaded):
    for network in NETWORKS:
        episodes = {
            entry.patient_id: entry
            for entry in RegisterEntry.objects.filter(patient__practice__network__code=network)
        }
        discussed = _by_person(network)
        outcomes = Counter()
        for patient, person in discussed.items():
            entry = episodes[patient]
            first, last = person[0], person[-1]
            outcomes.update(d.outcome for d in person)
            # The MDT set the episode's primary need and clinical lead.
            assert (first.primary_need, first.clinical_lead_id) == (
                entry.primary_need,
                entry.clinical_lead_id,
            )
            assert first.item.meeting.date > entry.decided_on
            if entry.status == EntryStatus.ACTIVE:
                assert {d.outcome for d in person} <= {"continue", "relist", "escalate"}
                continue
            assert last.item.meeting.date <= entry.closed_on
            expected = {"stepped_down": {"step_down"}, "discharged": {"discharge"}}.get(
                entry.status, {"continue", "escalate"}
            )
            assert last.outcome in expected, entry.status
            assert all(d.outcome not in ("step_down", "discharge") for d in person[:-1])
        # Waiting for triage, declined, or accepted and waiting for a first MDT: not discussed.
        waiting = {
            patient
            for patient, entry in episodes.items()
            if entry.status in ("referred", "declined", "accepted")
        }
        assert waiting and not waiting & set(discussed)
        assert not Discussion.objects.filter(
            item__patient__in=Patient.objects.filter(entries=None)
        ).exists()
        assert outcomes["continue"] > outcomes["relist"] > outcomes["escalate"] >= 1
        assert outcomes["step_down"] + outcomes["discharge"] >= 5


def test_plans_are_ratified_in_the_discussion_nearest_the_day(loaded):
    linked = Discussion.objects.exclude(ratified_plan=None).select_related(
        "ratified_plan", "item__meeting"
    )

    assert linked.count() >= 20
    for discussion in linked:
        plan = discussion.ratified_plan
        assert plan.patient_id == discussion.item.patient_id
        assert abs((timezone.localdate(plan.ratified_at) - discussion.item.meeting.date).days) <= 7
        assert discussion.outcome in ("continue", "relist")
    # Each plan once.
    assert linked.values("ratified_plan").distinct().count() == linked.count()
    # Mary Okafor's first MDT is the worked example's (EXAMPLE.md). It does
    # not point at her plan: the plans' top-up tests delete it (PROTECT).
    mary = Patient.objects.get(given_name="Mary", family_name="Okafor")
    plan = CarePlan.objects.get(patient=mary)
    [first, *_] = _by_person("north")[mary.pk]
    assert first.item.reason == "new_referral" and first.outcome == "continue"
    assert abs((timezone.localdate(plan.ratified_at) - first.item.meeting.date).days) <= 13
    assert (first.primary_need, first.clinical_lead.username) == ("frailty", "matron")
    assert first.next_review_on == plan.next_review_on
    assert sorted(a.owner.username for a in first.actions.all()) == [
        "ot",
        "pharmacist",
        "pnurse",
        "sworker",
        "vsnav",
    ]


def test_actions_are_owned_due_and_mostly_done(loaded):
    actions = list(
        Action.objects.select_related(
            "discussion__item__meeting", "owner", "owner_organisation", "patient__practice"
        )
    )
    members = {(m.user_id, m.network_id) for m in Membership.objects.all()}
    partners = set(Organisation.objects.exclude(type="gp_practice").values_list("pk", flat=True))
    ended = {
        entry.patient_id: entry.closed_on
        for entry in RegisterEntry.objects.exclude(status__in=RegisterEntry.OPEN_STATUSES)
    }

    assert 1.2 <= len(actions) / Discussion.objects.count() <= 2.2
    for action in actions:
        meeting = action.discussion.item.meeting
        assert (
            action.source == "discussion" and action.patient_id == action.discussion.item.patient_id
        )
        if action.owner_id:
            assert (action.owner_id, meeting.network_id) in members
        else:
            assert action.owner_organisation_id in partners | {action.patient.practice_id}
        assert 7 <= (action.due_on - meeting.date).days <= 42
        if action.status == "done":
            assert meeting.date < timezone.localdate(action.completed_at) < TODAY
            assert action.completed_by and action.completion_note
        else:
            assert action.completed_at is None
        if action.patient_id in ended and ended[action.patient_id] < TODAY:
            assert action.status in ("done", "cancelled")
    statuses = Counter(action.status for action in actions)
    overdue = [a for a in actions if a.status in ("open", "in_progress") and a.due_on < TODAY]
    assert statuses["done"] >= 0.8 * len(actions)
    assert statuses["in_progress"] >= 5
    assert 0.01 * len(actions) <= len(overdue) <= 0.08 * len(actions)
    assert Counter(a.priority for a in actions)["routine"] >= 0.75 * len(actions)
    assert {a.owner.username for a in actions if a.owner} >= {"matron", "navigator", "outsider"}
    assert any(a.owner_organisation_id for a in actions)


def test_the_next_meeting_has_the_proposed_agenda_and_the_ones_after_none(loaded):
    for network in NETWORKS:
        upcoming = list(Meeting.objects.filter(network__code=network, date__gte=TODAY))
        following, *after = upcoming
        items = list(following.agenda.all())

        assert following.status == "scheduled" and following.agenda_published_at is None
        assert [item.position for item in items] == list(range(1, len(items) + 1))
        assert following.revision == 1 + len(items)
        assert {"new_referral", "carried_forward"} <= {item.reason for item in items}
        # Everyone the builder would propose is on it.
        assert agenda_proposals(following) == []
        assert after and all(not meeting.agenda.exists() for meeting in after)
        assert all(m.status == "scheduled" for m in after)


def _signature() -> tuple:
    """What the meetings are, without their ids."""
    return (
        sorted(Meeting.objects.values_list("network__code", "date", "status", "revision")),
        sorted(
            Discussion.objects.values_list(
                "item__patient__nhs_number", "item__meeting__date", "outcome", "summary"
            )
        ),
        sorted(Action.objects.values_list("patient__nhs_number", "what", "due_on", "status")),
        Attendance.objects.count(),
    )


class _Undo(Exception):
    pass


def test_loading_is_deterministic_and_loading_again_makes_no_meetings():
    try:
        with transaction.atomic():
            demo.demo_data_load(today=TODAY)
            first = _signature()
            raise _Undo
    except _Undo:
        pass
    assert not Meeting.objects.exists()

    demo.demo_data_load(today=TODAY)
    assert _signature() == first
    made = demo.demo_data_load(today=TODAY)
    assert made["meetings"] == 0
    assert _signature() == first
