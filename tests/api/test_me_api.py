"""GET /api/v1/me/: who the caller is (username, profession, networks and
roles); authentication required; no access event; one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/"


@pytest.fixture
def api():
    return APIClient()


def test_the_endpoint_is_at_api_v1_me():
    assert reverse("api-me") == URL


def test_anonymous_is_refused(api):
    response = api.get(URL)

    assert response.status_code in (401, 403)
    assert "detail" in response.json()


def test_the_caller_gets_their_own_details(api, matron, outsider):
    api.force_authenticate(matron)

    response = api.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "username": "matron",
        "full_name": matron.get_full_name(),
        "profession": "community_matron",
        "networks": [
            {
                "id": str(matron.memberships.get().network_id),
                "code": "north",
                "name": "North",
                "role": "matron",
            }
        ],
    }


def test_every_network_with_its_role(api, outsider, network_a):
    MembershipFactory(user=outsider, network=network_a, role=Membership.Role.NAVIGATOR)
    api.force_authenticate(outsider)

    networks = api.get(URL).json()["networks"]

    assert [(n["code"], n["role"]) for n in networks] == [
        ("north", "navigator"),
        ("south", "member"),
    ]


def test_a_token_works(api, navigator):
    token = api.post(
        reverse("api-token"), {"username": "navigator", "password": PASSWORD}, format="json"
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = api.get(URL)

    assert response.status_code == 200
    assert response.json()["username"] == "navigator"


def test_it_writes_no_access_event(api, chair):
    api.force_authenticate(chair)

    api.get(URL)

    assert not AccessEvent.objects.exists()


def test_it_makes_one_query(api, chair, network_b):
    MembershipFactory(user=chair, network=network_b, role=Membership.Role.MEMBER)
    api.force_authenticate(chair)

    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL)

    assert response.status_code == 200
    assert len(queries.captured_queries) == 1


def test_it_is_in_the_schema(api, chair):
    api.force_authenticate(chair)

    schema = api.get(reverse("api-schema"), {"format": "json"}).json()

    assert "/api/v1/me/" in schema["paths"]
