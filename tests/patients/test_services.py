"""The register's rules, as services keep them."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from mdtcare.core import nhs_number
from patients import services
from patients.models import Consent, EntryStatusChange, Patient, RegisterEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _details(**overrides):
    details = {
        "given_name": "Mary",
        "family_name": "Okafor",
        "date_of_birth": dt.date(1941, 3, 2),
        "sex": "female",
        "postcode": "ls1 4ap",
    }
    return {**details, **overrides}


def _number(n=0):
    numbers = nhs_number.test_range_numbers(start=900_000 + n)
    return next(numbers)


def test_a_person_is_added_with_a_normalised_nhs_number_and_postcode(matron, practice_a):
    number = _number()
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"

    saved = services.patient_create(by=matron, practice=practice_a, nhs_number=spaced, **_details())

    assert saved.patient.nhs_number == number
    assert saved.patient.postcode == "LS1 4AP"
    assert saved.warnings == ()
    assert saved.patient.created_by == matron


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("999000000", "10 digits"),
        ("99900000001", "10 digits"),
        ("99900000AB", "10 digits"),
        ("1111111111", "repeated digits"),
        ("9990000019", "not a valid NHS number"),
    ],
)
def test_invalid_nhs_numbers_are_refused(matron, practice_a, typed, message):
    with pytest.raises(ValidationError, match=message):
        services.patient_create(by=matron, practice=practice_a, nhs_number=typed, **_details())
    assert not Patient.objects.exists()


def test_a_number_whose_check_digit_would_be_10_is_refused():
    stem = next(f"999{n:06d}" for n in range(1000) if nhs_number.check_digit(f"999{n:06d}") is None)
    for last in "0123456789":
        assert not nhs_number.is_valid(stem + last)


def test_test_range_numbers_are_refused_unless_allowed(matron, practice_a, settings):
    settings.NHS_NUMBER_ALLOW_TEST_RANGE = False

    with pytest.raises(ValidationError, match="test numbers"):
        services.patient_create(by=matron, practice=practice_a, nhs_number=_number(), **_details())


def test_a_duplicate_nhs_number_is_refused_with_the_existing_record(matron, practice_a):
    existing = PatientFactory(practice=practice_a)
    spaced = f"{existing.nhs_number[:3]} {existing.nhs_number[3:6]} {existing.nhs_number[6:]}"

    with pytest.raises(services.DuplicatePatient) as caught:
        services.patient_create(by=matron, practice=practice_a, nhs_number=spaced, **_details())

    assert caught.value.existing == existing
    assert caught.value.message_dict == {
        "nhs_number": ["This NHS number is already on the register."]
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", TODAY + dt.timedelta(days=1), "today or in the past"),
        ("date_of_birth", TODAY.replace(year=TODAY.year - 121), "within the last 120 years"),
        ("given_name", "   ", "Enter the person's given name"),
        ("family_name", "", "Enter the person's family name"),
    ],
)
def test_impossible_details_are_refused(matron, practice_a, field, value, message):
    with pytest.raises(ValidationError) as caught:
        services.patient_create(
            by=matron, practice=practice_a, nhs_number=_number(), **_details(**{field: value})
        )

    assert message in caught.value.message_dict[field][0]


def test_a_postcode_that_is_not_uk_shaped_is_kept_with_a_warning(matron, practice_a):
    saved = services.patient_create(
        by=matron, practice=practice_a, nhs_number=_number(), **_details(postcode="12345")
    )

    assert saved.patient.postcode == "12345"
    assert "does not look like a UK postcode" in saved.warnings[0]


def test_the_outsider_cannot_add_people_to_another_network(outsider, practice_a):
    with pytest.raises(PermissionDenied):
        services.patient_create(
            by=outsider, practice=practice_a, nhs_number=_number(), **_details()
        )


def test_a_best_interests_decision_needs_who_and_why(matron, practice_a):
    patient = PatientFactory(practice=practice_a)

    with pytest.raises(ValidationError, match="best-interests"):
        services.consent_record(
            by=matron,
            patient=patient,
            topic=Consent.Topic.MDT_DISCUSSION,
            decision=Consent.Decision.BEST_INTERESTS,
            decided_on=TODAY,
        )


def test_conditions_are_set_exactly(matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    services.conditions_set(by=matron, patient=patient, keys=["copd", "heart_failure"])

    services.conditions_set(by=matron, patient=patient, keys=["copd", "osteoarthritis"])

    assert set(patient.conditions.values_list("condition_id", flat=True)) == {
        "copd",
        "osteoarthritis",
    }
    with pytest.raises(ValidationError):
        services.conditions_set(by=matron, patient=patient, keys=["made_up"])


# --- referral and the episode -----------------------------------------------


def _refer(by, patient, **overrides):
    fields = {
        "source": RegisterEntry.Source.GP_PRACTICE,
        "referrer_name": "Dr Ann Lee, GP",
        "reason": "Second admission for COPD this winter",
        "referred_on": TODAY,
    }
    return services.referral_create(by=by, patient=patient, **{**fields, **overrides})


def test_any_member_refers_and_the_history_starts(chair, practice_a):
    patient = PatientFactory(practice=practice_a)

    entry = _refer(chair, patient)

    assert entry.status == RegisterEntry.Status.REFERRED
    [change] = EntryStatusChange.objects.filter(entry=entry)
    assert (change.from_status, change.to_status, change.by) == ("", "referred", chair)


def test_a_referral_tells_the_networks_navigators(chair, navigator, practice_a):
    from mdtcare.notifications.models import Notification

    entry = _refer(chair, PatientFactory(practice=practice_a))

    [notification] = Notification.objects.all()
    assert (notification.recipient, notification.kind) == (navigator, "referral_received")
    assert notification.event_id == f"referral:{entry.pk}"


def test_a_double_submitted_referral_makes_one_referral(chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    key = uuid.uuid4()

    first = _refer(chair, patient, submission_key=key)
    second = _refer(chair, patient, submission_key=key)

    assert first == second
    assert RegisterEntry.objects.count() == 1


def test_a_person_with_an_open_episode_cannot_be_referred_again(chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    _refer(chair, patient)

    with pytest.raises(ValidationError, match="already has an open referral"):
        _refer(chair, patient)


def test_the_outsider_cannot_refer_a_network_a_patient(outsider, practice_a):
    with pytest.raises(PermissionDenied):
        _refer(outsider, PatientFactory(practice=practice_a))


def test_navigator_accepts_and_allocates(navigator, matron, chair, practice_a):
    entry = _refer(chair, PatientFactory(practice=practice_a))

    entry = services.referral_accept(
        by=navigator,
        entry=entry,
        clinical_lead=matron,
        navigator=navigator,
        tier=2,
        primary_need="frailty",
    )

    assert entry.status == "accepted"
    assert (entry.clinical_lead, entry.navigator, entry.tier) == (matron, navigator, 2)
    assert entry.decided_on == TODAY
    assert list(entry.status_changes.values_list("to_status", flat=True)) == [
        "referred",
        "accepted",
    ]


def test_only_navigators_and_admins_triage(matron, chair, practice_a):
    entry = _refer(chair, PatientFactory(practice=practice_a))

    with pytest.raises(PermissionDenied):
        services.referral_accept(by=matron, entry=entry, clinical_lead=matron, navigator=None)
    with pytest.raises(PermissionDenied):
        services.referral_decline(by=chair, entry=entry, reason="Not for us")


def test_the_clinical_lead_must_belong_to_the_network(navigator, outsider, practice_a, chair):
    entry = _refer(chair, PatientFactory(practice=practice_a))

    with pytest.raises(ValidationError, match="members of this network"):
        services.referral_accept(
            by=navigator, entry=entry, clinical_lead=outsider, navigator=navigator
        )
    entry.refresh_from_db()
    assert entry.status == "referred"


def test_declining_needs_a_reason_and_closes_the_episode(navigator, chair, practice_a):
    entry = _refer(chair, PatientFactory(practice=practice_a))
    with pytest.raises(ValidationError, match="Enter the reason"):
        services.referral_decline(by=navigator, entry=entry, reason=" ")

    entry = services.referral_decline(by=navigator, entry=entry, reason="Needs are met by the GP")

    assert entry.status == "declined"
    assert entry.closed_on == TODAY
    # Closed: the person can be referred again.
    assert _refer(chair, entry.patient).status == "referred"


def test_a_stale_decision_is_refused(navigator, matron, chair, practice_a):
    entry = _refer(chair, PatientFactory(practice=practice_a))
    seen = entry.status
    services.referral_decline(by=navigator, entry=entry, reason="Duplicate referral")

    with pytest.raises(services.StaleStatus, match="someone changed it"):
        services.referral_accept(
            by=navigator, entry=entry, clinical_lead=matron, navigator=navigator, expected=seen
        )


def test_the_episode_moves_through_its_statuses(navigator, matron, chair, practice_a):
    entry = _refer(chair, PatientFactory(practice=practice_a))
    entry = services.referral_accept(
        by=navigator, entry=entry, clinical_lead=matron, navigator=navigator
    )
    entry = services.entry_status_change(by=matron, entry=entry, to_status="active")

    with pytest.raises(ValidationError, match="Enter the reason"):
        services.entry_status_change(by=matron, entry=entry, to_status="stepped_down")
    entry = services.entry_status_change(
        by=matron, entry=entry, to_status="stepped_down", reason="Goals met"
    )

    assert entry.status == "stepped_down"
    assert entry.closed_on == TODAY
    with pytest.raises(ValidationError, match="cannot become"):
        services.entry_status_change(by=matron, entry=entry, to_status="active")


def test_status_history_cannot_be_rewritten(navigator, chair, practice_a):
    entry = _refer(chair, PatientFactory(practice=practice_a))

    with pytest.raises(PermissionError):
        EntryStatusChange.objects.filter(entry=entry).update(reason="rewritten")
    with pytest.raises(PermissionError):
        EntryStatusChange.objects.filter(entry=entry).delete()
