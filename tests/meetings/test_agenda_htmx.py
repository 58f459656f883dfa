"""The agenda builder's in-page changes: a drop in the drag-and-drop list
(a ``position``) and the Up, Down and Remove buttons sent by htmx are
answered with the agenda block as it is now; without htmx the same posts
still go back to the builder."""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from meetings import services
from meetings.models import Meeting
from tests.factories import MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
NEXT_WEEK = timezone.localdate() + dt.timedelta(days=7)
HTMX = {"HTTP_HX_REQUEST": "true"}
BLOCK = "meetings/schedule/_agenda_table.html"
STALE = "Someone else changed this agenda while you were looking at it."
SECOND_SLOT = "09:40\N{EN DASH}10:20"  # of three in 09:00 to 11:00


def _meeting(by, network):
    return services.meeting_schedule(
        by=by, network=network, date=NEXT_WEEK, starts_at=dt.time(9), ends_at=dt.time(11)
    ).meetings[0]


def _on_agenda(by, meeting, practice, count):
    items = [
        services.agenda_item_add(
            by=by, meeting=meeting, patient=PatientFactory(practice=practice), reason="urgent"
        )
        for _ in range(count)
    ]
    meeting.refresh_from_db()
    return items


def _order(meeting):
    return list(meeting.agenda.order_by("position", "created_at").values_list("pk", flat=True))


def _move(meeting, item):
    return reverse("meetings:agenda_move", args=[meeting.pk, item.pk])


def _remove(meeting, item):
    return reverse("meetings:agenda_remove", args=[meeting.pk, item.pk])


def _shown(response):
    """The people in the answered block, top to bottom, and its revision."""
    text = response.content.decode()
    revision = re.search(r'data-agenda-revision="(\d+)"', text)
    return [item.pk for item, _ in response.context["agenda"]], (
        int(revision.group(1)) if revision else None
    )


def _events():
    return list(AccessEvent.objects.order_by("at", "id"))


# --- A drop, and the buttons, with htmx ------------------------------------------------------


