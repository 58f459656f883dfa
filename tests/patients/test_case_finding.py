"""The case-finding list: people of the user's networks whose latest risk
score is at or above the threshold (or in the top N% of their network), and
who are not on the register yet."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from patients.imports import case_finding_list
from patients.models import RegisterEntry
from tests.factories import MembershipFactory, PatientFactory, PracticeFactory, UserFactory
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db

# A page of the list, whatever its length: session, user, memberships, the
# count, the page; the access event and its patients (in a savepoint, 4);
# the session's renewed expiry (in a savepoint, 3).
PINNED_QUERIES = 12


def scored(practice, score, **fields):
    return PatientFactory(
        practice=practice,
        risk_score=Decimal(str(score)),
        risk_scored_on=dt.date(2026, 3, 1),
        **fields,
    )


def refer(patient, status=RegisterEntry.Status.REFERRED):
    return RegisterEntry.objects.create(
        patient=patient,
        status=status,
        source=RegisterEntry.Source.GP_PRACTICE,
        referrer_name="Dr Patel",
        reason="Two admissions since Christmas",
        referred_on=dt.date(2026, 2, 10),
    )


def scores(people) -> list[Decimal]:
    return [patient.risk_score for patient in people]


# --- who is listed ---------------------------------------------------------------


def test_people_at_or_above_the_threshold_are_listed_highest_first(matron, practice_a, settings):
    settings.CASE_FINDING_THRESHOLD = 80
    for score in (79.9, 80, 95.5, 12, 88):
        scored(practice_a, score)
    PatientFactory(practice=practice_a)  # never scored

    assert scores(case_finding_list(user=matron)) == [
        Decimal("95.5"),
        Decimal("88.0"),
        Decimal("80.0"),
    ]


def test_the_threshold_is_a_setting(matron, practice_a, settings):
    settings.CASE_FINDING_THRESHOLD = 50
    scored(practice_a, 60)
    scored(practice_a, 40)

    assert scores(case_finding_list(user=matron)) == [Decimal("60.0")]


@pytest.mark.parametrize(
    "status",
    [RegisterEntry.Status.REFERRED, RegisterEntry.Status.ACCEPTED, RegisterEntry.Status.ACTIVE],
)
def test_people_with_an_open_referral_or_episode_are_not_listed(matron, practice_a, status):
    on_register = scored(practice_a, 95)
    refer(on_register, status=status)
    waiting = scored(practice_a, 90)

    assert list(case_finding_list(user=matron)) == [waiting]


@pytest.mark.parametrize(
    "status",
    [
        RegisterEntry.Status.DISCHARGED,
        RegisterEntry.Status.STEPPED_DOWN,
        RegisterEntry.Status.DECLINED,
    ],
)
def test_people_whose_episode_has_closed_are_listed_again(matron, practice_a, status):
    patient = scored(practice_a, 95)
    refer(patient, status=status)

    assert list(case_finding_list(user=matron)) == [patient]


def test_people_who_have_died_are_not_listed(matron, practice_a):
    scored(practice_a, 95, date_of_death=dt.date(2026, 2, 1))

    assert not case_finding_list(user=matron).exists()


def test_the_top_percent_is_of_each_network_separately(practice_a, practice_b, network_b):
    both = UserFactory(username="both")
    MembershipFactory(user=both, network=practice_a.network, role=Membership.Role.NAVIGATOR)
    MembershipFactory(user=both, network=network_b, role=Membership.Role.NAVIGATOR)
    for score in range(10, 101, 10):  # North: 10 … 100
        scored(practice_a, score)
    for score in range(1, 11):  # South: 1 … 10, all low
        scored(practice_b, score)

    top = case_finding_list(user=both, top_percent=20)

    assert [(p.practice.network.code, p.risk_score) for p in top] == [
        ("north", Decimal("100.0")),
        ("north", Decimal("90.0")),
        ("south", Decimal("10.0")),
        ("south", Decimal("9.0")),
    ]


def test_the_top_percent_rounds_up_and_keeps_ties_at_the_cut_off(matron, practice_a):
    for score in (90, 80, 80, 70, 60):
        scored(practice_a, score)

    # 10% of 5 people is half a person: the top one. 30% is 1.5: two places,
    # and the two people tied for second are both in.
    assert scores(case_finding_list(user=matron, top_percent=10)) == [Decimal("90.0")]
    assert scores(case_finding_list(user=matron, top_percent=30)) == [
        Decimal("90.0"),
        Decimal("80.0"),
        Decimal("80.0"),
    ]


def test_the_top_percent_counts_people_on_the_register_but_does_not_list_them(matron, practice_a):
    people = [scored(practice_a, score) for score in range(100, 0, -10)]  # 100 … 10
    refer(people[0])

    # The top 20% of ten people are the 100 (on the register) and the 90.
    assert list(case_finding_list(user=matron, top_percent=20)) == [people[1]]


def test_the_outsider_sees_no_one_of_network_a(outsider, practice_a):
    scored(practice_a, 99)

    assert not case_finding_list(user=outsider).exists()
    assert not case_finding_list(user=outsider, top_percent=50).exists()


# --- the page -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["matron", "chair", "navigator", "admin"])
def test_every_role_sees_the_list(client, personas, practice_a, persona):
    patient = scored(practice_a, 91.5, frailty_category="moderate", family_name="Okafor")
    client.force_login(getattr(personas, persona))
    if persona == "admin":
        _verify_second_factor(client, personas.admin)

    response = client.get(reverse("patients:case_finding"))

    assert response.status_code == 200
    assert f"OKAFOR, {patient.given_name}" in response.text
    assert reverse("patients:detail", args=[patient.pk]) in response.text
    assert patient.nhs_number_display in response.text
    assert practice_a.name in response.text
    assert "91.5" in response.text
    assert "Moderate frailty" in response.text
    assert "1 March 2026" in response.text
    refer_url = reverse("patients:refer", args=[patient.pk]) + "?source=risk_stratification"
    assert f'href="{refer_url}"' in response.text


def test_the_outsider_page_lists_no_one_of_network_a(client, outsider, practice_a):
    scored(practice_a, 99, family_name="Okafor")
    client.force_login(outsider)

    response = client.get(reverse("patients:case_finding"))

    assert response.status_code == 200
    assert "OKAFOR" not in response.text
    assert "No one in your networks has a risk score of 80 or more" in response.text


def test_the_page_shows_the_top_percent_when_asked(client, matron, practice_a):
    for score in range(10, 101, 10):
        scored(practice_a, score)
    client.force_login(matron)

    response = client.get(reverse("patients:case_finding"), {"top": "10"})

    assert "People in the top 10% of their network by risk score" in response.text
    assert "100.0" in response.text
    assert "90.0" not in response.text


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ("0", "Enter a top percent from 1 to 50"),
        ("51", "Enter a top percent from 1 to 50"),
        ("ten", "Enter the top percent as a whole number, like 5"),
    ],
)
def test_a_wrong_top_percent_is_explained_and_the_threshold_is_used(
    client, matron, practice_a, top, message
):
    scored(practice_a, 85)
    client.force_login(matron)

    response = client.get(reverse("patients:case_finding"), {"top": top})

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert message in response.text
    assert "whose latest risk score is 80 or more" in response.text
    assert "85.0" in response.text


def test_an_empty_list_says_why_in_plain_words(client, navigator):
    client.force_login(navigator)

    response = client.get(reverse("patients:case_finding"))

    assert "People appear here when risk scores are imported" in response.text
    assert "<table" not in response.text


def test_the_next_page_keeps_the_top_percent(client, matron, practice_a):
    for n in range(60):  # the top half is 30 people: two pages
        scored(practice_a, 20 + n)
    client.force_login(matron)

    response = client.get(reverse("patients:case_finding"), {"top": "50"})

    assert 'href="?top=50&amp;page=2"' in response.text


def test_the_list_is_recorded_as_access_to_the_people_shown(client, matron, practice_a):
    shown = [scored(practice_a, 90), scored(practice_a, 85)]
    scored(practice_a, 10)
    client.force_login(matron)

    client.get(reverse("patients:case_finding"))

    event = AccessEvent.objects.get()
    assert event.what == "patient.case_finding"
    assert set(event.patients.values_list("patient_id", flat=True)) == {p.pk for p in shown}
    assert event.reason == "member of North as Community matron"


@pytest.mark.parametrize("rows", [1, 50])
@pytest.mark.parametrize("top", [None, "20"])
def test_the_page_query_count_does_not_grow_with_rows(
    client, matron, practice_a, rows, top, django_assert_num_queries
):
    for n in range(rows):
        scored(PracticeFactory(network=practice_a.network), 99 - n % 10)
    client.force_login(matron)
    client.get(reverse("home"))  # settle the session

    with django_assert_num_queries(PINNED_QUERIES):
        response = client.get(reverse("patients:case_finding"), {"top": top} if top else {})
    assert response.status_code == 200
