"""/api/v1/notifications/: a person's own notifications ("me"), never
another's ("other"), and marking them read."""

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from mdtcare.audit.models import AccessEvent
from mdtcare.notifications.models import Notification
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications/"


@pytest.fixture
def api(matron):
    client = APIClient()
    client.force_authenticate(matron)
    return client


def make(user, *, event_id, **fields):
    return Notification.objects.create(
        recipient=user,
        kind=fields.pop("kind", "referral_received"),
        event_id=event_id,
        link=fields.pop("link", "/patients/triage/"),
        **fields,
    )


def test_the_list_is_the_users_own_newest_first(api, matron, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    older = make(matron, event_id="1", read_at=timezone.now())
    newer = make(matron, event_id="2", kind="self_harm_alert", urgent=True, patient_id=patient.pk)
    make(navigator, event_id="3")
    Notification.objects.filter(pk=older.pk).update(created_at=timezone.now().replace(year=2025))

    response = api.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert first == {
        "id": str(newer.public_id),
        "kind": "self_harm_alert",
        "title": "Urgent: PHQ-9 item 9 answered above zero",
        "urgent": True,
        "patient": str(patient.pk),
        "link": "/patients/triage/",
        "created_at": first["created_at"],
        "read_at": None,
    }
    assert second["id"] == str(older.public_id) and second["read_at"] is not None


def test_the_list_filters_unread_and_read(api, matron):
    unread = make(matron, event_id="1")
    read = make(matron, event_id="2", read_at=timezone.now())

    assert [n["id"] for n in api.get(LIST, {"unread": "true"}).json()["results"]] == [
        str(unread.public_id)
    ]
    assert [n["id"] for n in api.get(LIST, {"unread": "false"}).json()["results"]] == [
        str(read.public_id)
    ]


def test_a_list_writes_one_access_event_naming_the_people(api, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    make(matron, event_id="1", patient_id=patient.pk)

    api.get(LIST)

    event = AccessEvent.objects.get()
    assert (event.what, event.patient_count) == ("api.notifications.list", 1)
    assert event.reason == "member of North as Community matron"


def test_one_notification_reads_back_by_its_id(api, matron):
    notification = make(matron, event_id="1")

    response = api.get(f"{LIST}{notification.public_id}/")

    assert response.status_code == 200
    assert response.json()["id"] == str(notification.public_id)
    assert AccessEvent.objects.get().what == "api.notifications.read"


def test_marking_one_read(api, matron):
    notification = make(matron, event_id="1")

    response = api.post(f"{LIST}{notification.public_id}/read/")

    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert AccessEvent.objects.get().what == "api.notifications.mark_read"


def test_marking_all_read(api, matron, navigator):
    make(matron, event_id="1")
    make(matron, event_id="2")
    make(matron, event_id="3", read_at=timezone.now())
    theirs = make(navigator, event_id="4")

    response = api.post(f"{LIST}read-all/")

    assert response.json() == {"marked": 2}
    assert not Notification.objects.filter(recipient=matron, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("suffix", ["", "read/"])
def test_another_users_notification_is_not_found(api, navigator, suffix):
    theirs = make(navigator, event_id="1")

    call = api.get if not suffix else api.post
    response = call(f"{LIST}{theirs.public_id}/{suffix}")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_malformed_id_is_not_found(api):
    assert api.get(f"{LIST}12/").status_code == 404


def test_an_outsider_lists_only_their_own(matron, outsider):
    make(matron, event_id="1")
    client = APIClient()
    client.force_authenticate(outsider)

    assert client.get(LIST).json()["count"] == 0


def test_anonymous_requests_are_refused():
    assert APIClient().get(LIST).status_code in (401, 403)


def test_the_schema_stays_valid_and_names_the_notification_routes(api):
    schema = api.get(reverse("api-schema"), {"format": "json"}).json()

    validate_schema(schema)
    assert {
        "/api/v1/notifications/",
        "/api/v1/notifications/{id}/",
        "/api/v1/notifications/{id}/read/",
        "/api/v1/notifications/read-all/",
    } <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/notifications/"]["get"]["parameters"]}
    assert {"unread", "kind", "page"} <= parameters


@pytest.mark.parametrize("rows", [1, 50])
def test_the_list_query_count_does_not_grow_with_rows(
    api, matron, practice_a, rows, django_assert_num_queries
):
    for i, patient in enumerate(PatientFactory.create_batch(rows, practice=practice_a)):
        make(matron, event_id=str(i), patient_id=patient.pk)

    # Count, page, people, memberships (the audit's reason), the access event.
    with django_assert_num_queries(8):
        api.get(LIST)
