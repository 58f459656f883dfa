"""Scheduling meetings and building their agendas, as navigators, chairs,
matrons and outsiders meet the pages."""

import datetime as dt
import itertools

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from meetings import services
from meetings.models import AgendaItem, Meeting
from meetings.views.schedule import time_slots
from patients.models import RegisterEntry
from tests.factories import MembershipFactory, PatientFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
NEXT_WEEK = TODAY + dt.timedelta(days=7)
NINE, ELEVEN = dt.time(9), dt.time(11)


def _date(prefix, day):
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


def _schedule_post(network, **overrides):
    return {
        "network": str(network.pk),
        **_date("date", NEXT_WEEK),
        "starts_at": "09:00",
        "ends_at": "11:00",
        "format": "face_to_face",
        "venue": "Riverside Medical Centre, room 2",
        "dial_in": "",
        "chair": "",
        "frequency": "",
        **overrides,
    }


def _meeting(by, network, day=NEXT_WEEK):
    return services.meeting_schedule(
        by=by, network=network, date=day, starts_at=NINE, ends_at=ELEVEN
    ).meetings[0]


def _on_agenda(by, meeting, practice, count=1):
    items = [
        services.agenda_item_add(
            by=by, meeting=meeting, patient=PatientFactory(practice=practice), reason="urgent"
        )
        for _ in range(count)
    ]
    meeting.refresh_from_db()
    return items


def _new_referral(practice, **kwargs):
    patient = PatientFactory(practice=practice, **kwargs)
    RegisterEntry.objects.create(
        patient=patient,
        status="active",
        source="gp_practice",
        referrer_name="Dr",
        reason="x",
        referred_on=TODAY,
    )
    return patient


def _texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def _order(meeting):
    return list(meeting.agenda.order_by("position", "created_at").values_list("pk", flat=True))


# --- Scheduling -----------------------------------------------------------------------------


def test_a_navigator_schedules_a_single_meeting(client, navigator, chair, network_a):
    client.force_login(navigator)
    form = client.get(reverse("meetings:meeting_schedule"))
    assert list(form.context["form"].fields["chair"].queryset) == [chair]

    response = client.post(
        reverse("meetings:meeting_schedule"), _schedule_post(network_a, chair=str(chair.pk))
    )

    meeting = Meeting.objects.get()
    assert response["Location"] == reverse("meetings:meeting", args=[meeting.pk])
    assert (meeting.date, meeting.starts_at, meeting.chair) == (NEXT_WEEK, NINE, chair)
    assert meeting.series is None
    page = client.get(response["Location"])
    assert "The meeting has been scheduled." in page.content.decode()


def test_a_navigator_schedules_a_weekly_series(client, navigator, network_a):
    client.force_login(navigator)

    client.post(
        reverse("meetings:meeting_schedule"),
        _schedule_post(
            network_a, frequency="weekly", **_date("until", NEXT_WEEK + dt.timedelta(days=21))
        ),
    )

    dates = list(Meeting.objects.order_by("date").values_list("date", flat=True))
    assert dates == [NEXT_WEEK + dt.timedelta(days=7 * n) for n in range(4)]
    assert Meeting.objects.values("series").distinct().count() == 1


def test_a_meeting_ending_before_it_starts_is_shown_in_the_error_summary(
    client, navigator, network_a
):
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:meeting_schedule"), _schedule_post(network_a, ends_at="08:30")
    )

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.content.decode()
    assert "The meeting must end after it starts" in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_meeting_in_the_past_or_with_a_bad_time_is_refused(client, navigator, network_a):
    client.force_login(navigator)

    past = client.post(
        reverse("meetings:meeting_schedule"),
        _schedule_post(network_a, **_date("date", TODAY - dt.timedelta(days=1))),
    )
    bad_time = client.post(
        reverse("meetings:meeting_schedule"), _schedule_post(network_a, starts_at="9 o'clock")
    )

    assert "cannot be in the past" in past.content.decode()
    assert "must be a 24-hour time" in bad_time.content.decode()
    assert not Meeting.objects.exists()


