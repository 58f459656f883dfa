"""Emergency access ("break glass", issue 10 item 7): a practitioner opens
the record of someone outside their networks only by giving a reason; it
lasts a limited time, every page of it is an access event marked as
emergency access, the admins of the person's network see it on their home
page, and it is in the person's access report."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from careplans.models import CarePlan
from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent, AccessEventPatient
from mdtcare.audit.selectors import change_history
from patients.models import Carer, EmergencyAccess
from tests.conftest import _persona
from tests.factories import PatientFactory
from tests.patients.test_gate import _verify_second_factor
from tests.reports import builders
from tests.test_query_budget import BUDGETS

pytestmark = pytest.mark.django_db

REASON = "Seen at home out of hours after a fall; need the contingency plan"


@pytest.fixture
def person(practice_a, matron, navigator):
    """Someone in North, with what an emergency needs: an open episode with a
    clinical lead and navigator, a ratified plan with a contingency plan, a
    carer, a signed assessment and an action still to do."""
    patient = PatientFactory(practice=practice_a, given_name="Ada", family_name="Quint")
    today = timezone.localdate()
    entry = builders.referral(patient, today - dt.timedelta(days=60), decided_on=today)
    entry.clinical_lead, entry.navigator = matron, navigator
    entry.save(update_fields=["clinical_lead", "navigator"])
    plan = builders.plan(
        entry,
        ratified_at=timezone.now() - dt.timedelta(days=10),
        next_review_on=today + dt.timedelta(days=30),
    )
    CarePlan.objects.filter(pk=plan.pk).update(
        contingency="If breathless at rest, call the community matron on 0113 496 0000"
    )
    Carer.objects.create(
        patient=patient, name="Ben Quint", relationship="Son", phone="07700 900123"
    )
    builders.assessment(
        patient, matron, kind="initial", assessed_on=today, signed_at=timezone.now()
    )
    builders.action(
        patient,
        created_at=timezone.now(),
        due_on=today - dt.timedelta(days=1),
        owner=navigator,
    )
    return patient


def _open(client, patient, reason=REASON):
    return client.post(
        reverse("patients:emergency_access"),
        {"nhs_number": patient.nhs_number, "reason": reason},
    )


def test_a_practitioner_outside_the_network_opens_the_record_with_a_reason(
    client, outsider, person
):
    client.force_login(outsider)

    response = _open(client, person)

    access = EmergencyAccess.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:emergency_record", args=[access.pk])
    assert (access.user, access.patient, access.reason) == (outsider, person, REASON)
    assert access.ends_at - access.starts_at == dt.timedelta(minutes=60)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "QUINT, Ada" in page.text
    assert "call the community matron on 0113 496 0000" in page.text
    assert "Ben Quint" in page.text and "07700 900123" in page.text
    assert "Something to do" in page.text and "Overdue" in page.text
    assert "Emergency access until" in page.text
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]


def test_a_search_that_finds_no_one_points_to_emergency_access(client, outsider, person):
    client.force_login(outsider)

    page = client.get(reverse("patients:list"), {"q": person.nhs_number})

    assert "No one on the register of your networks matches" in page.text
    assert reverse("patients:emergency_access") in page.text


def test_the_ordinary_gate_stays_closed_to_them(client, outsider, person):
    client.force_login(outsider)
    _open(client, person)

    assert client.get(reverse("patients:detail", args=[person.pk])).status_code == 404
    assert client.get(reverse("patients:list"), {"q": "Quint"}).text.count("QUINT") == 0


def test_each_page_of_it_is_one_access_event_marked_emergency_with_the_reason(
    client, outsider, person
):
    client.force_login(outsider)
    access_url = _open(client, person)["Location"]

    client.get(access_url)

    event = AccessEvent.objects.get(what="patient.emergency_view")
    assert event.emergency is True
    assert event.user == outsider
    assert event.reason == f"emergency access: {REASON}"
    assert event.role == "emergency access"
    assert list(event.patients.values_list("patient_id", flat=True)) == [person.pk]


@pytest.mark.parametrize(
    ("number", "reason", "field", "message"),
    [
        ("", REASON, "nhs_number", "Enter the NHS number"),
        ("123", REASON, "nhs_number", "as 10 digits"),
        ("9434765918", REASON, "nhs_number", "not a valid NHS number"),
        ("@person", "", "reason", "Enter the reason you need this record"),
        ("@person", "   need it    now  ", "reason", "at least 20 characters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_opened(
    client, outsider, person, number, reason, field, message
):
    client.force_login(outsider)
    number = person.nhs_number if number == "@person" else number

    response = client.post(
        reverse("patients:emergency_access"), {"nhs_number": number, "reason": reason}
    )

    assert response.status_code == 200
    assert message.lower() in " ".join(response.context["form"].errors[field]).lower()
    assert "Error: Emergency access" in response.text
    assert not EmergencyAccess.objects.exists()
    assert not AccessEvent.objects.exists()


def test_an_nhs_number_no_network_has_is_refused(client, outsider, person):
    client.force_login(outsider)
    unknown = PatientFactory.build().nhs_number

    response = client.post(
        reverse("patients:emergency_access"), {"nhs_number": unknown, "reason": REASON}
    )

    assert "No one with this NHS number is on the register" in response.text
    assert not EmergencyAccess.objects.exists()


def test_someone_in_their_own_network_is_opened_without_emergency_access(client, matron, person):
    client.force_login(matron)

    response = _open(client, person)

    assert response["Location"] == reverse("patients:detail", args=[person.pk])
    assert not EmergencyAccess.objects.exists()


def test_an_admin_who_cares_for_no_one_cannot_use_it(client, network_b, person):
    admin = _persona("south-admin", "service_admin", network_b, Membership.Role.ADMIN)
    client.force_login(admin)
    _verify_second_factor(client, admin)

    assert client.get(reverse("patients:emergency_access")).status_code == 403
    assert _open(client, person).status_code == 403
    assert not EmergencyAccess.objects.exists()


def test_a_second_submit_opens_no_second_access(client, outsider, person):
    client.force_login(outsider)

    first, second = _open(client, person), _open(client, person)

    assert first["Location"] == second["Location"]
    assert EmergencyAccess.objects.count() == 1


def test_it_ends_after_the_allowed_time_and_shows_nothing_after(client, outsider, person, settings):
    settings.EMERGENCY_ACCESS_MINUTES = 30
    client.force_login(outsider)
    access_url = _open(client, person)["Location"]

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=29)):
        assert client.get(access_url).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        client.force_login(outsider)  # the idle timeout is no part of this
        ended = client.get(access_url)

    assert ended.status_code == 410
    assert "Your emergency access has ended" in ended.text
    assert "QUINT" not in ended.text and "Ben Quint" not in ended.text
    assert AccessEvent.objects.filter(what="patient.emergency_view").count() == 1


def test_they_can_end_it_sooner(client, outsider, person):
    client.force_login(outsider)
    access_url = _open(client, person)["Location"]
    access = EmergencyAccess.objects.get()

    response = client.post(reverse("patients:emergency_access_end", args=[access.pk]))

    access.refresh_from_db()
    assert response["Location"] == reverse("patients:emergency_access")
    assert access.ended_early and access.ends_at <= timezone.now()
    assert client.get(access_url).status_code == 410


def test_no_one_else_can_use_someone_elses_access(client, outsider, matron, person):
    client.force_login(outsider)
    access_url = _open(client, person)["Location"]
    access = EmergencyAccess.objects.get()

    client.force_login(matron)  # in the person's network, but not their access

    assert client.get(access_url).status_code == 404
    assert (
        client.post(reverse("patients:emergency_access_end", args=[access.pk])).status_code == 404
    )
    access.refresh_from_db()
    assert not access.ended_early


def test_the_start_page_lists_their_access_in_force(client, outsider, person, practice_a):
    client.force_login(outsider)
    _open(client, person)
    other = PatientFactory(practice=practice_a, given_name="Bo", family_name="Rhee")
    _open(client, other, reason="Called by the ambulance crew about a second fall at home")

    page = client.get(reverse("patients:emergency_access"))

    assert "Your emergency access now" in page.text
    assert "QUINT, Ada" in page.text and "RHEE, Bo" in page.text
    event = AccessEvent.objects.get(what="patient.emergency_list")
    assert event.emergency
    assert set(event.patients.values_list("patient_id", flat=True)) == {person.pk, other.pk}
    # Why each was allowed: both reasons.
    assert REASON in event.reason and "second fall at home" in event.reason


def test_the_admins_of_the_persons_network_see_it_on_their_home_page(
    client, outsider, admin_user, network_b, person
):
    client.force_login(outsider)
    _open(client, person)
    south_admin = _persona("south-admin", "service_admin", network_b, Membership.Role.ADMIN)

    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    home = client.get(reverse("home"))
    client.force_login(south_admin)
    _verify_second_factor(client, south_admin)
    other_home = client.get(reverse("home"))

    assert "1 time in the last 30 days" in home.text
    assert "Open now" in home.text and REASON in home.text
    assert outsider.get_full_name() in home.text
    event = AccessEvent.objects.get(what="home.emergency_access")
    assert event.user == admin_user
    assert list(event.patients.values_list("patient_id", flat=True)) == [person.pk]
    assert REASON not in other_home.text
    assert "No one from outside South has used emergency access" in other_home.text


def test_it_is_flagged_in_the_persons_access_report(client, outsider, admin_user, person):
    client.force_login(outsider)
    client.get(_open(client, person)["Location"])
    admin_user.user_permissions.add(Permission.objects.get(codename="view_accessevent"))

    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    page = client.get(reverse("admin:audit_accessevent_patient", args=[person.pk]))
    export = client.get(reverse("admin:audit_accessevent_patient_csv", args=[person.pk]))

    assert "1 of these accesses was emergency access" in page.text
    assert f"<strong>Emergency access.</strong> emergency access: {REASON}" in page.text
    rows = b"".join(export.streaming_content).decode().splitlines()
    assert [row.split(",")[3] for row in rows[1:] if ",yes," in row] == ["patient.emergency_view"]


def test_opening_and_ending_it_are_in_the_change_history(client, outsider, person):
    client.force_login(outsider)
    _open(client, person)
    access = EmergencyAccess.objects.get()
    client.post(reverse("patients:emergency_access_end", args=[access.pk]))

    history = list(change_history(instance=access))

    assert [change.operation for change in history] == ["insert", "update"]
    assert {change.actor_id for change in history} == {outsider.pk}
    assert history[1].after["ended_early"] is True


@pytest.mark.parametrize("rows", [1, 6])
def test_the_record_reads_the_same_queries_however_much_it_shows(
    client, outsider, person, navigator, django_assert_num_queries, rows
):
    for n in range(rows):
        Carer.objects.create(patient=person, name=f"Carer {n}", relationship="Friend")
        builders.action(
            person, created_at=timezone.now(), due_on=timezone.localdate(), owner=navigator
        )
    client.force_login(outsider)
    access_url = _open(client, person)["Location"]
    client.get(access_url)  # warm up: the session and memberships

    # The same budget as the query-budget test's world, where the person has
    # one of everything.
    with django_assert_num_queries(BUDGETS["patients:emergency_record"]):
        client.get(access_url)


@pytest.mark.parametrize("rows", [1, 4])
def test_the_admins_home_reads_the_same_queries_however_many_accesses(
    client, admin_user, practice_a, network_b, django_assert_num_queries, rows
):
    for n in range(rows):
        user = _persona(f"south-{n}", "social_worker", network_b, Membership.Role.MEMBER)
        now = timezone.now()
        EmergencyAccess.objects.create(
            user=user,
            patient=PatientFactory(practice=practice_a),
            reason=REASON,
            starts_at=now,
            ends_at=now + dt.timedelta(hours=1),
        )
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    client.get(reverse("home"))

    with django_assert_num_queries(ADMIN_HOME_QUERIES):
        response = client.get(reverse("home"))

    assert response.text.count("Open now") == rows
    assert AccessEventPatient.objects.filter(event__what="home.emergency_access").count() == (
        rows * 2
    )


ADMIN_HOME_QUERIES = 30
