"""The pre-meeting pack: the meeting's details and every person's card in
the agenda's order with their time slot, for every member of the network;
404 outside it; one access event naming everyone in it; a fixed number of
queries however long the agenda."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from meetings import services
from meetings.views.schedule import time_slots
from patients.models import RegisterEntry
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.meetings.test_cards import _documented, at
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db
NEXT_WEEK = timezone.localdate() + dt.timedelta(days=7)


@pytest.fixture
def meeting(navigator, chair, network_a, practice_a):
    meeting = services.meeting_schedule(
        by=navigator,
        network=network_a,
        date=NEXT_WEEK,
        starts_at=dt.time(14),
        ends_at=dt.time(15, 30),
        venue="Riverside Medical Centre, room 2",
        dial_in="https://meet.example.nhs.uk/north-mdt",
        chair=chair,
    ).meetings[0]
    for name in ("Adams", "Brown", "Clarke"):
        patient = PatientFactory(practice=practice_a, given_name="Pat", family_name=name)
        RegisterEntry.objects.create(
            patient=patient,
            status="active",
            source="gp_practice",
            referrer_name="Dr Obi",
            reason="Falls",
            referred_on=timezone.localdate(),
            tier=2,
        )
        services.agenda_item_add(by=navigator, meeting=meeting, patient=patient, reason="urgent")
    return meeting


def _pack_url(meeting):
    return reverse("meetings:meeting_pack", args=[meeting.pk])


def test_the_pack_shows_the_meeting_and_each_card_in_order_with_its_slot(client, chair, meeting):
    client.force_login(chair)

    response = client.get(_pack_url(meeting))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Riverside Medical Centre, room 2" in page
    assert "https://meet.example.nhs.uk/north-mdt" in page
    assert f"{NEXT_WEEK.day} {NEXT_WEEK:%B %Y}, 14:00 to 15:30" in page
    assert chair.get_full_name() in page
    pages = response.context["pages"]
    assert [p.card.patient.family_name for p in pages] == ["Adams", "Brown", "Clarke"]
    slots = time_slots(meeting, 3)
    assert [(p.starts_at, p.ends_at) for p in pages] == slots
    assert [p.number for p in pages] == [1, 2, 3]
    # One section per person, each a printed page, in the agenda's order.
    assert page.count('class="mdt-pack__card"') == 3
    assert page.index("ADAMS, Pat") < page.index("BROWN, Pat") < page.index("CLARKE, Pat")
    assert "1 of 3 · 14:00\u201314:30" in page and "3 of 3 · 15:00\u201315:30" in page
    assert "Print the pack" in page and "js/print-page.js" in page
    assert "use your browser\u2019s Print command" in page  # without JavaScript


def test_the_meeting_page_links_to_its_pack(client, navigator, meeting):
    client.force_login(navigator)

    response = client.get(reverse("meetings:meeting", args=[meeting.pk]))

    assert f'href="{_pack_url(meeting)}"' in response.content.decode()


@pytest.mark.parametrize(
    "role",
    [
        Membership.Role.MATRON,
        Membership.Role.GP_CHAIR,
        Membership.Role.NAVIGATOR,
        Membership.Role.MEMBER,
        Membership.Role.ADMIN,
    ],
)
def test_every_member_of_the_network_may_read_the_pack(client, network_a, meeting, role):
    user = UserFactory(is_staff=role == Membership.Role.ADMIN)
    MembershipFactory(user=user, network=network_a, role=role)
    client.force_login(user)
    if role == Membership.Role.ADMIN:
        _verify_second_factor(client, user)  # admins need it for every page

    assert client.get(_pack_url(meeting)).status_code == 200


def test_the_outsider_gets_404_and_no_access_event(client, outsider, meeting):
    client.force_login(outsider)

    response = client.get(_pack_url(meeting))

    assert response.status_code == 404
    assert "ADAMS" not in response.content.decode()
    assert not AccessEvent.objects.filter(what="meeting.pack").exists()


def test_an_unknown_meeting_is_404(client, navigator, meeting):
    client.force_login(navigator)

    assert client.get(reverse("meetings:meeting_pack", args=[navigator.pk])).status_code == 404


def test_one_access_event_names_everyone_in_the_pack(client, matron, meeting):
    client.force_login(matron)
    before = AccessEvent.objects.count()

    client.get(_pack_url(meeting))

    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.latest("at")
    assert event.what == "meeting.pack"
    assert event.user == matron
    assert set(event.patients.values_list("patient_id", flat=True)) == set(
        meeting.agenda.values_list("patient_id", flat=True)
    )
    assert event.patient_count == 3
    assert event.reason == "member of North as Community matron"


def test_an_empty_agenda_says_so(client, navigator, network_a):
    meeting = services.meeting_schedule(
        by=navigator, network=network_a, date=NEXT_WEEK, starts_at=dt.time(9), ends_at=dt.time(10)
    ).meetings[0]
    client.force_login(navigator)

    response = client.get(_pack_url(meeting))

    assert response.status_code == 200
    assert "No one is on the agenda yet." in response.content.decode()


def test_the_pack_is_not_cached(client, navigator, meeting):
    client.force_login(navigator)

    assert "no-store" in client.get(_pack_url(meeting))["Cache-Control"]


# Session, user, memberships; the meeting (with network and chair); its
# agenda; the access event (in a savepoint: 4); the cards (seven: agenda
# history, episodes, status changes, assessments, plans, goals, actions);
# the session (in a savepoint: 3).
PACK_QUERIES = 19


@pytest.mark.parametrize("count", [5, 30])
def test_the_pack_costs_the_same_for_5_or_30_people(
    client,
    practice_a,
    network_a,
    matron,
    chair,
    navigator,
    count,
    django_assert_num_queries,
):
    meeting = _documented(practice_a, network_a, matron, chair, navigator, count)
    with at(dt.date(2026, 3, 1)):
        client.force_login(navigator)
        client.get(reverse("home"))  # settle the session

        with django_assert_num_queries(PACK_QUERIES):
            response = client.get(_pack_url(meeting))

    assert response.status_code == 200
    pages = response.context["pages"]
    assert len(pages) == count
    assert all(len(page.card.since) == 3 and page.card.goals for page in pages)
