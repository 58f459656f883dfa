"""Monthly activity figures against small hand-built data sets whose
expected numbers are worked out by hand (the first one is Network North's
March 2026 from the design's worked example)."""

import datetime as dt

import pytest

from careplans.models import Assessment
from mdtcare.reports.activity import FIGURES, monthly_activity
from mdtcare.reports.months import Month
from meetings.models import Meeting
from patients.models import RegisterEntry
from tests.reports.builders import (
    action,
    assessment,
    attended,
    discussed,
    london,
    meeting,
    not_reached,
    person,
    plan,
    referral,
    utc,
)

MARCH = Month(2026, 3)
APRIL = Month(2026, 4)
NOW = london(2026, 4, 20)


@pytest.fixture
def north_march(network_a, practice_a, chair):
    """Network North, March 2026: three meetings (one cancelled), six
    people A to F, seven actions. Clocks go forward on 29 March."""
    a, b, c, d, e, f = (person(practice_a) for _ in range(6))
    referral(a, dt.date(2026, 2, 10), decided_on=dt.date(2026, 2, 12))
    referral(b, dt.date(2026, 1, 5), decided_on=dt.date(2026, 1, 6))
    referral(c, dt.date(2026, 3, 1), decided_on=dt.date(2026, 3, 2))
    referral(d, dt.date(2026, 2, 25), decided_on=dt.date(2026, 2, 27))
    referral(e, dt.date(2026, 3, 14), decided_on=dt.date(2026, 3, 14), source="mental_health")
    referral(
        f,
        dt.date(2026, 3, 28),
        decided_on=dt.date(2026, 3, 30),
        status=RegisterEntry.Status.DECLINED,
    )
    january = meeting(network_a, dt.date(2026, 1, 13))
    discussed(january, b, chair)
    third = meeting(network_a, dt.date(2026, 3, 3))
    discussed(third, a, chair)
    discussed(third, b, chair, reason="review_due")
    discussed(third, c, chair)
    not_reached(third, d)
    seventeenth = meeting(network_a, dt.date(2026, 3, 17))
    discussed(seventeenth, d, chair, reason="carried_forward")
    discussed(seventeenth, a, chair, reason="relisted")
    discussed(seventeenth, e, chair, reason="urgent")
    meeting(network_a, dt.date(2026, 3, 31), status=Meeting.Status.CANCELLED)

    action(
        b,
        created_at=london(2026, 2, 20),
        due_on=dt.date(2026, 3, 1),
        completed_at=london(2026, 3, 2),
    )
    action(
        a,
        created_at=london(2026, 3, 3),
        due_on=dt.date(2026, 3, 10),
        completed_at=london(2026, 3, 9),
    )
    action(
        a,
        created_at=london(2026, 3, 3),
        due_on=dt.date(2026, 3, 20),
        completed_at=london(2026, 3, 25),
    )
    action(c, created_at=london(2026, 3, 3), due_on=dt.date(2026, 3, 31))
    # G1: done at 00:30 on 1 April in London, 23:30 UTC on 31 March.
    action(
        b,
        created_at=london(2026, 3, 3),
        due_on=dt.date(2026, 3, 30),
        completed_at=utc(2026, 3, 31, 23, 30),
    )
    action(d, created_at=london(2026, 3, 17), due_on=dt.date(2026, 3, 24))
    action(e, created_at=london(2026, 3, 17), due_on=dt.date(2026, 4, 14))
    return network_a


def test_network_north_march_2026_matches_the_worked_example(north_march):
    report = monthly_activity(networks=[north_march], first=MARCH, last=MARCH, now=NOW)
    figures = report.values[(north_march.pk, MARCH)]

    assert figures["meetings_held"] == 2  # the cancelled one does not count
    assert figures["discussions"] == 6  # D's unreached item on 3 March is not one
    assert figures["patients_discussed"] == 5
    assert figures["new_patients"] == 4  # B was first discussed in January
    assert figures["referrals_received"] == 3  # C, E, F
    assert figures["referrals_from_gp_practice"] == 2
    assert figures["referrals_from_mental_health"] == 1
    assert figures["referrals_accepted"] == 2
    assert figures["referrals_declined"] == 1
    assert figures["median_days_to_first_discussion"] == 11.5  # A 21, C 2, D 20, E 3
    assert figures["actions_created"] == 6
    assert figures["actions_completed"] == 3  # G1 was done in April, London time
    assert figures["actions_overdue"] == 2  # G1 and D1; C1 is due on the last day


