"""The lists on the home pages that name people: an MDT member's own
actions, the matron's reviews due this week (beside her assessment drafts)
and the GP chair's plans awaiting ratification. Each shows only the user's
networks, tags what is overdue, says what to do when empty, records one
access event naming the people shown (none when nobody is), and reads the
same number of queries at 2 rows as at 12."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from careplans.models import Assessment, CarePlan
from mdtcare.accounts.models import Membership, Organisation, Profession
from mdtcare.audit.models import AccessEvent
from meetings.models import Action
from patients.models import RegisterEntry
from tests.careplans.test_plan_pages import _proposed, _ratified
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.meetings.test_action_pages import make
from tests.patients.factories_register import RegisterEntryFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)

# Pinned query counts for the whole request: the same at 2 rows as at 12.
MEMBER_HOME_QUERIES = 14
MATRON_HOME_QUERIES = 13
CHAIR_HOME_QUERIES = 14


@pytest.fixture
def member(network_a):
    team = Organisation.objects.create(
        name="Leeds Community Therapy", type=Organisation.Type.COMMUNITY_TRUST
    )
    user = UserFactory(username="member", profession=Profession.PHARMACIST, organisation=team)
    MembershipFactory(user=user, network=network_a, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def south_matron(network_b):
    user = UserFactory(username="south-matron", profession=Profession.COMMUNITY_MATRON)
    MembershipFactory(user=user, network=network_b, role=Membership.Role.MATRON)
    return user


@pytest.fixture
def south_chair(network_b):
    user = UserFactory(username="south-chair", profession=Profession.GP)
    MembershipFactory(user=user, network=network_b, role=Membership.Role.GP_CHAIR)
    return user


def _person(practice, lead, family_name="Okafor", **episode):
    """Someone with an open episode led by ``lead``."""
    patient = PatientFactory(practice=practice, family_name=family_name, given_name="Mary")
    RegisterEntryFactory(
        patient=patient,
        status=RegisterEntry.Status.ACTIVE,
        clinical_lead=lead,
        primary_need="frailty",
        **episode,
    )
    return patient


def _in_force(lead, chair, practice, *, review_on, family_name="Okafor") -> CarePlan:
    """A ratified plan led by ``lead`` with its review on ``review_on``."""
    plan = _ratified(lead, chair, _person(practice, lead, family_name))
    CarePlan.objects.filter(pk=plan.pk).update(
        starts_on=min(review_on, TODAY) - 60 * DAY, next_review_on=review_on
    )
    return plan


def _proposal(lead, practice, *, days_ago, family_name="Okafor") -> CarePlan:
    plan = _proposed(lead, _person(practice, lead, family_name))
    CarePlan.objects.filter(pk=plan.pk).update(proposed_at=timezone.now() - days_ago * DAY)
    return plan


def _home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def _rows(response, heading: str) -> list[str]:
    """The list items under ``heading``, up to the next heading."""
    section = response.text.split(f"<h2>{heading}</h2>")[1].split("<h2>")[0]
    return [item.split("</li>")[0] for item in section.split("<li>")[1:]]


def _patients_of(event) -> set:
    return set(event.patients.values_list("patient_id", flat=True))


# --- An MDT member's own actions -------------------------------------------------------------


def test_a_members_home_lists_their_open_actions_soonest_first_with_overdue_tagged(
    client, member, navigator, practice_a, practice_b
):
    later = make(practice_a, owner=member, due_on=TODAY + 5 * DAY, status="in_progress")
    overdue = make(practice_a, owner=member, due_on=TODAY - 2 * DAY)
    today = make(practice_a, owner=member, due_on=TODAY)
    make(practice_a, owner=member, due_on=TODAY - 9 * DAY, status=Action.Status.DONE)
    make(practice_a, owner=member, due_on=TODAY - 9 * DAY, status=Action.Status.CANCELLED)
    make(practice_a, owner=navigator, due_on=TODAY - 9 * DAY)
    # Their team's, with no one person on it: on My actions, not among their own.
    make(practice_a, owner_organisation=member.organisation, due_on=TODAY - 9 * DAY)
    # Theirs, but of a network they are not in: the gate keeps it out.
    make(practice_b, owner=member, due_on=TODAY - 9 * DAY)

    response = _home(client, member)

    assert response.context["actions"] == [overdue, today, later]
    rows = _rows(response, "My actions")
    assert [
        f"{reverse('patients:detail', args=[a.patient_id])}#actions" in row
        for row, a in zip(rows, [overdue, today, later], strict=True)
    ] == [True, True, True]
    assert ['nhsuk-tag--red">Overdue' in row for row in rows] == [True, False, False]
    assert "You have 3 actions still to do." in response.text
    assert f'href="{reverse("meetings:my_actions")}?scope=mine"' in response.text
    assert "not tracked" not in response.text
    event = AccessEvent.objects.get()
    assert (event.what, event.user) == ("home.my_actions", member)
    assert _patients_of(event) == {overdue.patient_id, today.patient_id, later.patient_id}


def test_an_outsiders_home_shows_only_their_networks_actions(
    client, outsider, practice_a, practice_b
):
    south = make(practice_b, owner=outsider, due_on=TODAY + DAY)
    make(practice_a, owner=outsider, due_on=TODAY - DAY)

    response = _home(client, outsider)

    assert response.context["actions"] == [south]
    assert "Overdue</strong>" not in response.text
    assert _patients_of(AccessEvent.objects.get()) == {south.patient_id}


def test_a_member_with_no_actions_is_told_so_and_no_access_is_recorded(client, member):
    response = _home(client, member)

    assert "You have no actions still to do." in response.text
    assert "All your actions" not in response.text
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize("rows", [2, 12])
def test_a_members_home_reads_the_same_queries_at_2_and_12_actions(
    client, member, practice_a, django_assert_num_queries, rows
):
    for number in range(rows):
        make(practice_a, owner=member, due_on=TODAY + (number - 1) * DAY)
    client.force_login(member)

    with django_assert_num_queries(MEMBER_HOME_QUERIES):
        response = client.get(reverse("home"))

    assert len(response.context["actions"]) == min(rows, 10)
    assert f"You have {rows} actions still to do" in response.text
    assert response.text.count('nhsuk-tag--red">Overdue') == 1


# --- The matron's reviews due this week ------------------------------------------------------


def test_the_matrons_home_lists_her_reviews_overdue_or_due_within_7_days(
    client, matron, chair, navigator, practice_a, practice_b, south_matron, south_chair
):
    overdue = _in_force(matron, chair, practice_a, review_on=TODAY - 3 * DAY, family_name="Adeyemi")
    due = _in_force(matron, chair, practice_a, review_on=TODAY + 7 * DAY, family_name="Brown")
    _in_force(matron, chair, practice_a, review_on=TODAY + 8 * DAY, family_name="Later")
    # Someone else leads it.
    _in_force(navigator, chair, practice_a, review_on=TODAY - DAY, family_name="Navigated")
    # Not in force yet.
    proposal = _proposal(matron, practice_a, days_ago=1, family_name="Proposed")
    CarePlan.objects.filter(pk=proposal.pk).update(
        starts_on=TODAY - 60 * DAY, next_review_on=TODAY - DAY
    )
    # The episode has ended: no review to come.
    ended = _in_force(matron, chair, practice_a, review_on=TODAY - DAY, family_name="Discharged")
    RegisterEntry.objects.filter(pk=ended.entry_id).update(status=RegisterEntry.Status.DISCHARGED)
    # Led by her, but in a network she is not in.
    south = _in_force(south_matron, south_chair, practice_b, review_on=TODAY, family_name="South")
    CarePlan.objects.filter(pk=south.pk).update(clinical_lead=matron)

    response = _home(client, matron)

    assert [plan for plan, _ in response.context["reviews"]] == [overdue, due]
    rows = _rows(response, "Reviews due this week")
    assert [
        reverse("careplans:plan", args=[plan.pk]) in row
        for row, plan in zip(rows, [overdue, due], strict=True)
    ] == [True, True]
    assert "ADEYEMI, Mary" in rows[0] and "BROWN, Mary" in rows[1]
    assert f"review {(TODAY - 3 * DAY).day} {(TODAY - 3 * DAY):%B %Y}" in rows[0]
    assert f"review {(TODAY + 7 * DAY).day} {(TODAY + 7 * DAY):%B %Y}" in rows[1]
    assert ['nhsuk-tag--red">Review overdue' in row for row in rows] == [True, False]
    for absent in ("LATER", "NAVIGATED", "PROPOSED", "DISCHARGED", "SOUTH"):
        assert absent not in response.text
    assert f'href="{reverse("careplans:plan_attention")}"' in response.text
    assert "not in mdtcare yet" not in response.text


def test_the_matrons_drafts_and_reviews_are_one_access_event(client, matron, chair, practice_a):
    drafted = PatientFactory(practice=practice_a, family_name="Drafted")
    Assessment.objects.create(patient=drafted, kind="initial", assessor=matron, assessed_on=TODAY)
    plan = _in_force(matron, chair, practice_a, review_on=TODAY)

    _home(client, matron)

    event = AccessEvent.objects.get()
    assert event.user == matron
    assert event.patient_count == 2
    assert _patients_of(event) == {drafted.pk, plan.patient_id}


def test_a_matron_with_no_reviews_due_is_told_so_and_no_access_is_recorded(
    client, matron, chair, practice_a
):
    _in_force(matron, chair, practice_a, review_on=TODAY + 8 * DAY)

    response = _home(client, matron)

    assert response.context["reviews"] == []
    assert "None of your care plans has a review overdue or due in the next 7 days." in (
        response.text
    )
    assert f'href="{reverse("careplans:plan_attention")}"' in response.text
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize("rows", [2, 12])
def test_the_matrons_home_reads_the_same_queries_at_2_and_12_reviews(
    client, matron, chair, practice_a, django_assert_num_queries, rows
):
    for number in range(rows):
        # One overdue, the rest due within the week.
        review_on = TODAY - DAY if number == 0 else TODAY + min(number, 7) * DAY
        _in_force(matron, chair, practice_a, review_on=review_on)
        Assessment.objects.create(
            patient=PatientFactory(practice=practice_a),
            kind="initial",
            assessor=matron,
            assessed_on=TODAY,
        )
    client.force_login(matron)

    with django_assert_num_queries(MATRON_HOME_QUERIES):
        response = client.get(reverse("home"))

    shown = [plan for plan, _ in response.context["reviews"]]
    assert len(shown) == min(rows, 10)
    assert [plan.next_review_on for plan in shown] == sorted(p.next_review_on for p in shown)
    assert response.text.count('nhsuk-tag--red">Review overdue') == 1
    assert AccessEvent.objects.get().patient_count == 2 * min(rows, 10)


# --- The GP chair's plans awaiting ratification ----------------------------------------------


def test_the_chairs_home_lists_proposed_plans_oldest_first_from_her_networks(
    client, chair, matron, practice_a, practice_b, south_matron, south_chair
):
    newer = _proposal(matron, practice_a, days_ago=1, family_name="Newer")
    older = _proposal(matron, practice_a, days_ago=5, family_name="Older")
    _in_force(matron, chair, practice_a, review_on=TODAY, family_name="Ratified")
    _proposal(south_matron, practice_b, days_ago=9, family_name="South")

    response = _home(client, chair)

    assert response.context["proposed"] == [older, newer]
    assert response.context["proposed_count"] == 2
    assert "2 care plans are proposed for the MDT" in response.text
    rows = _rows(response, "Plans awaiting ratification")
    assert reverse("careplans:plan", args=[older.pk]) in rows[0] and "OLDER, Mary" in rows[0]
    assert reverse("careplans:plan", args=[newer.pk]) in rows[1]
    proposed_on = timezone.localdate(timezone.now() - 5 * DAY)
    assert (
        f"proposed by {matron.get_full_name()} on {proposed_on.day} {proposed_on:%B %Y}"
        in (rows[0])
    )
    assert "RATIFIED" not in response.text and "SOUTH" not in response.text
    event = AccessEvent.objects.get()
    assert (event.what, event.user) == ("home.plans_awaiting_ratification", chair)
    assert _patients_of(event) == {older.patient_id, newer.patient_id}


def test_a_chair_with_no_plans_to_ratify_is_told_so_and_no_access_is_recorded(
    client, chair, south_matron, practice_b
):
    _proposal(south_matron, practice_b, days_ago=1, family_name="South")

    response = _home(client, chair)

    assert "No care plans are waiting to be ratified." in response.text
    assert "SOUTH" not in response.text
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize("rows", [2, 12])
def test_the_chairs_home_reads_the_same_queries_at_2_and_12_proposals(
    client, chair, matron, practice_a, django_assert_num_queries, rows
):
    for number in range(rows):
        _proposal(matron, practice_a, days_ago=number)
    client.force_login(chair)

    with django_assert_num_queries(CHAIR_HOME_QUERIES):
        response = client.get(reverse("home"))

    shown = response.context["proposed"]
    assert len(shown) == min(rows, 10)
    assert [plan.proposed_at for plan in shown] == sorted(plan.proposed_at for plan in shown)
    assert f"{rows} care plans are proposed for the MDT" in response.text
    assert AccessEvent.objects.get().patient_count == min(rows, 10)
