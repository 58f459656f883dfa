"""The risk-import API: upload a CSV file for its report, then confirm or
discard it. Navigators and admins only; each sees only their own imports."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from patients.models import RiskImport, RiskScore
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "NHS number,risk score,eFI category,score date,practice"


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def api():
    return APIClient()


def scores_file(*rows: str, name: str = "scores.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\n".join([HEADER, *rows]).encode(), content_type="text/csv")


def post_file(api, upload):
    return api.post(reverse("risk-import-list"), {"file": upload}, format="multipart")


def test_a_navigator_uploads_a_file_and_gets_its_report(api, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(navigator)

    response = post_file(
        api,
        scores_file(f"{patient.nhs_number},85.5,mild,2026-03-01,Y1", "123,101,,2026-03-01,Y1"),
    )

    assert response.status_code == 201
    body = response.json()
    risk_import = RiskImport.objects.get()
    assert body == {
        "id": str(risk_import.pk),
        "filename": "scores.csv",
        "status": "validated",
        "row_count": 2,
        "valid_count": 1,
        "errors": [
            {"line": 3, "reason": "Enter the NHS number as 10 digits, like 485 777 3456"},
            {"line": 3, "reason": "The risk score 101 is out of range: it must be from 0 to 100"},
        ],
        "ignored_columns": ["practice"],
        "matched_count": None,
        "not_found_count": None,
        "created_at": body["created_at"],
        "applied_at": None,
    }
    patient.refresh_from_db()
    assert patient.risk_score is None


def test_a_file_that_cannot_be_read_is_reported_on_line_0(api, navigator):
    api.force_authenticate(navigator)

    response = post_file(api, SimpleUploadedFile("scores.csv", b"", content_type="text/csv"))

    assert response.status_code == 201
    assert response.json()["errors"] == [
        {"line": 0, "reason": "The file is empty. Choose the CSV file with the risk scores."}
    ]
    assert response.json()["valid_count"] == 0


def test_an_upload_without_a_file_is_a_400_naming_the_field(api, navigator):
    api.force_authenticate(navigator)

    response = api.post(reverse("risk-import-list"), {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()
    assert not RiskImport.objects.exists()


@pytest.mark.parametrize("persona", ["matron", "chair", "outsider"])
def test_other_roles_get_a_403_with_a_json_message(api, personas, persona):
    api.force_authenticate(getattr(personas, persona))

    response = post_file(api, scores_file("9990000026,85,,2026-03-01,"))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role does not allow you to import risk-stratification scores."
    }
    assert not RiskImport.objects.exists()


def test_anonymous_requests_are_refused(api, navigator):
    api.force_authenticate(navigator)
    risk_import_id = post_file(api, scores_file("9990000026,85,,2026-03-01,")).json()["id"]
    api.force_authenticate(None)

    upload = post_file(api, scores_file("9990000026,85,,2026-03-01,"))
    read = api.get(reverse("risk-import-detail", args=[risk_import_id]))
    confirm = api.post(reverse("risk-import-confirm", args=[risk_import_id]))

    assert {upload.status_code, read.status_code, confirm.status_code} <= {401, 403}
    assert RiskImport.objects.count() == 1
    assert RiskImport.objects.get().status == "validated"


def test_the_uploader_reads_their_import_and_others_get_404(api, personas, network_a):
    colleague = UserFactory(username="navigator2")
    MembershipFactory(user=colleague, network=network_a, role=Membership.Role.NAVIGATOR)
    api.force_authenticate(personas.navigator)
    url = reverse(
        "risk-import-detail",
        args=[post_file(api, scores_file("9990000026,85,,2026-03-01,")).json()["id"]],
    )

    mine = api.get(url)
    api.force_authenticate(colleague)
    colleagues = api.get(url)
    api.force_authenticate(personas.outsider)
    outsiders = api.get(url)

    assert mine.status_code == 200
    assert mine.json()["row_count"] == 1
    assert colleagues.status_code == outsiders.status_code == 404
    assert api.get(reverse("risk-import-detail", args=["not-a-uuid"])).status_code == 404


def test_confirming_applies_the_valid_rows_once(api, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(navigator)
    risk_import_id = post_file(
        api, scores_file(f"{patient.nhs_number},85.5,mild,2026-03-01,", "9990000026,50,,bad,")
    ).json()["id"]
    url = reverse("risk-import-confirm", args=[risk_import_id])

    first = api.post(url)
    second = api.post(url)

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "applied"
    assert first.json()["matched_count"] == 1
    assert first.json()["not_found_count"] == 0
    assert second.json()["matched_count"] == 1
    assert RiskScore.objects.count() == 1
    patient.refresh_from_db()
    assert patient.risk_score == Decimal("85.5")


def test_confirming_records_an_access_event_naming_the_matched_people(api, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(navigator)
    risk_import_id = post_file(api, scores_file(f"{patient.nhs_number},85,,2026-03-01,")).json()[
        "id"
    ]

    api.post(reverse("risk-import-confirm", args=[risk_import_id]))

    event = AccessEvent.objects.get()
    assert event.what == "api.risk-imports.confirm"
    assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]


def test_an_outsider_navigator_confirms_network_a_numbers_and_matches_no_one(
    api, outsider, practice_a
):
    patient = PatientFactory(practice=practice_a)
    Membership.objects.filter(user=outsider).update(role=Membership.Role.NAVIGATOR)
    api.force_authenticate(outsider)
    risk_import_id = post_file(api, scores_file(f"{patient.nhs_number},99,,2026-03-01,")).json()[
        "id"
    ]

    response = api.post(reverse("risk-import-confirm", args=[risk_import_id]))

    assert response.json()["matched_count"] == 0
    assert response.json()["not_found_count"] == 1
    patient.refresh_from_db()
    assert patient.risk_score is None
    assert not RiskScore.objects.exists()


def test_discarding_and_then_confirming_is_a_400(api, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(navigator)
    risk_import_id = post_file(api, scores_file(f"{patient.nhs_number},85,,2026-03-01,")).json()[
        "id"
    ]

    discarded = api.post(reverse("risk-import-discard", args=[risk_import_id]))
    confirmed = api.post(reverse("risk-import-confirm", args=[risk_import_id]))

    assert discarded.status_code == 200
    assert discarded.json()["status"] == "discarded"
    assert confirmed.status_code == 400
    assert confirmed.json() == {
        "detail": ["This file was discarded. Upload it again to import it."]
    }
    assert not RiskScore.objects.exists()


def test_someone_elses_import_cannot_be_confirmed_or_discarded(api, personas):
    api.force_authenticate(personas.navigator)
    risk_import_id = post_file(api, scores_file("9990000026,85,,2026-03-01,")).json()["id"]
    api.force_authenticate(personas.admin)

    confirm = api.post(reverse("risk-import-confirm", args=[risk_import_id]))
    discard = api.post(reverse("risk-import-discard", args=[risk_import_id]))

    assert confirm.status_code == discard.status_code == 404
    assert RiskImport.objects.get().status == "validated"


def test_a_token_user_can_upload(api, navigator):
    token = api.post(
        reverse("api-token"), {"username": "navigator", "password": PASSWORD}, format="json"
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = post_file(api, scores_file("9990000026,85,,2026-03-01,"))

    assert response.status_code == 201


def test_the_schema_describes_the_import_endpoints(api, matron):
    api.force_authenticate(matron)

    schema = api.get(reverse("api-schema"), {"format": "json"}).json()

    validate_schema(schema)
    upload = schema["paths"]["/api/v1/risk-imports/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "201" in upload["responses"]
    assert "/api/v1/risk-imports/{id}/confirm/" in schema["paths"]
    assert "/api/v1/risk-imports/{id}/discard/" in schema["paths"]