def test_april_is_counted_separately_and_the_totals_roll_up(north_march):
    report = monthly_activity(networks=[north_march], first=Month(2026, 1), last=APRIL, now=NOW)

    april = report.values[(north_march.pk, APRIL)]
    assert april["actions_completed"] == 1  # G1
    # At 20 April: C1 (due 31 March), D1 (24 March) and E1 (14 April) are
    # open; G1 was done.
    assert april["actions_overdue"] == 3
    assert april["discussions"] == 0
    assert april["median_days_to_first_discussion"] is None

    january = report.values[(north_march.pk, Month(2026, 1))]
    assert january["new_patients"] == 1  # B, referred 5 January, discussed 13th
    assert january["median_days_to_first_discussion"] == 8

    whole = report.values[(north_march.pk, None)]
    assert whole["meetings_held"] == 3
    assert whole["discussions"] == 7
    assert whole["patients_discussed"] == 5  # each person once across the months
    assert whole["new_patients"] == 5
    assert whole["median_days_to_first_discussion"] == 8  # 2, 3, 8, 20, 21
    assert whole["actions_overdue"] == 3  # at the end of the last month: a position
    assert whole["referrals_received"] == 6


def test_a_month_still_running_counts_overdue_as_of_now(north_march):
    # At 13:00 on 25 March: A2 (due the 20th) was done at noon; D1 (due the
    # 24th) is open, so overdue; C1, E1 and G1 are not yet due.
    report = monthly_activity(
        networks=[north_march], first=MARCH, last=MARCH, now=london(2026, 3, 25, 13)
    )
    figures = report.values[(north_march.pk, MARCH)]
    assert figures["actions_overdue"] == 1
    assert figures["actions_completed"] == 3  # X, A1 and A2 by then
    assert figures["meetings_held"] == 2


def test_a_cancelled_action_is_overdue_only_until_it_was_cancelled(network_a, practice_a):
    someone = person(practice_a)
    action(
        someone,
        created_at=london(2026, 2, 1),
        due_on=dt.date(2026, 2, 10),
        cancelled_at=london(2026, 3, 5),
    )
    report = monthly_activity(networks=[network_a], first=Month(2026, 2), last=MARCH, now=NOW)
    assert report.values[(network_a.pk, Month(2026, 2))]["actions_overdue"] == 1
    assert report.values[(network_a.pk, MARCH)]["actions_overdue"] == 0
    assert report.values[(network_a.pk, MARCH)]["actions_completed"] == 0


def test_a_signature_at_midnight_belongs_to_the_london_month(network_a, practice_a, matron):
    someone = person(practice_a)
    # 23:30 UTC on 31 March is 00:30 on 1 April in London (BST).
    assessment(
        someone,
        matron,
        kind=Assessment.Kind.INITIAL,
        assessed_on=dt.date(2026, 3, 31),
        signed_at=utc(2026, 3, 31, 23, 30),
    )
    # 23:30 UTC on 31 January is 23:30 in London too (GMT).
    assessment(
        someone,
        matron,
        kind=Assessment.Kind.REASSESSMENT,
        assessed_on=dt.date(2026, 1, 31),
        signed_at=utc(2026, 1, 31, 23, 30),
    )
    assessment(someone, matron, kind=Assessment.Kind.REASSESSMENT, assessed_on=dt.date(2026, 3, 2))

    report = monthly_activity(networks=[network_a], first=Month(2026, 1), last=APRIL, now=NOW)
    values = report.values
    assert values[(network_a.pk, Month(2026, 1))]["assessments_reassessment"] == 1
    assert values[(network_a.pk, MARCH)]["assessments_initial"] == 0
    assert values[(network_a.pk, APRIL)]["assessments_initial"] == 1
    assert values[(network_a.pk, None)]["assessments_reassessment"] == 1  # a draft is not


