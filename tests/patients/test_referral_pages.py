"""The referral form, the triage queue and the forms that change a record,
as their users meet them."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts.models import Membership, Profession
from mdtcare.audit.models import AccessEvent
from mdtcare.core import nhs_number
from patients.models import Patient, RegisterEntry
from tests.conftest import _persona
from tests.factories import PatientFactory
from tests.reports import builders

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _date(prefix, day):
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


def _referral_post(**overrides):
    data = {
        "source": "gp_practice",
        "referrer_name": "Dr Ann Lee, GP",
        "reason": "Second admission for COPD this winter",
        "urgency": "routine",
        "submission_key": str(uuid.uuid4()),
        **_date("referred_on", TODAY),
    }
    return {**data, **overrides}


def _patient_post(practice, **overrides):
    data = {
        "nhs_number": next(nhs_number.test_range_numbers(start=800_000)),
        "given_name": "Mary",
        "family_name": "Okafor",
        "sex": "female",
        "postcode": "LS1 4AP",
        "practice": str(practice.pk),
        "preferred_language": "English",
        **_date("date_of_birth", TODAY.replace(year=TODAY.year - 84)),
    }
    return {**data, **overrides}


def test_refer_someone_new_adds_them_then_refers(client, chair, practice_a):
    client.force_login(chair)
    number = next(nhs_number.test_range_numbers(start=810_000))

    found = client.post(reverse("patients:refer_start"), {"nhs_number": number})
    assert found["Location"] == f"{reverse('patients:create')}?nhs_number={number}&then=refer"
    added = client.post(found["Location"], _patient_post(practice_a, nhs_number=number))
    patient = Patient.objects.get(nhs_number=number)
    assert added["Location"] == reverse("patients:refer", args=[patient.pk])
    referred = client.post(added["Location"], _referral_post())

    assert referred["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.entries.get().status == "referred"


def test_refer_someone_already_on_the_register_goes_straight_to_the_form(client, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(chair)

    response = client.post(reverse("patients:refer_start"), {"nhs_number": patient.nhs_number})

    assert response["Location"] == reverse("patients:refer", args=[patient.pk])


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12345", "Enter the NHS number as 10 digits"),
        ("999 000 0019", "This is not a valid NHS number"),
        ("", "Enter the NHS number"),
    ],
)
def test_the_nhs_number_is_checked_on_the_form(client, chair, typed, message):
    client.force_login(chair)

    response = client.post(reverse("patients:refer_start"), {"nhs_number": typed})

    assert response.status_code == 200
    assert message in response.text
    assert 'href="#id_nhs_number"' in response.text


def test_a_duplicate_shows_a_link_to_the_existing_record(client, chair, practice_a):
    existing = PatientFactory(practice=practice_a)
    client.force_login(chair)

    response = client.post(
        reverse("patients:create"), _patient_post(practice_a, nhs_number=existing.nhs_number)
    )

    assert "This NHS number is already on the register." in response.text
    assert reverse("patients:detail", args=[existing.pk]) in response.text


def test_a_duplicate_outside_the_gate_is_refused_without_a_link(client, outsider, practice_a):
    existing = PatientFactory(practice=practice_a)
    client.force_login(outsider)
    south_practice = outsider.memberships.get().network.practices.first()
    if south_practice is None:
        from tests.factories import PracticeFactory

        south_practice = PracticeFactory(network=outsider.memberships.get().network)

    response = client.post(
        reverse("patients:create"), _patient_post(south_practice, nhs_number=existing.nhs_number)
    )

    assert "This NHS number is already on the register." in response.text
    assert str(existing.pk) not in response.text
    # The way to their record in an emergency, which asks for a reason.
    assert reverse("patients:emergency_access") in response.text


def test_the_date_of_birth_gets_a_clear_message(client, chair, practice_a):
    client.force_login(chair)
    future = TODAY.replace(year=TODAY.year + 1)

    missing_year = client.post(
        reverse("patients:create"), _patient_post(practice_a, date_of_birth_2="")
    )
    in_future = client.post(
        reverse("patients:create"), _patient_post(practice_a, **_date("date_of_birth", future))
    )

    assert "Date of birth must include a year" in missing_year.text
    assert "Date of birth must be today or in the past" in in_future.text
    assert not Patient.objects.exists()


def test_an_odd_postcode_is_saved_with_a_warning(client, chair, practice_a):
    client.force_login(chair)

    response = client.post(
        reverse("patients:create"), _patient_post(practice_a, postcode="ABC"), follow=True
    )

    assert "does not look like a UK postcode" in response.text
    assert Patient.objects.get().postcode == "ABC"


def test_a_5mb_reason_is_refused_clearly(client, chair, practice_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
    patient = PatientFactory(practice=practice_a)
    client.force_login(chair)

    response = client.post(
        reverse("patients:refer", args=[patient.pk]), _referral_post(reason="x" * 5_000_000)
    )

    assert response.status_code == 200
    assert "Reason for referral must be 2,000 characters or fewer" in response.text
    assert not RegisterEntry.objects.exists()


def test_an_oversized_form_gets_the_clear_400_page(client, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(chair)

    response = client.post(
        reverse("patients:refer", args=[patient.pk]), _referral_post(reason="x" * 5_000_000)
    )

    assert response.status_code == 400
    assert "too large" in response.text
    assert not RegisterEntry.objects.exists()


def test_a_double_submitted_referral_form_makes_one_referral(client, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(chair)
    data = _referral_post()

    first = client.post(reverse("patients:refer", args=[patient.pk]), data)
    second = client.post(reverse("patients:refer", args=[patient.pk]), data)

    assert first.status_code == second.status_code == 302
    assert RegisterEntry.objects.count() == 1


def test_risk_stratification_prefills_the_reason(client, navigator, practice_a):
    patient = PatientFactory(practice=practice_a, risk_score="91.5", risk_scored_on=TODAY)
    client.force_login(navigator)

    response = client.get(
        reverse("patients:refer", args=[patient.pk]), {"source": "risk_stratification"}
    )

    assert "Identified by risk stratification (risk score 91.5" in response.text
    assert 'value="risk_stratification" selected' in response.text


def test_navigator_accepts_from_the_triage_queue(client, navigator, matron, chair, practice_a):
    patient = PatientFactory(practice=practice_a, family_name="Okafor")
    client.force_login(chair)
    client.post(reverse("patients:refer", args=[patient.pk]), _referral_post())
    entry = RegisterEntry.objects.get()
    client.force_login(navigator)

    queue = client.get(reverse("patients:triage"))
    accepted = client.post(
        reverse("patients:accept", args=[entry.pk]),
        {
            "clinical_lead": str(matron.pk),
            "navigator": str(navigator.pk),
            "tier": "2",
            "primary_need": "frailty",
            "expected": "referred",
        },
    )

    assert "OKAFOR" in queue.text
    assert accepted["Location"] == reverse("patients:triage")
    entry.refresh_from_db()
    assert (entry.status, entry.clinical_lead) == ("accepted", matron)
    assert "No referrals are waiting." in client.get(reverse("patients:triage")).text


def test_a_matron_cannot_open_the_accept_page(client, matron, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(chair)
    client.post(reverse("patients:refer", args=[patient.pk]), _referral_post())
    client.force_login(matron)

    response = client.get(reverse("patients:accept", args=[RegisterEntry.objects.get().pk]))

    assert response.status_code == 403
    assert "You do not have permission to do this" in response.text


def test_a_stale_accept_shows_what_happened(client, navigator, matron, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(chair)
    client.post(reverse("patients:refer", args=[patient.pk]), _referral_post())
    entry = RegisterEntry.objects.get()
    client.force_login(navigator)
    client.post(reverse("patients:decline", args=[entry.pk]), {"reason": "Duplicate"})

    response = client.post(
        reverse("patients:accept", args=[entry.pk]),
        {"clinical_lead": str(matron.pk), "navigator": str(navigator.pk), "expected": "referred"},
    )

    assert "This episode is now “Declined”" in response.text


@pytest.mark.parametrize("url_name", ["refer", "edit", "conditions", "carer_add", "consent"])
def test_the_outsider_gets_404_on_every_form_of_a_north_patient(
    client, outsider, practice_a, url_name
):
    patient = PatientFactory(practice=practice_a)
    client.force_login(outsider)

    assert client.get(reverse(f"patients:{url_name}", args=[patient.pk])).status_code == 404


@pytest.mark.parametrize("url_name", ["accept", "decline", "entry_status", "allocate"])
def test_the_outsider_gets_404_on_every_episode_page(client, outsider, chair, practice_a, url_name):
    patient = PatientFactory(practice=practice_a)
    client.force_login(chair)
    client.post(reverse("patients:refer", args=[patient.pk]), _referral_post())
    client.force_login(outsider)

    response = client.get(reverse(f"patients:{url_name}", args=[RegisterEntry.objects.get().pk]))

    assert response.status_code == 404


def test_every_form_page_writes_one_access_event(client, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(matron)

    client.get(reverse("patients:edit", args=[patient.pk]))

    event = AccessEvent.objects.get()
    assert (event.what, event.patient_count) == ("patient.edit", 1)


def test_the_triage_queue_is_scoped_to_the_users_networks(client, outsider, chair, practice_a):
    patient = PatientFactory(practice=practice_a, family_name="Okafor")
    client.force_login(chair)
    client.post(reverse("patients:refer", args=[patient.pk]), _referral_post())
    client.force_login(outsider)

    response = client.get(reverse("patients:triage"))

    entry = RegisterEntry.objects.get()
    assert reverse("patients:accept", args=[entry.pk]) not in response.text
    assert "No referrals are waiting." in response.text


@pytest.mark.parametrize("rows", [1, 50])
def test_triage_queue_query_count_does_not_grow(
    client, navigator, chair, practice_a, rows, django_assert_num_queries
):
    for patient in PatientFactory.create_batch(rows, practice=practice_a):
        RegisterEntry.objects.create(
            patient=patient,
            source="gp_practice",
            referrer_name="Dr Lee",
            reason="Frail",
            referred_on=TODAY,
        )
    client.force_login(navigator)
    client.get(reverse("home"))

    with django_assert_num_queries(12):
        client.get(reverse("patients:triage"))


def test_consent_and_carers_are_recorded(client, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(matron)

    client.post(
        reverse("patients:consent", args=[patient.pk]),
        {"topic": "mdt_discussion", "decision": "given", **_date("decided_on", TODAY)},
    )
    client.post(
        reverse("patients:carer_add", args=[patient.pk]),
        {"name": "Grace Okafor", "relationship": "Daughter", "is_next_of_kin": "on"},
    )
    client.post(reverse("patients:conditions", args=[patient.pk]), {"conditions": ["copd"]})

    assert patient.consents.get().decision == "given"
    assert patient.carers.get().is_next_of_kin
    assert list(patient.conditions.values_list("condition_id", flat=True)) == ["copd"]


def _episode(patient, status="active"):
    return RegisterEntry.objects.create(
        patient=patient,
        status=status,
        source="gp_practice",
        referrer_name="Dr Lee",
        reason="Frail",
        referred_on=TODAY,
    )


def test_an_mdt_member_cannot_discharge_an_episode(client, outsider, practice_b):
    entry = _episode(PatientFactory(practice=practice_b))
    client.force_login(outsider)

    response = client.post(
        reverse("patients:entry_status", args=[entry.pk]),
        {"to_status": "discharged", "reason": "Moved away", "expected": "active"},
    )

    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.status == "active"


def test_the_matron_steps_an_episode_down_with_a_reason(client, matron, practice_a):
    entry = _episode(PatientFactory(practice=practice_a))
    client.force_login(matron)

    page = client.get(reverse("patients:entry_status", args=[entry.pk]))
    missing = client.post(
        reverse("patients:entry_status", args=[entry.pk]),
        {"to_status": "stepped_down", "expected": "active"},
    )
    done = client.post(
        reverse("patients:entry_status", args=[entry.pk]),
        {"to_status": "stepped_down", "reason": "Goals met", "expected": "active"},
    )

    assert "Stepped down" in page.text and "Discharged" in page.text
    assert "Enter the reason" in missing.text
    assert done.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "stepped_down"


@pytest.mark.parametrize("rows", [1, 50])
def test_form_pages_have_a_pinned_query_count(
    client, navigator, practice_a, rows, django_assert_num_queries
):
    from tests.factories import MembershipFactory

    patient = PatientFactory(practice=practice_a)
    entry = _episode(patient, status="referred")
    for _ in range(rows):  # more practitioners to choose from, more carers
        MembershipFactory(network=practice_a.network)
        patient.carers.create(name="Someone", relationship="Friend")
    client.force_login(navigator)
    client.get(reverse("home"))

    # session, user, memberships, episode, role check, practitioners; the
    # access event (4); the session's renewed expiry (3).
    with django_assert_num_queries(14):
        client.get(reverse("patients:accept", args=[entry.pk]))
    with django_assert_num_queries(12):
        client.get(reverse("patients:refer", args=[patient.pk]))


def test_a_plain_member_is_refused_the_allocation_form_before_it_is_shown(
    client, navigator, matron, network_a, practice_a
):
    member = _persona("member", Profession.SOCIAL_WORKER, network_a, Membership.Role.MEMBER)
    entry = builders.referral(PatientFactory(practice=practice_a), TODAY, decided_on=TODAY)
    url = reverse("patients:allocate", args=[entry.pk])
    client.force_login(member)

    shown = client.get(url)
    sent = client.post(url, {"clinical_lead": matron.pk, "navigator": navigator.pk})

    assert shown.status_code == 403 and sent.status_code == 403
    assert "Your role does not allow you to change the allocation" in shown.text
    assert not AccessEvent.objects.exists()  # nothing of the person was shown
    entry.refresh_from_db()
    assert entry.clinical_lead is None
    client.force_login(navigator)
    assert client.get(url).status_code == 200