def test_an_overlapping_meeting_is_scheduled_with_a_warning(client, navigator, network_a):
    _meeting(navigator, network_a)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:meeting_schedule"), _schedule_post(network_a, starts_at="10:00")
    )

    assert response.status_code == 302
    assert any("overlaps" in text for text in _texts(response))
    assert Meeting.objects.count() == 2


def test_a_matron_may_not_schedule(client, matron):
    client.force_login(matron)

    assert client.get(reverse("meetings:meeting_schedule")).status_code == 403


def test_the_list_shows_upcoming_and_past_meetings_of_my_networks(
    client, navigator, network_a, network_b, practice_a
):
    upcoming = _meeting(navigator, network_a)
    _on_agenda(navigator, upcoming, practice_a, count=2)
    Meeting.objects.create(
        network=network_a,
        date=TODAY - dt.timedelta(days=7),
        starts_at=NINE,
        ends_at=ELEVEN,
        status="closed",
    )
    Meeting.objects.create(network=network_b, date=NEXT_WEEK, starts_at=NINE, ends_at=ELEVEN)
    client.force_login(navigator)

    response = client.get(reverse("meetings:meeting_list"))
    past = client.get(reverse("meetings:meeting_list"), {"show": "past"})

    assert [m.pk for m in response.context["meetings"]] == [upcoming.pk]
    assert response.context["meetings"][0].agenda_count == 2
    assert "Schedule a meeting" in response.content.decode()
    assert [m.status for m in past.context["meetings"]] == ["closed"]


def test_the_meeting_page_shows_the_agenda_with_time_slots(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    items = _on_agenda(navigator, meeting, practice_a, count=3)
    client.force_login(navigator)

    response = client.get(reverse("meetings:meeting", args=[meeting.pk]))

    page = response.content.decode()
    slots = ["09:00\u201309:40", "09:40\u201310:20", "10:20\u201311:00"]  # en dashes
    assert all(slot in page for slot in slots)
    assert "Cancel this meeting" in page
    event = AccessEvent.objects.get(what="meeting.view")
    assert set(event.patients.values_list("patient_id", flat=True)) == {i.patient_id for i in items}


def test_slots_share_the_meeting_to_the_minute_and_end_with_it(navigator, network_a):
    meeting = Meeting(date=NEXT_WEEK, starts_at=NINE, ends_at=dt.time(10))

    slots = time_slots(meeting, 7)

    assert slots[0] == (NINE, dt.time(9, 8))
    assert slots[-1][1] == dt.time(10)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slots))


def test_cancelling_needs_a_reason(client, navigator, network_a):
    meeting = _meeting(navigator, network_a)
    client.force_login(navigator)
    url = reverse("meetings:meeting_cancel", args=[meeting.pk])

    refused = client.post(url, {"reason": ""})
    done = client.post(url, {"reason": "Bank holiday"})

    assert "Enter why the meeting is cancelled" in refused.content.decode()
    assert done.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.cancel_reason) == ("cancelled", "Bank holiday")


# --- Who may see and do what ----------------------------------------------------------------


