"""The patient card (meetings.cards): who the person is, what matters to
them, their scores and the change since the assessment before, their plan,
open actions, and what happened since their last MDT discussion; built for
many agenda items in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from careplans import plans
from careplans.models import Assessment, CarePlan, CarePlanGoal
from meetings import services
from meetings.cards import patient_cards
from meetings.models import Action, Meeting
from patients.models import RegisterEntry
from tests.factories import PatientFactory
from tests.patients.factories_register import EntryStatusChangeFactory, RegisterEntryFactory

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")

# The last meeting that discussed Mary, and the one the card is for.
LAST_MDT = dt.date(2026, 1, 12)
THIS_MDT = dt.date(2026, 3, 2)


def at(day: dt.date, hour: int = 10, minute: int = 0):
    """Run what follows at that moment (London time)."""
    return time_machine.travel(
        dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON), tick=False
    )


def _score(total, maximum, band, flags=()):
    return {"total": total, "maximum": maximum, "band": band, "flags": list(flags)}


def _signed(patient, by, on: dt.date, scores: dict, what_matters=(), kind="initial"):
    """A completed assessment as signing leaves it: answers and frozen scores."""
    return Assessment.objects.create(
        patient=patient,
        kind=kind,
        assessor=by,
        assessed_on=on,
        status=Assessment.Status.COMPLETED,
        answers={"what_matters": {"i_statements": list(what_matters)}},
        signed_by=by,
        signed_at=timezone.now(),
        scores=scores,
        created_by=by,
    )


def _meeting(navigator, chair, network, day: dt.date) -> Meeting:
    return services.meeting_schedule(
        by=navigator,
        network=network,
        date=day,
        starts_at=dt.time(9),
        ends_at=dt.time(11),
        chair=chair,
    ).meetings[0]


@pytest.fixture
def mary(practice_a):
    return PatientFactory(
        practice=practice_a,
        given_name="Mary",
        family_name="Smith",
        date_of_birth=dt.date(1941, 3, 2),
    )


@pytest.fixture
def history(mary, practice_a, network_a, matron, chair, navigator):
    """Mary's story from her first assessment to the card built the day
    before this MDT; Bob, new on the agenda, has none."""
    with at(dt.date(2026, 1, 5)):
        entry = RegisterEntryFactory(
            patient=mary,
            status=RegisterEntry.Status.ACCEPTED,
            tier=2,
            primary_need="frailty",
            clinical_lead=matron,
            navigator=navigator,
        )
        _signed(
            mary,
            matron,
            dt.date(2026, 1, 5),
            {
                "phq9": _score(18, 27, "moderately severe"),
                "phq2": _score(5, 6, "positive screen"),
                "barthel": _score(14, 20, "moderate dependency"),
                "cfs": _score(6, 9, "Living with moderate frailty"),
            },
            what_matters=["I want to stay in my own home"],
        )
        plan = CarePlan.objects.create(
            patient=mary,
            entry=entry,
            status=CarePlan.Status.PROPOSED,
            starts_on=dt.date(2026, 1, 5),
            next_review_on=dt.date(2026, 3, 2),
        )
        CarePlanGoal.objects.create(
            plan=plan, position=0, what_matters="I want to stay in my own home"
        )
        last = _meeting(navigator, chair, network_a, LAST_MDT)
        services.agenda_item_add(by=navigator, meeting=last, patient=mary, reason="new_referral")
    with at(LAST_MDT, 9, 30):
        services.meeting_start(by=chair, meeting=last)
        item = last.agenda.get()
        services.discussion_save(
            by=chair,
            item=item,
            outcome="continue",
            summary="Settled at home",
            next_review_on=THIS_MDT,
            ratify_plan=True,
        )
        review = services.action_add(
            by=chair,
            item=item,
            what="Review medicines",
            due_on=dt.date(2026, 2, 1),
            owner=matron,
        ).action
    with at(LAST_MDT, 11):
        services.meeting_close(by=chair, meeting=last)
    with at(dt.date(2026, 2, 2)):
        _signed(
            mary,
            matron,
            dt.date(2026, 2, 2),
            {
                "phq9": _score(14, 27, "moderate"),
                "phq2": _score(4, 6, "positive screen"),
                "gad7": _score(None, 21, ""),
                "gad2": _score(3, 6, "positive screen"),
                "barthel": _score(12, 20, "moderate dependency"),
                "cfs": _score(6, 9, "Living with moderate frailty"),
                "falls": _score(2, 0, "fallen", ["2 falls in 12 months"]),
            },
            what_matters=["I want to stay in my own home", "I want to see my grandchildren"],
            kind="reassessment",
        )
    with at(dt.date(2026, 2, 3)):
        review.status, review.completed_at, review.completed_by = "done", timezone.now(), matron
        review.save()
    with at(dt.date(2026, 2, 4)):
        EntryStatusChangeFactory(entry=entry, from_status="accepted", to_status="active")
        entry.status = RegisterEntry.Status.ACTIVE
        entry.save()
    with at(dt.date(2026, 2, 10)):
        plans.plan_share(
            by=navigator,
            plan=CarePlan.objects.get(pk=plan.pk),
            shared_on=dt.date(2026, 2, 10),
            how="in_person",
        )
    with at(dt.date(2026, 2, 20)):
        Action.objects.create(
            patient=mary, what="Call her daughter", owner=navigator, due_on=dt.date(2026, 2, 25)
        )
        Action.objects.create(
            patient=mary, what="Book a falls clinic", owner=matron, due_on=dt.date(2026, 3, 20)
        )
        this = _meeting(navigator, chair, network_a, THIS_MDT)
        services.agenda_item_add(by=navigator, meeting=this, patient=mary, reason="review_due")
        bob = PatientFactory(practice=practice_a, given_name="Bob", family_name="Jones")
        services.agenda_item_add(by=navigator, meeting=this, patient=bob, reason="new_referral")
    return this


def _cards(meeting, day=dt.date(2026, 3, 1), hour=12):
    items = list(meeting.agenda.order_by("position"))
    with at(day, hour):
        cards = patient_cards(items)
    return [cards[item.pk] for item in items]


def test_the_card_says_who_the_person_is(history, mary, matron):
    card, _bob = _cards(history)

    assert card.patient == mary
    assert card.patient.practice.name == "Riverside Medical Centre"
    assert card.age == 84  # 85 on 2 March 2026, the day after
    assert card.entry.status == "active" and card.entry.tier == 2
    assert card.entry.get_primary_need_display() == "Frailty"
    assert card.entry.clinical_lead == matron
    assert card.item.meeting == history


def test_what_matters_comes_from_the_latest_signed_assessment(history):
    card, _bob = _cards(history)

    assert card.what_matters == (
        "I want to stay in my own home",
        "I want to see my grandchildren",
    )
    assert card.assessment.assessed_on == dt.date(2026, 2, 2)
    assert card.previous_assessment.assessed_on == dt.date(2026, 1, 5)


def test_scores_show_their_band_and_change_since_the_assessment_before(history):
    card, _bob = _cards(history)

    assert [score.text for score in card.scores] == [
        "CFS 6, living with moderate frailty (was 6, no change)",
        "Barthel 12/20, moderate dependency (was 14, \u22122)",
        "PHQ-9 14/27, moderate (was 18, \u22124)",
        # GAD-7 was not completed: its two-item screen shows instead; PHQ-2 does not.
        "GAD-2 3/6, positive screen",
        "Falls 2, fallen",
    ]
    phq9 = card.scores[2]
    assert (phq9.total, phq9.previous, phq9.change) == (14, 18, -4)
    assert card.scores[-1].flags == ("2 falls in 12 months",)


def test_a_rise_is_shown_with_a_plus(history, mary, matron):
    with at(dt.date(2026, 2, 27)):
        _signed(mary, matron, dt.date(2026, 2, 27), {"phq9": _score(16, 27, "moderately severe")})

    card, _bob = _cards(history)

    assert card.scores[0].text == "PHQ-9 16/27, moderately severe (was 14, +2)"


def test_the_plan_in_force_and_its_goals(history):
    card, _bob = _cards(history)

    assert card.plan.number == 1 and card.plan.status == CarePlan.Status.SHARED
    assert [goal.what_matters for goal in card.goals] == ["I want to stay in my own home"]
    assert card.plan_review == "due"  # 2 March, within 14 days


def test_open_actions_with_their_owner_due_date_and_overdue_flag(history, navigator, matron):
    card, _bob = _cards(history)

    assert [(each.action.what, each.action.owner, each.overdue) for each in card.open_actions] == [
        ("Call her daughter", navigator, True),
        ("Book a falls clinic", matron, False),
    ]
    assert card.overdue_count == 1


def test_since_the_last_discussion_lists_what_happened_in_date_order(history):
    card, _bob = _cards(history)

    last = card.previous_discussion
    assert last.item.meeting.date == LAST_MDT
    assert last.get_outcome_display() == "Continue"
    assert [(line.on, line.text) for line in card.since] == [
        (dt.date(2026, 2, 2), "Re-assessment signed"),
        (dt.date(2026, 2, 3), "Action done: Review medicines"),
        (dt.date(2026, 2, 4), "Episode accepted \u2192 active"),
        (dt.date(2026, 2, 10), "Care plan version 1 shared with the person (in person)"),
    ]
    # The plan ratified in that discussion is its outcome, not news since.
    assert not any("ratified" in line.text for line in card.since)


def test_since_stops_when_this_meeting_starts(history, mary):
    entry = RegisterEntry.objects.get(patient=mary)
    with at(THIS_MDT, 9, 30):  # during this meeting
        EntryStatusChangeFactory(entry=entry, from_status="active", to_status="stepped_down")

    card, _bob = _cards(history, day=THIS_MDT, hour=10)

    assert "Episode active \u2192 stepped down" not in [line.text for line in card.since]
    assert len(card.since) == 4


def test_someone_new_has_a_card_with_nothing_before(history):
    _mary, bob = _cards(history)

    assert bob.patient.given_name == "Bob"
    assert bob.entry is None and bob.assessment is None and bob.plan is None
    assert bob.scores == () and bob.what_matters == () and bob.open_actions == ()
    assert bob.previous_discussion is None and bob.since == ()


def test_the_previous_discussion_is_at_an_earlier_meeting_never_this_one(history):
    """The card of the last meeting's item looks before that meeting."""
    last = Meeting.objects.get(date=LAST_MDT)

    with at(LAST_MDT, 10):
        (card,) = patient_cards([last.agenda.get()]).values()

    assert card.previous_discussion is None
    assert card.since == ()