def test_plans_ratified_shared_and_reviews_due_and_done_on_time(
    network_a, practice_a, chair, matron
):
    """Five plans with reviews due in May 2026:
    P: discussed at the MDT on 12 May, review due 20 May -> on time;
    Q: re-assessed 25 May, review due 20 May -> late (not on time);
    R: a new version ratified 15 May, review due 18 May -> on time;
    S: episode closed on 2 May, review due 10 May -> not due;
    T: nothing happened, review due 31 May -> due, not on time.
    And U's review is due in June: not May's."""
    may = Month(2026, 5)
    entries = {}
    for name in "PQRSTU":
        entries[name] = referral(
            person(practice_a), dt.date(2026, 1, 5), decided_on=dt.date(2026, 1, 6)
        )
    plans = {
        "P": plan(
            entries["P"], ratified_at=london(2026, 3, 3), next_review_on=dt.date(2026, 5, 20)
        ),
        "Q": plan(
            entries["Q"], ratified_at=london(2026, 3, 3), next_review_on=dt.date(2026, 5, 20)
        ),
        "R": plan(
            entries["R"],
            ratified_at=london(2026, 3, 3),
            next_review_on=dt.date(2026, 5, 18),
            shared_on=dt.date(2026, 3, 10),
        ),
        "S": plan(
            entries["S"], ratified_at=london(2026, 4, 1), next_review_on=dt.date(2026, 5, 10)
        ),
        "T": plan(
            entries["T"], ratified_at=london(2026, 4, 1), next_review_on=dt.date(2026, 5, 31)
        ),
        "U": plan(entries["U"], ratified_at=london(2026, 4, 1), next_review_on=dt.date(2026, 6, 2)),
    }
    # The discussion that ratified P does not count as its review; the one in May does.
    march_mdt = meeting(network_a, dt.date(2026, 3, 3))
    discussed(march_mdt, entries["P"].patient, chair)
    discussed(meeting(network_a, dt.date(2026, 5, 12)), entries["P"].patient, chair)
    assessment(
        entries["Q"].patient,
        matron,
        kind=Assessment.Kind.REASSESSMENT,
        assessed_on=dt.date(2026, 5, 25),
        signed_at=london(2026, 5, 25),
    )
    plan(
        entries["R"],
        ratified_at=london(2026, 5, 15),
        next_review_on=dt.date(2026, 8, 15),
        previous=plans["R"],
    )
    RegisterEntry.objects.filter(pk=entries["S"].pk).update(
        status=RegisterEntry.Status.STEPPED_DOWN, closed_on=dt.date(2026, 5, 2)
    )

    report = monthly_activity(networks=[network_a], first=MARCH, last=may, now=london(2026, 6, 1))
    values = report.values
    assert values[(network_a.pk, MARCH)]["plans_ratified"] == 3
    assert values[(network_a.pk, MARCH)]["plans_shared"] == 1
    assert values[(network_a.pk, APRIL)]["plans_ratified"] == 3
    assert values[(network_a.pk, may)]["plans_ratified"] == 1
    assert values[(network_a.pk, may)]["reviews_due"] == 4  # P, Q, R, T
    assert values[(network_a.pk, may)]["reviews_on_time"] == 2  # P, R
    assert values[(network_a.pk, may)]["assessments_reassessment"] == 1


def test_attendance_by_profession(network_a, chair):
    held = meeting(network_a, dt.date(2026, 3, 3))
    attended(held, "Dr Ada Shah", "GP")
    attended(held, "Jo Bell", "Community matron")
    attended(held, "Sam Rees", "community matron")  # typed by hand for a guest
    attended(held, "Kit Lowe", "Housing officer")  # a guest of another profession
    attended(held, "Pat Moss", "Pharmacist", status="apologies")
    cancelled = meeting(network_a, dt.date(2026, 3, 17), status=Meeting.Status.CANCELLED)
    attended(cancelled, "Dr Ada Shah", "GP")

    figures = monthly_activity(networks=[network_a], first=MARCH, last=MARCH, now=NOW).values[
        (network_a.pk, MARCH)
    ]
    assert figures["attended_gp"] == 1
    assert figures["attended_community_matron"] == 2
    assert figures["attended_other"] == 1
    assert figures["attended_pharmacist"] == 0


def test_networks_are_counted_apart_and_together(north_march, network_b, practice_b, chair):
    south = network_b
    someone = person(practice_b)
    referral(someone, dt.date(2026, 3, 2), decided_on=dt.date(2026, 3, 3))
    south_meeting = meeting(south, dt.date(2026, 3, 10))
    discussed(south_meeting, someone, chair)
    # A of North is also discussed at South's MDT: not new there.
    a_patient = north_march.meetings.get(date=dt.date(2026, 3, 3)).agenda.first().patient
    discussed(south_meeting, a_patient, chair)

    report = monthly_activity(networks=[north_march, south], first=MARCH, last=MARCH, now=NOW)
    assert report.values[(south.pk, MARCH)]["discussions"] == 2
    assert report.values[(south.pk, MARCH)]["new_patients"] == 1
    assert report.values[(south.pk, MARCH)]["referrals_received"] == 1
    together = report.values[(None, MARCH)]
    assert together["meetings_held"] == 3
    assert together["discussions"] == 8
    assert together["patients_discussed"] == 6  # A counted once across both networks
    assert together["new_patients"] == 5
    assert together["median_days_to_first_discussion"] == 8  # 2, 3, 8, 20, 21


def test_every_figure_has_a_label_a_definition_and_a_unique_key():
    keys = [figure.key for figure in FIGURES]
    assert len(keys) == len(set(keys))
    for figure in FIGURES:
        assert figure.label and figure.definition.endswith(".")


def test_the_report_costs_the_same_queries_for_one_month_or_two_years(
    north_march, django_assert_num_queries
):
    with django_assert_num_queries(16):
        monthly_activity(networks=[north_march], first=MARCH, last=MARCH, now=NOW)
    with django_assert_num_queries(16):
        monthly_activity(networks=[north_march], first=Month(2024, 5), last=APRIL, now=NOW)