def test_a_drop_answers_the_block_with_the_new_order_and_revision(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second, third = _on_agenda(navigator, meeting, practice_a, 3)
    client.force_login(navigator)

    response = client.post(
        _move(meeting, third), {"revision": meeting.revision, "position": 1}, **HTMX
    )

    assert response.status_code == 200
    assert [t.name for t in response.templates] == [BLOCK]
    assert _shown(response) == ([third.pk, first.pk, second.pk], meeting.revision + 1)
    assert _order(meeting) == [third.pk, first.pk, second.pk]
    text = response.content.decode()
    # The numbers and slots are drawn again: the third person now has the first slot.
    assert text.index(str(third.patient)) < text.index(SECOND_SLOT) < text.index(str(first.patient))
    assert f"{third.patient} is now number 1 of 3." in text
    assert 'hx-post="' in text and "data-agenda-sortable" in text
    assert not list(get_messages(response.wsgi_request))


def test_a_drop_down_the_list_puts_the_item_at_that_place(client, navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    first, second, third, fourth = _on_agenda(navigator, meeting, practice_a, 4)
    client.force_login(navigator)

    response = client.post(
        _move(meeting, first), {"revision": meeting.revision, "position": 3}, **HTMX
    )

    assert _shown(response)[0] == [second.pk, third.pk, first.pk, fourth.pk]


def test_a_drop_past_the_end_goes_last(client, navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    client.force_login(navigator)

    client.post(_move(meeting, first), {"revision": meeting.revision, "position": 9}, **HTMX)

    assert _order(meeting) == [second.pk, first.pk]


def test_the_up_button_with_htmx_answers_the_block(client, navigator, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    client.force_login(navigator)

    response = client.post(
        _move(meeting, second), {"revision": meeting.revision, "direction": "up"}, **HTMX
    )

    assert _shown(response) == ([second.pk, first.pk], meeting.revision + 1)
    # Its focus is given back by id: the moved person's Down button is there.
    assert f'id="agenda-down-{second.pk}"' in response.content.decode()


def test_remove_with_htmx_answers_the_block_and_says_who_was_taken_off(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    client.force_login(navigator)

    response = client.post(_remove(meeting, first), {"revision": meeting.revision}, **HTMX)

    assert _shown(response) == ([second.pk], meeting.revision + 1)
    assert f"{first.patient} has been taken off the agenda." in response.content.decode()
    assert not list(get_messages(response.wsgi_request))


def test_removing_the_last_item_with_htmx_shows_the_empty_agenda(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    (only,) = _on_agenda(navigator, meeting, practice_a, 1)
    client.force_login(navigator)

    response = client.post(_remove(meeting, only), {"revision": meeting.revision}, **HTMX)

    text = response.content.decode()
    assert "No one is on the agenda yet." in text
    assert f'data-agenda-revision="{meeting.revision + 1}"' in text


# --- Refusals ---------------------------------------------------------------------------------


def test_a_drop_on_an_agenda_changed_underneath_shows_it_as_it_is_and_changes_nothing(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    seen = meeting.revision
    added = services.agenda_item_add(
        by=navigator, meeting=meeting, patient=PatientFactory(practice=practice_a), reason="urgent"
    )
    meeting.refresh_from_db()
    client.force_login(navigator)

    response = client.post(_move(meeting, second), {"revision": seen, "position": 1}, **HTMX)

    assert response.status_code == 200
    assert _shown(response) == ([first.pk, second.pk, added.pk], meeting.revision)
    text = response.content.decode()
    assert "nhsuk-error-summary" in text and STALE in text
    assert str(added.patient) in text
    assert _order(meeting) == [first.pk, second.pk, added.pk]
    assert Meeting.objects.get(pk=meeting.pk).revision == meeting.revision
    assert not list(get_messages(response.wsgi_request))


def test_a_remove_on_an_agenda_changed_underneath_is_refused_in_the_block(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    seen = meeting.revision
    services.agenda_item_move(by=navigator, item=second, to_position=1)
    client.force_login(navigator)

    response = client.post(_remove(meeting, first), {"revision": seen}, **HTMX)

    assert STALE in response.content.decode()
    assert _shown(response)[0] == [second.pk, first.pk]


def test_a_drop_without_a_revision_is_refused_as_out_of_date(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    client.force_login(navigator)

    response = client.post(_move(meeting, second), {"position": 1}, **HTMX)
    no_place = client.post(
        _move(meeting, second), {"revision": meeting.revision, "position": 0}, **HTMX
    )

    for answer in (response, no_place):
        assert "This page was out of date." in answer.content.decode()
    assert _order(meeting) == [first.pk, second.pk]


def test_a_drop_once_the_meeting_has_started_is_refused_and_the_buttons_are_gone(
    client, navigator, chair, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    services.meeting_start(by=chair, meeting=meeting)
    client.force_login(navigator)

    response = client.post(
        _move(meeting, second), {"revision": meeting.revision, "position": 1}, **HTMX
    )

    text = response.content.decode()
    assert "cannot change" in text
    assert "hx-post" not in text and "data-agenda-sortable" not in text
    assert _order(meeting) == [first.pk, second.pk]


def test_an_outsider_gets_404_with_htmx_too(client, navigator, outsider, network_a, practice_a):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    client.force_login(outsider)

    moved = client.post(
        _move(meeting, second), {"revision": meeting.revision, "position": 1}, **HTMX
    )
    removed = client.post(_remove(meeting, first), {"revision": meeting.revision}, **HTMX)

    assert (moved.status_code, removed.status_code) == (404, 404)
    assert _order(meeting) == [first.pk, second.pk]
    assert str(first.patient) not in moved.content.decode()


@pytest.mark.parametrize("role", [Membership.Role.MATRON, Membership.Role.MEMBER])
def test_a_role_that_may_not_schedule_is_refused_with_htmx_as_without(
    client, navigator, network_a, practice_a, role
):
    meeting = _meeting(navigator, network_a)
    first, second = _on_agenda(navigator, meeting, practice_a, 2)
    user = UserFactory()
    MembershipFactory(user=user, network=network_a, role=role)
    client.force_login(user)

    for headers in (HTMX, {}):
        moved = client.post(
            _move(meeting, second), {"revision": meeting.revision, "position": 1}, **headers
        )
        removed = client.post(_remove(meeting, first), {"revision": meeting.revision}, **headers)
        assert (moved.status_code, removed.status_code) == (403, 403)

    assert _order(meeting) == [first.pk, second.pk]
    # One access event each, naming the one person the request was about.
    events = _events()
    assert len(events) == 4
    assert [set(e.patients.values_list("patient_id", flat=True)) for e in events] == [
        {second.patient_id},
        {first.patient_id},
    ] * 2


# --- Without htmx, as before -------------------------------------------------------------------


def test_without_htmx_a_move_still_goes_back_to_the_builder(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second, third = _on_agenda(navigator, meeting, practice_a, 3)
    client.force_login(navigator)
    builder = reverse("meetings:agenda_builder", args=[meeting.pk])

    up = client.post(_move(meeting, third), {"revision": meeting.revision, "direction": "up"})
    placed = client.post(_move(meeting, first), {"revision": meeting.revision + 1, "position": 3})
    stale = client.post(_move(meeting, first), {"revision": meeting.revision, "position": 1})
    removed = client.post(_remove(meeting, second), {"revision": meeting.revision + 2})

    assert [r.status_code for r in (up, placed, stale, removed)] == [302] * 4
    assert {r["Location"] for r in (up, placed, stale, removed)} == {builder}
    assert any(STALE in str(m) for m in get_messages(stale.wsgi_request))
    assert f"{second.patient} has been taken off the agenda." in [
        str(m) for m in get_messages(removed.wsgi_request)
    ]
    assert _order(meeting) == [third.pk, first.pk]


# --- Access events and cost --------------------------------------------------------------------


def test_one_access_event_per_request_naming_everyone_the_block_shows(
    client, navigator, network_a, practice_a
):
    meeting = _meeting(navigator, network_a)
    first, second, third = _on_agenda(navigator, meeting, practice_a, 3)
    client.force_login(navigator)

    client.post(_move(meeting, third), {"revision": meeting.revision, "position": 1}, **HTMX)
    client.post(_remove(meeting, first), {"revision": meeting.revision + 1}, **HTMX)
    client.post(_move(meeting, second), {"revision": 1, "position": 1}, **HTMX)  # stale
    client.post(_move(meeting, second), {"revision": meeting.revision + 2, "direction": "up"})

    events = _events()
    assert [e.what for e in events] == [
        "meeting.agenda.move",
        "meeting.agenda.remove",
        "meeting.agenda.move",
        "meeting.agenda.move",
    ]
    everyone = {first.patient_id, second.patient_id, third.patient_id}
    assert [set(e.patients.values_list("patient_id", flat=True)) for e in events] == [
        everyone,
        everyone,  # the person taken off is named in the block ("… taken off")
        {second.patient_id, third.patient_id},
        {second.patient_id},  # no htmx: the builder's own page names the rest
    ]


@pytest.mark.parametrize("count", [5, 30])
def test_a_drop_costs_the_same_number_of_queries_for_5_or_30_items(
    client, navigator, network_a, practice_a, django_assert_num_queries, count
):
    meeting = _meeting(navigator, network_a)
    items = _on_agenda(navigator, meeting, practice_a, count)
    client.force_login(navigator)
    client.get(reverse("meetings:agenda_builder", args=[meeting.pk]))  # the session, warmed

    with django_assert_num_queries(DROP_QUERIES):
        response = client.post(
            _move(meeting, items[-1]), {"revision": meeting.revision, "position": 1}, **HTMX
        )

    assert len(response.context["agenda"]) == count
    assert _order(meeting)[0] == items[-1].pk


DROP_QUERIES = 23