def test_no_cards_for_no_items_and_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert patient_cards([]) == {}


def _documented(practice, network, matron, chair, navigator, count):
    """``count`` people each with all a card reads: an episode with a status
    change, two signed assessments, a plan with goals, actions open and
    done, and a discussion at an earlier meeting; all on one agenda."""
    people = [PatientFactory(practice=practice, family_name=f"Person{n:02d}") for n in range(count)]
    with at(dt.date(2026, 1, 5)):
        last = _meeting(navigator, chair, network, LAST_MDT)
        this = _meeting(navigator, chair, network, THIS_MDT)
        for person in people:
            entry = RegisterEntryFactory(patient=person, status="accepted", clinical_lead=matron)
            _signed(person, matron, dt.date(2026, 1, 5), {"phq9": _score(18, 27, "x")})
            plan = CarePlan.objects.create(
                patient=person,
                entry=entry,
                status=CarePlan.Status.PROPOSED,
                starts_on=dt.date(2026, 1, 5),
                next_review_on=dt.date(2026, 3, 2),
            )
            for position in range(3):
                CarePlanGoal.objects.create(plan=plan, position=position, what_matters="Goal")
            services.agenda_item_add(by=navigator, meeting=last, patient=person, reason="urgent")
            services.agenda_item_add(by=navigator, meeting=this, patient=person, reason="urgent")
    with at(LAST_MDT, 9, 30):
        services.meeting_start(by=chair, meeting=last)
        for item in last.agenda.all():
            services.discussion_save(by=chair, item=item, outcome="relist")
            services.action_add(
                by=chair, item=item, what="Call", due_on=dt.date(2026, 2, 1), owner=matron
            )
        services.meeting_close(by=chair, meeting=last)
    with at(dt.date(2026, 2, 2)):
        for person in people:
            _signed(person, matron, dt.date(2026, 2, 2), {"phq9": _score(9, 27, "x")})
            entry = RegisterEntry.objects.get(patient=person)
            EntryStatusChangeFactory(entry=entry, from_status="accepted", to_status="active")
        Action.objects.filter(patient__in=people).update(
            status="done", completed_at=timezone.now(), completed_by=matron
        )
        for person in people:
            Action.objects.create(patient=person, what="Visit", owner=matron, due_on=THIS_MDT)
    return this


# Agenda history (with meetings, outcomes and people), episodes, status
# changes, signed assessments, plan versions, their goals, actions.
CARD_QUERIES = 7


@pytest.mark.parametrize("count", [1, 12])
def test_the_cards_cost_the_same_for_1_or_12_people(
    count, practice_a, network_a, matron, chair, navigator, django_assert_num_queries
):
    meeting = _documented(practice_a, network_a, matron, chair, navigator, count)
    items = list(meeting.agenda.all())

    with at(dt.date(2026, 3, 1)), django_assert_num_queries(CARD_QUERIES):
        cards = patient_cards(items)
        for card in cards.values():  # everything the partial reads
            _ = [
                card.patient.practice.name,
                card.item.meeting.date,
                card.entry.clinical_lead,
                [goal.what_matters for goal in card.goals],
                [(each.action.owner, each.action.owner_organisation) for each in card.open_actions],
                card.previous_discussion.item.meeting.date,
            ]

    assert len(cards) == count
    for card in cards.values():
        assert {line.text for line in card.since} == {
            "Initial assessment signed",
            "Action done: Call",
            "Episode accepted \u2192 active",
        }
        assert len(card.goals) == 3
        assert card.scores[0].change == -9