def test_an_outsider_gets_404_on_every_meeting_page(
    client, navigator, outsider, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    (item,) = _on_agenda(navigator, meeting, practice_a)
    client.force_login(outsider)
    args = [meeting.pk]

    for name in ("meeting", "meeting_cancel", "agenda_builder"):
        assert client.get(reverse(f"meetings:{name}", args=args)).status_code == 404, name
    for name in ("meeting_cancel", "agenda_add", "agenda_publish"):
        assert (
            client.post(reverse(f"meetings:{name}", args=args), {"revision": 2}).status_code == 404
        )
    for name in ("agenda_move", "agenda_remove"):
        url = reverse(f"meetings:{name}", args=[meeting.pk, item.pk])
        assert client.post(url, {"revision": 2, "direction": "up"}).status_code == 404
    assert client.get(reverse("meetings:meeting_list")).context["meetings"].__len__() == 0
    assert meeting.agenda.count() == 1


def test_a_matron_sees_the_meeting_but_gets_403_on_agenda_actions(
    client, navigator, matron, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, count=2)
    proposed = _new_referral(practice_a)
    client.force_login(matron)
    revision = {"revision": meeting.revision}

    assert client.get(reverse("meetings:meeting", args=[meeting.pk])).status_code == 200
    assert client.get(reverse("meetings:agenda_builder", args=[meeting.pk])).status_code == 403
    posts = [
        (reverse("meetings:agenda_add", args=[meeting.pk]), {**revision, "patient": proposed.pk}),
        (
            reverse("meetings:agenda_move", args=[meeting.pk, second.pk]),
            {**revision, "direction": "up"},
        ),
        (reverse("meetings:agenda_remove", args=[meeting.pk, first.pk]), revision),
        (reverse("meetings:agenda_publish", args=[meeting.pk]), revision),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert _order(meeting) == [first.pk, second.pk]
    meeting.refresh_from_db()
    assert meeting.agenda_published_at is None


# --- The agenda builder ---------------------------------------------------------------------


def test_the_builder_shows_proposals_by_reason_and_records_who_was_shown(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    (item,) = _on_agenda(navigator, meeting, practice_a)
    proposed = _new_referral(practice_a)
    client.force_login(navigator)

    response = client.get(reverse("meetings:agenda_builder", args=[meeting.pk]))

    assert [label for label, _ in response.context["proposal_groups"]] == ["New referral"]
    assert f'value="{meeting.revision}"' in response.content.decode()
    event = AccessEvent.objects.get(what="meeting.agenda")
    assert set(event.patients.values_list("patient_id", flat=True)) == {
        item.patient_id,
        proposed.pk,
    }


def test_add_selected_and_add_all_put_proposals_on_the_agenda(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second, third = (_new_referral(practice_a) for _ in range(3))
    client.force_login(navigator)
    url = reverse("meetings:agenda_add", args=[meeting.pk])

    client.post(url, {"revision": meeting.revision, "patient": [first.pk, second.pk]})
    meeting.refresh_from_db()
    client.post(url, {"revision": meeting.revision, "add_all": "on"})

    reasons = dict(meeting.agenda.values_list("patient_id", "reason"))
    assert reasons == {p.pk: "new_referral" for p in (first, second, third)}


def test_an_urgent_item_is_found_by_name_and_added(client, navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    patient = PatientFactory(practice=practice_a, family_name="Okafor", given_name="Mary")
    PatientFactory(practice=practice_a, family_name="Smith")
    client.force_login(navigator)

    found = client.get(reverse("meetings:agenda_builder", args=[meeting.pk]), {"q": "okafor"})
    by_number = client.get(
        reverse("meetings:agenda_builder", args=[meeting.pk]), {"q": patient.nhs_number}
    )
    added = client.post(
        reverse("meetings:agenda_add", args=[meeting.pk]),
        {"revision": meeting.revision, "urgent": "on", "patient": patient.pk},
    )

    assert found.context["found"] == [patient]
    assert by_number.context["found"] == [patient]
    assert "Add as urgent" in found.content.decode()
    assert added.status_code == 302
    assert meeting.agenda.get().reason == AgendaItem.Reason.URGENT


def test_the_search_lists_only_people_of_the_meetings_network(
    client, navigator, network_a, network_b, practice_a, practice_b
):
    MembershipFactory(user=navigator, network=network_b, role=Membership.Role.MEMBER)
    meeting = _meeting(navigator, network_a)
    PatientFactory(practice=practice_b, family_name="Okafor")
    client.force_login(navigator)

    found = client.get(reverse("meetings:agenda_builder", args=[meeting.pk]), {"q": "okafor"})

    assert found.context["found"] == []


def test_a_person_of_another_network_cannot_be_added(
    client, navigator, network_a, network_b, practice_b
):
    # The navigator also belongs to South, so she can see the person: the
    # service is what refuses.
    MembershipFactory(user=navigator, network=network_b, role=Membership.Role.MEMBER)
    meeting = _meeting(navigator, network_a)
    other = PatientFactory(practice=practice_b)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:agenda_add", args=[meeting.pk]),
        {"revision": meeting.revision, "urgent": "on", "patient": other.pk},
    )

    assert any("another network" in text for text in _texts(response))
    assert not meeting.agenda.exists()


def test_a_person_outside_my_networks_cannot_be_added(client, navigator, network_a, practice_b):
    meeting = _meeting(navigator, network_a)
    other = PatientFactory(practice=practice_b)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:agenda_add", args=[meeting.pk]),
        {"revision": meeting.revision, "urgent": "on", "patient": other.pk},
    )

    assert "That person could not be found." in _texts(response)
    assert not meeting.agenda.exists()


def test_items_move_up_and_down(client, navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    first, second, third = _on_agenda(navigator, meeting, practice_a, count=3)
    client.force_login(navigator)

    client.post(
        reverse("meetings:agenda_move", args=[meeting.pk, third.pk]),
        {"revision": meeting.revision, "direction": "up"},
    )
    assert _order(meeting) == [first.pk, third.pk, second.pk]
    meeting.refresh_from_db()
    client.post(
        reverse("meetings:agenda_move", args=[meeting.pk, first.pk]),
        {"revision": meeting.revision, "direction": "down"},
    )
    assert _order(meeting) == [third.pk, first.pk, second.pk]


def test_an_item_is_removed(client, navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, count=2)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:agenda_remove", args=[meeting.pk, first.pk]),
        {"revision": meeting.revision},
    )

    assert response.status_code == 302
    assert _order(meeting) == [second.pk]
    assert AccessEvent.objects.get(what="meeting.agenda.remove")


def test_a_change_based_on_an_older_agenda_is_refused_with_a_message(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, count=2)
    seen = meeting.revision
    services.agenda_item_add(
        by=navigator, meeting=meeting, patient=PatientFactory(practice=practice_a), reason="urgent"
    )
    client.force_login(navigator)

    moved = client.post(
        reverse("meetings:agenda_move", args=[meeting.pk, second.pk]),
        {"revision": seen, "direction": "up"},
    )
    removed = client.post(
        reverse("meetings:agenda_remove", args=[meeting.pk, first.pk]), {"revision": seen}
    )
    published = client.post(
        reverse("meetings:agenda_publish", args=[meeting.pk]), {"revision": seen}
    )

    for response in (moved, removed, published):
        assert any("Someone else changed this agenda" in t for t in _texts(response))
    assert _order(meeting)[:2] == [first.pk, second.pk]
    meeting.refresh_from_db()
    assert meeting.agenda_published_at is None


def test_the_agenda_is_published(client, navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    _on_agenda(navigator, meeting, practice_a)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:agenda_publish", args=[meeting.pk]), {"revision": meeting.revision}
    )

    assert response["Location"] == reverse("meetings:meeting", args=[meeting.pk])
    assert "The agenda has been published to the people invited." in _texts(response)
    meeting.refresh_from_db()
    assert meeting.agenda_published_at is not None


def test_an_empty_agenda_is_not_published(client, navigator, network_a):
    meeting = _meeting(navigator, network_a)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:agenda_publish", args=[meeting.pk]), {"revision": meeting.revision}
    )

    assert "Add people to the agenda before publishing it." in _texts(response)


@pytest.mark.parametrize("count", [5, 30])
def test_the_builder_makes_the_same_number_of_queries_for_5_or_30_items(
    client, navigator, network_a, practice_a, django_assert_num_queries, count
):
    meeting = _meeting(navigator, network_a)
    _on_agenda(navigator, meeting, practice_a, count=count)
    for _ in range(count // 5):
        _new_referral(practice_a)
    client.force_login(navigator)
    url = reverse("meetings:agenda_builder", args=[meeting.pk])
    client.get(url)  # the session and the like, warmed

    with django_assert_num_queries(BUILDER_QUERIES):
        response = client.get(url, {"q": "a"})

    assert len(response.context["agenda"]) == count


BUILDER_QUERIES = 17


@pytest.mark.parametrize("count", [1, 15])
def test_the_meeting_list_makes_the_same_number_of_queries_for_1_or_15_meetings(
    client, navigator, chair, network_a, django_assert_num_queries, count
):
    for n in range(count):
        meeting = _meeting(navigator, network_a, day=NEXT_WEEK + dt.timedelta(days=n))
        Meeting.objects.filter(pk=meeting.pk).update(chair=chair)
    client.force_login(navigator)
    url = reverse("meetings:meeting_list")
    client.get(url)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(url)

    assert len(response.context["meetings"]) == count


LIST_QUERIES = 8
