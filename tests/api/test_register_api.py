"""The register API: patients written and read, referrals and their status
actions, with the gate, audit and JSON errors."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from mdtcare.audit.models import AccessEvent
from mdtcare.core import nhs_number
from patients.models import Patient, RegisterEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def api():
    return APIClient()


def _patient_json(practice, **overrides):
    data = {
        "nhs_number": next(nhs_number.test_range_numbers(start=700_000)),
        "given_name": "Mary",
        "family_name": "Okafor",
        "date_of_birth": "1941-03-02",
        "sex": "female",
        "postcode": "LS1 4AP",
        "practice": practice.ods_code,
    }
    return {**data, **overrides}


def test_a_patient_is_created_and_reads_back_with_the_same_names(api, matron, practice_a):
    api.force_authenticate(matron)
    sent = _patient_json(practice_a)

    created = api.post(reverse("patient-list"), sent, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    for key, value in sent.items():
        assert body[key] == value
    read = api.get(reverse("patient-detail", args=[body["id"]])).json()
    assert read["nhs_number"] == sent["nhs_number"]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12345", "Enter the NHS number as 10 digits"),
        ("999000001A", "Enter the NHS number as 10 digits"),
        ("9990000019", "This is not a valid NHS number"),
        ("0000000000", "Enter a real NHS number, not repeated digits"),
        # 999000014 gives a check digit of 10: no number starts with it.
        ("9990000140", "This is not a valid NHS number"),
    ],
)
def test_invalid_nhs_numbers_are_refused_naming_the_field(api, matron, practice_a, number, message):
    api.force_authenticate(matron)

    response = api.post(
        reverse("patient-list"), _patient_json(practice_a, nhs_number=number), format="json"
    )

    assert response.status_code == 400
    assert message in response.json()["nhs_number"][0]
    assert not Patient.objects.exists()


def test_a_duplicate_gives_the_existing_id_when_visible(api, matron, practice_a):
    existing = PatientFactory(practice=practice_a)
    api.force_authenticate(matron)
    spaced = f"{existing.nhs_number[:3]} {existing.nhs_number[3:6]} {existing.nhs_number[6:]}"

    response = api.post(
        reverse("patient-list"), _patient_json(practice_a, nhs_number=spaced), format="json"
    )

    assert response.status_code == 400
    assert response.json()["nhs_number"] == ["This NHS number is already on the register."]
    assert response.json()["existing"] == str(existing.pk)


def test_an_odd_postcode_comes_back_with_a_warning(api, matron, practice_a):
    api.force_authenticate(matron)

    response = api.post(
        reverse("patient-list"), _patient_json(practice_a, postcode="XYZ"), format="json"
    )

    assert response.status_code == 201
    assert "does not look like a UK postcode" in response.json()["warnings"][0]


def test_the_outsider_cannot_create_in_another_network(api, outsider, practice_a):
    api.force_authenticate(outsider)

    response = api.post(reverse("patient-list"), _patient_json(practice_a), format="json")

    assert response.status_code == 403


def test_the_nhs_number_cannot_be_changed(api, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(matron)

    response = api.patch(
        reverse("patient-detail", args=[patient.pk]),
        {"nhs_number": next(nhs_number.test_range_numbers(start=710_000))},
        format="json",
    )

    assert response.status_code == 400
    assert "cannot be changed" in response.json()["nhs_number"][0]


def test_extra_fields_change_nothing(api, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(matron)

    api.patch(
        reverse("patient-detail", args=[patient.pk]),
        {"risk_score": "99.0", "created_by": str(matron.pk), "given_name": "Marie"},
        format="json",
    )

    patient.refresh_from_db()
    assert patient.given_name == "Marie"
    assert patient.risk_score is None
    assert patient.created_by is None


def test_referral_and_actions_through_the_api(api, chair, navigator, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(chair)
    referral = api.post(
        reverse("register-entry-list"),
        {
            "patient": str(patient.pk),
            "source": "gp_practice",
            "referrer_name": "Dr Patel",
            "reason": "Falls",
            "referred_on": TODAY.isoformat(),
        },
        format="json",
    )
    assert referral.status_code == 201, referral.json()
    entry_id = referral.json()["id"]

    forbidden = api.post(
        reverse("register-entry-accept", args=[entry_id]),
        {"clinical_lead": str(matron.pk), "navigator": str(navigator.pk)},
        format="json",
    )
    api.force_authenticate(navigator)
    accepted = api.post(
        reverse("register-entry-accept", args=[entry_id]),
        {"clinical_lead": str(matron.pk), "navigator": str(navigator.pk), "tier": 2},
        format="json",
    )
    activated = api.post(reverse("register-entry-activate", args=[entry_id]), {}, format="json")
    no_reason = api.post(reverse("register-entry-step-down", args=[entry_id]), {}, format="json")
    stepped = api.post(
        reverse("register-entry-step-down", args=[entry_id]),
        {"reason": "Goals met"},
        format="json",
    )

    assert forbidden.status_code == 403
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["clinical_lead"] == str(matron.pk)
    assert activated.json()["status"] == "active"
    assert no_reason.status_code == 400
    assert no_reason.json()["reason"] == ["Enter the reason"]
    assert stepped.json()["status"] == "stepped_down"
    assert [step["to"] for step in stepped.json()["status_history"]] == [
        "referred",
        "accepted",
        "active",
        "stepped_down",
    ]


def test_a_second_open_referral_is_refused(api, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(chair)
    body = {
        "patient": str(patient.pk),
        "source": "voluntary_sector",
        "referrer_name": "Age Well",
        "reason": "Lonely",
        "referred_on": TODAY.isoformat(),
    }

    api.post(reverse("register-entry-list"), body, format="json")
    second = api.post(reverse("register-entry-list"), body, format="json")

    assert second.status_code == 400
    assert "already has an open referral" in second.json()["detail"][0]
    assert RegisterEntry.objects.count() == 1


def test_the_outsider_cannot_refer_or_see_north_entries(api, outsider, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    entry = RegisterEntry.objects.create(
        patient=patient, source="gp_practice", referrer_name="Dr", reason="x", referred_on=TODAY
    )
    api.force_authenticate(outsider)

    referral = api.post(
        reverse("register-entry-list"),
        {
            "patient": str(patient.pk),
            "source": "gp_practice",
            "referrer_name": "Me",
            "reason": "x",
            "referred_on": TODAY.isoformat(),
        },
        format="json",
    )

    assert referral.status_code == 400
    assert "patient" in referral.json()
    assert api.get(reverse("register-entry-detail", args=[entry.pk])).status_code == 404
    assert api.get(reverse("register-entry-list")).json()["results"] == []
    assert (
        api.post(reverse("register-entry-decline", args=[entry.pk]), {"reason": "x"}).status_code
        == 404
    )


def test_reading_entries_is_audited(api, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    RegisterEntry.objects.create(
        patient=patient, source="gp_practice", referrer_name="Dr", reason="x", referred_on=TODAY
    )
    api.force_authenticate(navigator)

    api.get(reverse("register-entry-list"))

    event = AccessEvent.objects.get()
    assert event.what == "api.register-entries.list"
    assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]


@pytest.mark.parametrize("rows", [1, 50])
def test_register_entries_list_query_count_is_pinned(
    api, navigator, practice_a, rows, django_assert_num_queries
):
    for patient in PatientFactory.create_batch(rows, practice=practice_a):
        RegisterEntry.objects.create(
            patient=patient, source="gp_practice", referrer_name="Dr", reason="x", referred_on=TODAY
        )
    api.force_authenticate(navigator)

    # count, page, status changes, memberships, access event + patients (4)
    with django_assert_num_queries(8):
        api.get(reverse("register-entry-list"))
