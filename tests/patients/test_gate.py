"""The access gate: a network-A patient is visible to network-A users, and
is a 404 for the outsider, in views and API alike."""

import pytest
from django.urls import reverse

from mdtcare.audit.models import AccessEvent
from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

# An API list page, whatever its length: session, user, memberships, count,
# the page, the patients' conditions (one prefetch); the access event and its
# patients (in a savepoint, 4); the session's renewed expiry (in a savepoint, 3).
PINNED_QUERIES = 13
# The register page, whatever its length: session, user, memberships, count,
# the page (each patient's latest episode is a subquery of the page's query,
# not a query per row), the practices and the practitioners its filters offer
# (one query each); the access event (4); the session (3).
REGISTER_PAGE_QUERIES = 14


@pytest.fixture
def patient_a(practice_a):
    return PatientFactory(practice=practice_a, family_name="Okafor", given_name="Mary")


@pytest.fixture
def patient_b(practice_b):
    return PatientFactory(practice=practice_b, family_name="Brown", given_name="Alan")


def test_visible_to_shows_only_the_users_networks(personas, patient_a, patient_b):
    assert list(Patient.objects.visible_to(personas.matron)) == [patient_a]
    assert list(Patient.objects.visible_to(personas.outsider)) == [patient_b]


def test_visible_to_shows_nothing_to_anonymous_or_inactive_users(patient_a, matron):
    from django.contrib.auth.models import AnonymousUser

    assert not Patient.objects.visible_to(AnonymousUser()).exists()
    matron.is_active = False
    assert not Patient.objects.visible_to(matron).exists()


@pytest.mark.parametrize("persona", ["matron", "chair", "navigator", "admin"])
def test_every_network_a_role_sees_the_patient_page(client, personas, patient_a, persona):
    client.force_login(getattr(personas, persona))
    if persona == "admin":
        _verify_second_factor(client, personas.admin)

    response = client.get(reverse("patients:detail", args=[patient_a.pk]))

    assert response.status_code == 200
    assert "OKAFOR, Mary" in response.text


def test_outsider_gets_404_for_a_patient_of_another_network(client, outsider, patient_a):
    client.force_login(outsider)

    response = client.get(reverse("patients:detail", args=[patient_a.pk]))

    assert response.status_code == 404
    assert "Okafor" not in response.text
    assert "Page not found" in response.text


def test_an_unknown_patient_is_the_same_404(client, matron):
    client.force_login(matron)

    response = client.get(reverse("patients:detail", args=["7d0d5a8e-0000-4000-8000-000000000000"]))

    assert response.status_code == 404


def test_register_list_shows_only_own_network(client, outsider, patient_a, patient_b):
    client.force_login(outsider)

    response = client.get(reverse("patients:list"))

    assert "BROWN, Alan" in response.text
    assert "OKAFOR" not in response.text


def test_api_outsider_gets_404_and_matron_gets_the_patient(client, personas, patient_a):
    url = reverse("patient-detail", args=[patient_a.pk])
    client.force_login(personas.outsider)
    assert client.get(url).status_code == 404

    client.force_login(personas.matron)
    response = client.get(url)

    assert response.status_code == 200
    assert response.json()["nhs_number"] == patient_a.nhs_number
    assert response.json()["practice"] == patient_a.practice.ods_code


def test_api_list_is_scoped_to_the_users_networks(client, outsider, patient_a, patient_b):
    client.force_login(outsider)

    response = client.get(reverse("patient-list"))

    assert [row["id"] for row in response.json()["results"]] == [str(patient_b.pk)]


def test_api_search_finds_by_nhs_number_with_spaces(client, matron, patient_a, practice_a):
    PatientFactory(practice=practice_a)
    client.force_login(matron)
    spaced = f"{patient_a.nhs_number[:3]} {patient_a.nhs_number[3:6]} {patient_a.nhs_number[6:]}"

    response = client.get(reverse("patient-list"), {"search": spaced})

    assert [row["id"] for row in response.json()["results"]] == [str(patient_a.pk)]


def test_the_outsiders_404_is_not_audited_as_access(client, outsider, patient_a):
    client.force_login(outsider)
    client.get(reverse("patients:detail", args=[patient_a.pk]))

    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize("rows", [1, 50])
def test_register_page_query_count_does_not_grow_with_rows(
    client, matron, practice_a, rows, django_assert_num_queries
):
    PatientFactory.create_batch(rows, practice=practice_a)
    client.force_login(matron)
    client.get(reverse("home"))  # settle the session

    with django_assert_num_queries(REGISTER_PAGE_QUERIES):
        response = client.get(reverse("patients:list"))
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [1, 50])
def test_api_list_query_count_does_not_grow_with_rows(
    client, matron, practice_a, rows, django_assert_num_queries
):
    PatientFactory.create_batch(rows, practice=practice_a)
    client.force_login(matron)

    with django_assert_num_queries(PINNED_QUERIES):
        response = client.get(reverse("patient-list"))
    assert response.status_code == 200


def _verify_second_factor(client, user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    from django_otp.oath import totp

    token = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:two_factor"), {"token": token})
    assert response.status_code == 302
