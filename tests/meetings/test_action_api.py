"""The actions API's changes: ``POST /api/v1/actions/{id}/start/``,
``complete/``, ``reassign/`` and ``cancel/`` call the same services as the
worklist (the same rules, who may, the same words); a refusal is 400 with a
message per field or a ``detail``, a role that may not 403, a change based
on an old read 409, another network's action 404; each is one access event
naming the person; and the schema describes them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from mdtcare.accounts.models import Organisation
from mdtcare.audit.models import AccessEvent
from mdtcare.notifications.models import Notification
from meetings.models import Action
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
UNKNOWN = "8a7b4f4e-0000-4000-8000-000000000000"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def action(practice_a, matron):
    return Action.objects.create(
        patient=PatientFactory(practice=practice_a),
        what="Ask the falls team about a pendant alarm",
        owner=matron,
        due_on=TODAY - dt.timedelta(days=1),
    )


def url(action, change):
    return reverse(f"action-{change}", args=[action.pk])


def test_a_member_starts_and_completes_an_action(api, matron, action):
    api.force_authenticate(matron)

    started = api.post(url(action, "start"), {}, format="json")
    done = api.post(url(action, "complete"), {"note": "Pendant fitted"}, format="json")

    assert started.status_code == 200, started.json()
    assert started.json()["status"] == "in_progress"
    body = done.json()
    assert (body["status"], body["completion_note"], body["overdue"]) == (
        "done",
        "Pendant fitted",
        False,
    )
    assert body["completed_at"] and body["updated_at"]
    events = AccessEvent.objects.filter(what__startswith="api.actions.").order_by("pk")
    assert [event.what for event in events] == ["api.actions.start", "api.actions.complete"]
    assert {p for e in events for p in e.patients.values_list("patient_id", flat=True)} == {
        action.patient_id
    }


def test_completing_a_cancelled_action_is_400_with_the_reason(api, navigator, matron, action):
    api.force_authenticate(navigator)
    api.post(url(action, "cancel"), {"note": "Moved away"}, format="json")

    response = api.post(url(action, "complete"), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": [
            "This action was cancelled: it cannot be completed. Add a new action if it is "
            "needed after all."
        ]
    }


def test_reassigning_gives_it_to_the_person_and_tells_them(api, navigator, chair, action):
    api.force_authenticate(navigator)

    response = api.post(
        url(action, "reassign"), {"owner": str(chair.pk), "note": "Needs a GP"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["owner"] == {"id": str(chair.pk), "name": str(chair)}
    [told] = Notification.objects.filter(recipient=chair, kind="action_assigned")
    assert told.event_id == f"action:{action.pk}"


def test_reassigning_to_a_team(api, navigator, action):
    team = Organisation.objects.create(
        name="Leeds Community Therapy", type=Organisation.Type.COMMUNITY_TRUST
    )
    api.force_authenticate(navigator)

    response = api.post(url(action, "reassign"), {"owner_organisation": str(team.pk)})

    assert response.status_code == 200
    assert response.json()["owner"] is None
    assert response.json()["owner_organisation"] == {"id": str(team.pk), "name": team.name}


@pytest.mark.parametrize("who", ["outsider", "unknown"])
def test_reassigning_outside_the_network_is_400_naming_the_field(
    api, navigator, outsider, action, who
):
    api.force_authenticate(navigator)
    owner = str(outsider.pk) if who == "outsider" else UNKNOWN

    response = api.post(url(action, "reassign"), {"owner": owner}, format="json")

    assert response.status_code == 400
    assert response.json() == {"owner": ["Choose a member of this person's network"]}


def test_reassigning_with_no_owner_is_400(api, navigator, action):
    api.force_authenticate(navigator)

    response = api.post(url(action, "reassign"), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"owner": ["Choose who owns the action: a person or an organisation"]}


def test_cancelling_needs_the_reason(api, navigator, action):
    api.force_authenticate(navigator)

    missing = api.post(url(action, "cancel"), {}, format="json")
    blank = api.post(url(action, "cancel"), {"note": " "}, format="json")

    assert missing.status_code == 400 and "note" in missing.json()
    assert blank.status_code == 400
    assert blank.json() == {"note": ["Enter why the action is cancelled"]}
    assert Action.objects.get(pk=action.pk).status == Action.Status.OPEN


def test_a_role_that_may_not_reassign_is_403_with_the_reason(api, matron, chair, practice_a):
    theirs = Action.objects.create(
        patient=PatientFactory(practice=practice_a), what="x", owner=chair, due_on=TODAY
    )
    api.force_authenticate(matron)

    response = api.post(url(theirs, "reassign"), {"owner": str(matron.pk)}, format="json")

    assert response.status_code == 403
    assert "may reassign or cancel an action" in response.json()["detail"]


def test_a_change_based_on_an_old_read_is_409_with_the_action_as_it_is(
    api, navigator, matron, action
):
    api.force_authenticate(matron)
    read = api.get(reverse("action-detail", args=[action.pk])).json()
    api.post(url(action, "start"), {}, format="json")
    api.force_authenticate(navigator)

    response = api.post(
        url(action, "cancel"),
        {
            "note": "Not needed",
            "expected_status": read["status"],
            "expected_updated_at": read["updated_at"],
        },
        format="json",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "in_progress"
    assert "Someone else changed this action" in body["detail"]
    assert body["updated_at"] != read["updated_at"]
    assert Action.objects.get(pk=action.pk).status == Action.Status.IN_PROGRESS


def test_a_change_based_on_the_current_read_goes_through(api, matron, action):
    api.force_authenticate(matron)
    read = api.get(reverse("action-detail", args=[action.pk])).json()

    response = api.post(
        url(action, "start"),
        {"expected_status": read["status"], "expected_updated_at": read["updated_at"]},
        format="json",
    )

    assert response.status_code == 200


@pytest.mark.parametrize("change", ["start", "complete", "reassign", "cancel"])
def test_another_networks_action_is_404(api, outsider, action, change):
    api.force_authenticate(outsider)

    response = api.post(url(action, change), {"note": "x"}, format="json")

    assert response.status_code == 404
    assert Action.objects.get(pk=action.pk).status == Action.Status.OPEN
    assert not AccessEvent.objects.exists()


def test_the_changes_need_a_log_in(api, action):
    assert api.post(url(action, "start"), {}, format="json").status_code in (401, 403)


def test_the_schema_describes_the_changes(api, matron):
    api.force_authenticate(matron)

    schema = api.get(reverse("api-schema"), {"format": "json"}).json()

    validate_schema(schema)
    for change in ("start", "complete", "reassign", "cancel"):
        operation = schema["paths"][f"/api/v1/actions/{{id}}/{change}/"]["post"]
        assert {"200", "400", "403", "409"} <= set(operation["responses"])
    reassign = schema["paths"]["/api/v1/actions/{id}/reassign/"]["post"]
    body = reassign["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert {"owner", "owner_organisation", "note", "expected_status"} <= set(fields)
