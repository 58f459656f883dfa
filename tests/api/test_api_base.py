"""The API base: token log-in, authentication required everywhere, JSON
errors, and a valid OpenAPI schema with offline docs."""

import pytest
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_token_is_issued_for_a_right_password(api, matron):
    response = api.post(
        reverse("api-token"), {"username": "matron", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert len(response.json()["token"]) == 40


def test_token_is_refused_for_a_wrong_password_with_a_json_message(api, matron):
    response = api.post(
        reverse("api-token"), {"username": "matron", "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_token_authenticates_api_requests(api, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    token = api.post(
        reverse("api-token"), {"username": "matron", "password": PASSWORD}, format="json"
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = api.get(reverse("patient-list"))

    assert [row["id"] for row in response.json()["results"]] == [str(patient.pk)]


@pytest.mark.parametrize("url_name", ["patient-list", "api-schema", "api-docs"])
def test_anonymous_requests_are_refused(api, url_name):
    response = api.get(reverse(url_name))

    assert response.status_code in (401, 403)
    if url_name == "patient-list":
        assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_anonymous_request_to_a_detail_is_refused(api, practice_a):
    patient = PatientFactory(practice=practice_a)

    response = api.get(reverse("patient-detail", args=[patient.pk]))

    assert response.status_code in (401, 403)


def test_the_schema_is_valid_openapi(api, matron):
    api.force_authenticate(matron)

    response = api.get(reverse("api-schema"), {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/patients/" in schema["paths"]
    assert "/api/v1/auth/token/" in schema["paths"]


def test_the_docs_page_is_served_without_external_resources(client, matron):
    client.force_login(matron)

    response = client.get(reverse("api-docs"))

    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "cdn" not in response.text.lower()


def test_api_responses_are_not_cached(api, matron):
    api.force_authenticate(matron)

    response = api.get(reverse("patient-list"))

    assert response["Cache-Control"] == "no-store"


def test_a_number_or_a_boolean_is_not_text():
    """Every text field of the API refuses what is not a string (DRF would
    store "0" or "True"); mdtcare.api sets the rule for all of them."""
    from rest_framework import serializers

    import mdtcare.api  # noqa: F401  (the rule is set on import)

    field = serializers.CharField()
    for value in (0, 1.5, True):
        with pytest.raises(serializers.ValidationError, match="Not a valid string"):
            field.run_validation(value)
    assert field.run_validation("0") == "0"
    assert serializers.EmailField().run_validation("a@example.org") == "a@example.org"


def test_an_admins_token_needs_the_code_of_their_authenticator_app(api, admin_user):
    """As on the site, an admin proves a second factor for an API token: no
    device yet, no code or a wrong code is refused; the right code works."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    ask = {"username": admin_user.username, "password": PASSWORD}
    no_device = api.post(reverse("api-token"), ask)
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    no_code = api.post(reverse("api-token"), ask)
    right = api.post(reverse("api-token"), {**ask, "code": f"{totp(device.bin_key):06d}"})
    # (After a wrong code django-otp makes the device wait a moment.)
    wrong = api.post(reverse("api-token"), {**ask, "code": "000000"})

    assert no_device.status_code == 400
    assert "authenticator app" in no_device.json()["code"][0]
    assert no_code.status_code == wrong.status_code == 400
    assert no_code.json()["code"] == ["Enter the 6-digit code your authenticator app shows now"]
    assert right.status_code == 200 and len(right.json()["token"]) == 40


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-thing/",
        "/api/v1/patients/not-a-uuid/",  # matches no route: Django answers, in JSON
        "/api/v1/patients/00000000-0000-4000-8000-000000000000/",
    ],
)
def test_not_found_is_json_whoever_answers_it(api, matron, path):
    api.force_authenticate(matron)

    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert list(response.json()) == ["detail"]


def test_every_operation_documents_the_errors_it_can_answer(api, matron):
    """401, 403, 404, 429 and 400 on all; 415 on writes; each with the
    error body's schema (mdtcare/api/schema.py)."""
    api.force_authenticate(matron)
    schema = api.get(reverse("api-schema"), {"format": "json"}).json()

    missing = [
        f"{method.upper()} {path}: {status}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        for status in ("400", "401", "403", "404", "429")
        + (("415",) if method in ("post", "put", "patch", "delete") else ())
        if status not in operation["responses"]
    ]

    assert not missing
    error = schema["paths"]["/api/v1/patients/"]["get"]["responses"]["404"]
    assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "Error" in schema["components"]["schemas"]
