"""Every view of a patient's data writes exactly one access event naming
who, which patients, why the gate allowed it and the request id."""

import pytest
from django.urls import reverse

from mdtcare.audit.models import AccessEvent, AccessEventPatient
from mdtcare.audit.selectors import access_events_for_patient
from mdtcare.audit.services import AccessAlreadyRecorded, access_record
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_viewing_a_patient_writes_one_access_event(client, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(matron)

    response = client.get(reverse("patients:detail", args=[patient.pk]))

    event = AccessEvent.objects.get()
    assert event.user == matron
    assert event.what == "patient.view"
    assert event.reason == "member of North as Community matron"
    assert event.role == "Community matron"
    assert event.request_id == response["X-Request-ID"]
    assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]


def test_a_search_page_writes_one_event_naming_every_patient_shown(client, navigator, practice_a):
    shown = PatientFactory.create_batch(3, practice=practice_a, family_name="Ahmed")
    PatientFactory(practice=practice_a, family_name="Jones")
    client.force_login(navigator)

    client.get(reverse("patients:list"), {"q": "ahmed"})

    event = AccessEvent.objects.get()
    assert event.what == "patient.search"
    assert event.patient_count == 3
    assert set(AccessEventPatient.objects.values_list("patient_id", flat=True)) == {
        p.pk for p in shown
    }


def test_api_read_writes_one_access_event(client, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(chair)

    client.get(reverse("patient-detail", args=[patient.pk]))

    event = AccessEvent.objects.get()
    assert event.what == "api.patients.read"
    assert event.reason == "member of North as GP chair"


def test_who_accessed_this_record_lists_each_access(client, matron, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    for user in (matron, chair):
        client.force_login(user)
        client.get(reverse("patients:detail", args=[patient.pk]))

    events = access_events_for_patient(patient_id=patient.pk)

    assert [event.user for event in events] == [chair, matron]


def test_a_request_cannot_record_two_access_events(rf, matron):
    request = rf.get("/patients/")
    request.user = matron
    request.request_id = "abc12345"
    access_record(request=request, what="patient.list")

    with pytest.raises(AccessAlreadyRecorded):
        access_record(request=request, what="patient.list")


def test_admin_page_lists_who_accessed_a_patient_and_exports_csv(
    client, admin_user, matron, practice_a
):
    from django.contrib.auth.models import Permission

    patient = PatientFactory(practice=practice_a)
    client.force_login(matron)
    client.get(reverse("patients:detail", args=[patient.pk]))
    admin_user.user_permissions.add(Permission.objects.get(codename="view_accessevent"))
    client.force_login(admin_user)
    from tests.patients.test_gate import _verify_second_factor

    _verify_second_factor(client, admin_user)

    page = client.get(reverse("admin:audit_accessevent_patient", args=[patient.pk]))
    export = client.get(reverse("admin:audit_accessevent_patient_csv", args=[patient.pk]))

    assert page.status_code == 200
    assert matron.get_full_name() in page.text
    body = b"".join(export.streaming_content).decode()
    assert body.splitlines()[0] == "when,user,role,what,why allowed,emergency access,request id"
    assert "member of North as Community matron" in body
