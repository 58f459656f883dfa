"""The chair's meeting screen, closing the meeting and the minutes, as the
chair meets them; other roles are refused by the services (403) or the
gate (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from careplans.models import CarePlan
from mdtcare.audit.models import AccessEvent
from meetings import services
from meetings.models import Action, Discussion, Meeting
from patients.models import RegisterEntry
from tests.factories import PatientFactory
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _agenda(navigator, network_a, practice_a, count):
    meeting = services.meeting_schedule(
        by=navigator, network=network_a, date=TODAY, starts_at=dt.time(9), ends_at=dt.time(11)
    ).meetings[0]
    items = []
    for n in range(count):
        patient = PatientFactory(practice=practice_a, family_name=f"Person{n:02d}")
        RegisterEntry.objects.create(
            patient=patient,
            status="active",
            source="gp_practice",
            referrer_name="Dr",
            reason="x",
            referred_on=TODAY,
        )
        items.append(
            services.agenda_item_add(
                by=navigator, meeting=meeting, patient=patient, reason="review_due"
            )
        )
    return meeting, items


@pytest.fixture
def agenda(navigator, network_a, practice_a):
    return _agenda(navigator, network_a, practice_a, 3)


def _run_url(meeting, item=None):
    if item is None:
        return reverse("meetings:meeting_run", args=[meeting.pk])
    return reverse("meetings:meeting_run_item", args=[meeting.pk, item.pk])


def test_the_chair_runs_the_meeting_from_start_to_minutes(client, chair, matron, agenda):
    meeting, (first, second, skipped) = agenda
    entry = RegisterEntry.objects.get(patient=first.patient)
    plan = CarePlan.objects.create(
        patient=first.patient,
        entry=entry,
        status=CarePlan.Status.PROPOSED,
        starts_on=TODAY,
        next_review_on=TODAY + dt.timedelta(days=42),
    )
    client.force_login(chair)

    page = client.get(_run_url(meeting))
    assert b"Start meeting" in page.content and b"09:00" in page.content
    assert client.post(_run_url(meeting)).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.IN_PROGRESS

    page = client.get(_run_url(meeting, first))
    assert b"Ratify the proposed plan" in page.content
    response = client.post(
        _run_url(meeting, first),
        {
            "form": "outcome",
            "outcome": "continue",
            "summary": "Settled",
            "ratify_plan": "on",
            "primary_need": "frailty",
            "clinical_lead": matron.pk,
        },
    )
    assert response.status_code == 302 and response.url == _run_url(meeting, second)
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.RATIFIED
    entry.refresh_from_db()
    assert entry.clinical_lead == matron

    due = TODAY + dt.timedelta(days=7)
    response = client.post(
        _run_url(meeting, first),
        {
            "form": "action",
            "what": "Review medicines",
            "owner": matron.pk,
            "priority": "high",
            "due_on_0": due.day,
            "due_on_1": due.month,
            "due_on_2": due.year,
        },
    )
    assert response.status_code == 302
    assert Action.objects.get().discussion.item == first

    response = client.post(
        _run_url(meeting, second), {"form": "outcome", "outcome": "relist", "revision": ""}
    )
    assert response.url == _run_url(meeting, skipped)

    close_page = client.get(reverse("meetings:meeting_close", args=[meeting.pk]))
    assert "Carried forward" in close_page.content.decode()
    assert skipped.patient.family_name.upper() in close_page.content.decode().upper()
    response = client.post(reverse("meetings:meeting_close", args=[meeting.pk]))
    assert response.status_code == 302
    skipped.refresh_from_db()
    assert skipped.not_reached

    minutes = client.get(reverse("meetings:meeting_minutes", args=[meeting.pk])).content.decode()
    assert "Review medicines" in minutes and "Care plan ratified" in minutes
    assert "Not reached" in minutes

    refused = client.post(_run_url(meeting, first), {"form": "outcome", "outcome": "relist"})
    assert refused.status_code == 400 and "closed" in refused.content.decode()


def test_an_action_without_an_owner_is_refused_on_the_form(client, chair, agenda):
    meeting, (first, *_rest) = agenda
    services.meeting_start(by=chair, meeting=meeting)
    services.discussion_save(by=chair, item=first, outcome="continue")
    client.force_login(chair)

    response = client.post(
        _run_url(meeting, first),
        {
            "form": "action",
            "what": "Call",
            "priority": "routine",
            "due_on_0": "1",
            "due_on_1": "1",
            "due_on_2": str(TODAY.year + 1),
        },
    )

    assert response.status_code == 400 and "Choose who owns the action" in response.content.decode()
    assert not Action.objects.exists()


@pytest.mark.parametrize("persona", ["matron", "navigator"])
def test_members_who_are_not_chairs_are_refused(request, client, agenda, persona):
    meeting, (first, *_rest) = agenda
    client.force_login(request.getfixturevalue(persona))

    assert client.get(_run_url(meeting, first)).status_code == 200  # they may watch
    assert client.post(_run_url(meeting)).status_code == 403
    assert client.post(_run_url(meeting, first), {"outcome": "continue"}).status_code == 403
    assert client.post(reverse("meetings:meeting_close", args=[meeting.pk])).status_code == 403
    assert not Discussion.objects.exists()


def test_an_outsider_finds_nothing(client, outsider, agenda):
    meeting, (first, *_rest) = agenda
    client.force_login(outsider)

    for url in (
        _run_url(meeting),
        _run_url(meeting, first),
        reverse("meetings:meeting_minutes", args=[meeting.pk]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(_run_url(meeting)).status_code == 404


def test_one_access_event_names_the_people_on_the_agenda(client, chair, agenda):
    meeting, items = agenda
    client.force_login(chair)
    before = AccessEvent.objects.count()

    client.get(_run_url(meeting, items[0]))

    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.latest("pk")
    assert event.what == "meeting.run"
    assert set(event.patients.values_list("patient_id", flat=True)) == {
        item.patient_id for item in items
    }


def test_an_admin_starts_the_meeting_only_with_a_reason(client, admin_user, agenda):
    meeting, _items = agenda
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)  # admins need it for every page

    assert client.post(_run_url(meeting)).status_code == 403
    response = client.post(_run_url(meeting), {"acting_reason": "Dr Patel is on leave"})

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == "in_progress"
    assert meeting.acting_chair_reason == "Dr Patel is on leave"


def test_an_outcome_without_a_choice_is_shown_on_the_form(client, chair, agenda):
    meeting, (first, *_rest) = agenda
    services.meeting_start(by=chair, meeting=meeting)
    client.force_login(chair)

    response = client.post(_run_url(meeting, first), {"form": "outcome", "summary": "x"})

    assert response.status_code == 400
    assert "Choose the outcome of the discussion" in response.content.decode()
    assert not Discussion.objects.exists()


@pytest.mark.parametrize("count", [5, 30])
def test_the_screen_costs_the_same_at_5_and_30_items(
    client, chair, navigator, network_a, practice_a, count, django_assert_num_queries
):
    meeting, items = _agenda(navigator, network_a, practice_a, count)
    services.meeting_start(by=chair, meeting=meeting)
    for item in items[:3]:
        services.discussion_save(by=chair, item=item, outcome="continue")
    client.force_login(chair)
    client.get(_run_url(meeting, items[3]))  # warm the session

    with django_assert_num_queries(RUN_QUERIES):
        assert client.get(_run_url(meeting, items[3])).status_code == 200


# Session, user, memberships, access event, the meeting, its agenda (one query
# however long), the person's card (their agenda history, scores, plan,
# actions: a fixed number), the three forms' choices, attendance.
RUN_QUERIES = 20
