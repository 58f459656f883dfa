"""The bell in the header, the notifications page and the settings page:
a person's own notifications only."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mdtcare.audit.models import AccessEvent
from mdtcare.notifications.models import Notification, NotificationPreference
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:list")
SETTINGS = reverse("notifications:settings")
READ_ALL = reverse("notifications:read_all")


def read_url(notification):
    return reverse("notifications:read", args=[notification.public_id])


def unread_badge(html: str) -> str | None:
    match = re.search(r'data-unread-count="(\d+)"', html)
    return match and match.group(1)


def make(user, n=1, **fields):
    return [
        Notification.objects.create(
            recipient=user,
            kind=fields.get("kind", "referral_received"),
            event_id=f"{fields.get('kind', 'e')}:{i}:{timezone.now().timestamp()}",
            urgent=fields.get("urgent", False),
            patient_id=fields.get("patient_id"),
            link=fields.get("link", "/patients/triage/"),
            read_at=fields.get("read_at"),
        )
        for i in range(n)
    ]


# --- the bell ---------------------------------------------------------------------------------


def test_the_bell_shows_the_unread_count_and_links_to_the_page(client, matron, navigator):
    make(matron, 3)
    make(matron, 2, read_at=timezone.now())
    make(navigator, 4)
    client.force_login(matron)

    html = client.get(reverse("home")).text

    assert unread_badge(html) == "3"
    assert f'id="notifications-bell" href="{LIST}"' in html
    assert '3<span class="nhsuk-u-visually-hidden"> unread</span>' in html


def test_no_badge_when_nothing_is_unread(client, matron):
    client.force_login(matron)

    html = client.get(reverse("home")).text

    assert 'id="notifications-bell"' in html
    assert unread_badge(html) is None


def test_the_bell_costs_one_query_then_none_while_cached(client, matron):
    make(matron, 2)
    client.force_login(matron)
    table = Notification._meta.db_table

    def notification_queries():
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("home"))
        return [q["sql"] for q in queries.captured_queries if table in q["sql"]]

    assert len(notification_queries()) == 1
    assert notification_queries() == []


def test_the_count_follows_reading_and_new_notifications(
    client, matron, django_capture_on_commit_callbacks
):
    from mdtcare.notifications.services import notifications_raise

    [first, _] = make(matron, 2)
    client.force_login(matron)
    assert unread_badge(client.get(reverse("home")).text) == "2"

    client.post(read_url(first))
    assert unread_badge(client.get(reverse("home")).text) == "1"

    with django_capture_on_commit_callbacks(execute=False):
        notifications_raise(kind="agenda_published", event_id="agenda:1", recipients=[matron])
    assert unread_badge(client.get(reverse("home")).text) == "2"

    client.post(READ_ALL)
    assert unread_badge(client.get(reverse("home")).text) is None


def test_a_page_with_no_header_pays_nothing_for_the_bell(client, matron):
    client.force_login(matron)
    table = Notification._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("api-schema"), {"format": "json"})

    assert not [q for q in queries.captured_queries if table in q["sql"]]


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_the_users_own_newest_first_with_unread_marked(
    client, matron, navigator, practice_a
):
    patient = PatientFactory(practice=practice_a)
    old = make(matron, kind="agenda_published", read_at=timezone.now())[0]
    new = make(matron, kind="referral_received", patient_id=patient.pk)[0]
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now().replace(year=2025))
    theirs = make(navigator, kind="meeting_tomorrow")[0]
    client.force_login(matron)

    response = client.get(LIST)

    html = response.text
    assert response.status_code == 200
    assert html.index(str(new.public_id)) < html.index(str(old.public_id))
    assert str(theirs.public_id) not in html
    assert html.count("Unread</strong>") == 1
    assert f'About <a href="{reverse("patients:detail", args=[patient.pk])}">' in html
    assert str(patient) in html
    assert 'href="/patients/triage/"' in html
    assert read_url(new) in html and read_url(old) not in html  # only unread ones
    assert "Mark all as read" in html


def test_urgent_notifications_stand_out(client, matron):
    make(matron, kind="self_harm_alert", urgent=True)
    make(matron, kind="referral_received")
    client.force_login(matron)

    html = client.get(LIST).text

    assert html.count("nhsuk-warning-callout") == 2  # the callout and its label
    assert 'class="nhsuk-warning-callout__label"' in html
    assert html.count('class="nhsuk-card nhsuk-u-margin-bottom-0"') == 1


def test_the_list_is_paginated(client, matron):
    make(matron, 30)
    client.force_login(matron)

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert first.text.count("data-notification") == 25
    assert second.text.count("data-notification") == 5
    assert "Page 2 of 2" in first.text


def test_an_empty_list_says_what_will_appear(client, matron):
    client.force_login(matron)

    html = client.get(LIST).text

    assert "You have no notifications." in html
    assert "Mark all as read" not in html


def test_a_person_the_user_can_no_longer_see_is_not_named(client, outsider, practice_a):
    patient = PatientFactory(practice=practice_a)
    make(outsider, patient_id=patient.pk)
    client.force_login(outsider)

    html = client.get(LIST).text

    assert patient.family_name.upper() not in html
    assert str(patient.pk) not in html


def test_the_list_writes_one_access_event_naming_the_people_shown(client, matron, practice_a):
    patients = PatientFactory.create_batch(2, practice=practice_a)
    for patient in patients:
        make(matron, patient_id=patient.pk)
    make(matron)  # about no one
    client.force_login(matron)

    client.get(LIST)

    event = AccessEvent.objects.get()
    assert (event.what, event.user, event.patient_count) == ("notifications.list", matron, 2)
    assert set(event.patients.values_list("patient_id", flat=True)) == {p.pk for p in patients}
    assert event.reason == "member of North as Community matron"


@pytest.mark.parametrize("rows", [1, 50])
def test_the_list_query_count_does_not_grow_with_rows(
    client, matron, practice_a, rows, django_assert_num_queries
):
    for patient in PatientFactory.create_batch(rows, practice=practice_a):
        make(matron, patient_id=patient.pk)
    client.force_login(matron)
    client.get(reverse("home"))  # settle the session (and the bell's count)

    # Session, user, memberships; the count and the page; the people named;
    # the access event (savepoint, event, its patients, release); the session.
    with django_assert_num_queries(13):
        client.get(LIST)


# --- marking read -----------------------------------------------------------------------------


def test_mark_as_read_is_a_plain_post_that_returns_to_the_page(client, matron):
    [notification] = make(matron)
    client.force_login(matron)

    response = client.post(read_url(notification), {"next": f"{LIST}?page=1"})

    assert response.status_code == 302
    assert response.url == f"{LIST}?page=1"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert AccessEvent.objects.get().what == "notifications.mark_read"


def test_mark_as_read_never_sends_the_user_to_another_site(client, matron):
    [notification] = make(matron)
    client.force_login(matron)

    response = client.post(read_url(notification), {"next": "https://evil.example.com/"})

    assert response.url == LIST


def test_reading_again_keeps_the_first_time(client, matron):
    earlier = timezone.now().replace(year=2025)
    [notification] = make(matron, read_at=earlier)
    client.force_login(matron)

    client.post(read_url(notification))

    notification.refresh_from_db()
    assert notification.read_at == earlier


def test_mark_as_read_with_htmx_answers_with_the_item_and_the_new_count(client, matron):
    first, _ = make(matron, 2)
    client.force_login(matron)

    response = client.post(read_url(first), {"next": LIST}, headers={"HX-Request": "true"})

    html = response.text
    assert response.status_code == 200
    assert f'id="notification-{first.public_id}"' in html
    assert "Unread" not in html.split('id="notifications-bell"')[0]
    assert 'id="notifications-bell" href="/notifications/" hx-swap-oob="true"' in html
    assert unread_badge(html) == "1"


def test_another_users_notification_is_not_found(client, matron, navigator):
    [theirs] = make(navigator)
    client.force_login(matron)

    response = client.post(read_url(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_outsider_cannot_read_a_network_members_notification(client, outsider, matron):
    [matrons] = make(matron)
    client.force_login(outsider)

    assert client.post(read_url(matrons)).status_code == 404


def test_mark_as_read_needs_a_post(client, matron):
    [notification] = make(matron)
    client.force_login(matron)

    assert client.get(read_url(notification)).status_code == 405


def test_mark_all_as_read_marks_only_the_users_own(client, matron, navigator):
    make(matron, 3)
    [theirs] = make(navigator)
    client.force_login(matron)

    response = client.post(READ_ALL, follow=True)

    assert not Notification.objects.filter(recipient=matron, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "All your notifications are marked as read." in response.text


def test_pages_need_a_log_in(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


# --- settings ---------------------------------------------------------------------------------


def test_the_settings_page_asks_about_each_kind_but_the_urgent_ones(client, matron):
    NotificationPreference.objects.create(user=matron, kind="review_due_7", delivery="in_app")
    client.force_login(matron)

    html = client.get(SETTINGS).text

    assert html.count('class="nhsuk-fieldset"') == 8
    assert 'name="self_harm_alert"' not in html
    assert "Urgent alerts are always e-mailed to you straight away" in html
    assert re.search(
        r'value="in_app"[^>]*name="review_due_7"[^>]*checked|'
        r'name="review_due_7"[^>]*value="in_app"[^>]*checked',
        html,
    )
    assert re.search(r'name="referral_received"[^>]*value="in_app_and_email"[^>]*checked', html)


def test_the_settings_are_saved(client, matron):
    client.force_login(matron)
    choices = {
        kind: "in_app_and_email" for kind in Notification.Kind.values if kind != "self_harm_alert"
    }
    choices.update(referral_received="daily_digest", meeting_tomorrow="in_app")

    response = client.post(SETTINGS, choices)

    assert response.status_code == 302
    saved = dict(matron.notification_preferences.values_list("kind", "delivery"))
    assert saved["referral_received"] == "daily_digest"
    assert saved["meeting_tomorrow"] == "in_app"
    assert "self_harm_alert" not in saved


def test_a_missing_or_unknown_choice_is_shown_and_nothing_saved(client, matron):
    client.force_login(matron)

    response = client.post(SETTINGS, {"referral_received": "carrier_pigeon"})

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "Select a valid choice" in response.text
    assert not NotificationPreference.objects.exists()
