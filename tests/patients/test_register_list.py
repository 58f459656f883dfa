"""The register list: its filters, search, sort and pagination, the CSV export
of the same list, the access gate on both and their access events."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from careplans.models import CarePlan
from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent, AccessEventPatient
from patients.models import RegisterEntry
from tests.factories import MembershipFactory, PatientFactory, PracticeFactory, UserFactory
from tests.patients.factories_register import RegisterEntryFactory
from tests.patients.test_gate import REGISTER_PAGE_QUERIES

pytestmark = pytest.mark.django_db

Status = RegisterEntry.Status

# An export, whatever its length: session, user, memberships; the ids of the
# patients it will hold; the access event naming them (4); the session (3);
# the rows, streamed in chunks from one query.
EXPORT_QUERIES = 12


def _names(response) -> list[str]:
    return [row.patient.family_name for row in response.context["rows"]]


def _get(client, user, **params):
    client.force_login(user)
    return client.get(reverse("patients:list"), params)


def _export(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("patients:export"), params)
    content = b"".join(response.streaming_content).decode("utf-8")
    return response, content


def _csv_rows(content: str) -> list[list[str]]:
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))


# --- what the list shows -----------------------------------------------------------


def test_each_row_shows_the_persons_latest_episode(client, matron, navigator, practice_a):
    patient = PatientFactory(practice=practice_a, family_name="Okafor", risk_score=Decimal("82.5"))
    RegisterEntryFactory(
        patient=patient,
        status=Status.DISCHARGED,
        referred_on=dt.date(2024, 1, 5),
        tier=3,
    )
    RegisterEntryFactory(
        patient=patient,
        status=Status.ACTIVE,
        referred_on=dt.date(2025, 6, 1),
        tier=2,
        clinical_lead=matron,
        navigator=navigator,
    )

    response = _get(client, matron)

    [row] = response.context["rows"]
    assert (row.status, row.tier, row.referred_on) == ("active", 2, dt.date(2025, 6, 1))
    assert row.lead_name == matron.get_full_name()
    assert row.navigator_name == navigator.get_full_name()
    assert row.risk_band.key == "high"
    assert "OKAFOR" in response.text
    assert patient.nhs_number_display in response.text
    assert '<strong class="nhsuk-tag nhsuk-tag--green">Active</strong>' in response.text
    assert "82.5" in response.text


def test_someone_never_referred_is_shown_as_never_referred(client, matron, practice_a):
    PatientFactory(practice=practice_a)

    response = _get(client, matron)

    [row] = response.context["rows"]
    assert (row.status, row.status_label, row.lead_name) == ("", "Never referred", "")
    assert "Never referred" in response.text


def test_a_practitioner_without_a_name_is_shown_by_username(client, matron, practice_a):
    nameless = UserFactory(username="locum7", first_name="", last_name="")
    RegisterEntryFactory(patient=PatientFactory(practice=practice_a), clinical_lead=nameless)

    response = _get(client, matron)

    assert response.context["rows"][0].lead_name == "locum7"


# --- filters -------------------------------------------------------------------------


@pytest.fixture
def episodes(practice_a):
    """One person in each status, plus one never referred."""
    people = {}
    for status in Status.values:
        patient = PatientFactory(practice=practice_a, family_name=f"Status-{status}")
        RegisterEntryFactory(patient=patient, status=status)
        people[status] = patient
    people["none"] = PatientFactory(practice=practice_a, family_name="Status-none")
    return people


@pytest.mark.parametrize("status", Status.values)
def test_status_filter_shows_only_people_whose_latest_episode_has_that_status(
    client, matron, episodes, status
):
    response = _get(client, matron, status=status)

    assert _names(response) == [f"Status-{status}"]


def test_status_open_shows_people_referred_accepted_or_active(client, matron, episodes):
    response = _get(client, matron, status="open")

    assert _names(response) == ["Status-accepted", "Status-active", "Status-referred"]


def test_status_none_shows_people_never_referred(client, matron, episodes):
    response = _get(client, matron, status="none")

    assert _names(response) == ["Status-none"]


def test_status_filter_reads_the_latest_episode_not_an_earlier_one(client, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    RegisterEntryFactory(patient=patient, status=Status.ACTIVE, referred_on=dt.date(2023, 1, 1))
    RegisterEntryFactory(patient=patient, status=Status.DECLINED, referred_on=dt.date(2025, 1, 1))

    assert _names(_get(client, matron, status="active")) == []
    assert _names(_get(client, matron, status="declined")) == [patient.family_name]


def test_tier_filter(client, matron, practice_a):
    for tier in (0, 1, 2, 3):
        RegisterEntryFactory(
            patient=PatientFactory(practice=practice_a, family_name=f"Tier-{tier}"), tier=tier
        )

    assert _names(_get(client, matron, tier="0")) == ["Tier-0"]
    assert _names(_get(client, matron, tier="2")) == ["Tier-2"]


@pytest.mark.parametrize(
    ("band", "expected"),
    [
        ("low", ["Score-0.0", "Score-49.9"]),
        ("medium", ["Score-50.0", "Score-79.9"]),
        ("high", ["Score-100.0", "Score-80.0"]),
        ("none", ["Score-none"]),
    ],
)
def test_risk_band_filter_uses_the_bands_boundaries(client, matron, practice_a, band, expected):
    for score in ("0.0", "49.9", "50.0", "79.9", "80.0", "100.0", None):
        PatientFactory(
            practice=practice_a,
            family_name=f"Score-{score or 'none'}",
            risk_score=Decimal(score) if score else None,
        )

    assert _names(_get(client, matron, risk=band)) == expected


def test_the_risk_bands_are_explained_under_the_filter(client, matron):
    response = _get(client, matron)

    assert "Risk bands: low under 50, medium 50 to 79.9, high 80 or more." in response.text
    assert 'aria-describedby="filter-risk-hint"' in response.text


def test_practice_filter(client, matron, practice_a, network_a):
    other_practice = PracticeFactory(network=network_a, name="Hillview Surgery")
    PatientFactory(practice=practice_a, family_name="Riverside")
    PatientFactory(practice=other_practice, family_name="Hillview")

    response = _get(client, matron, practice=str(other_practice.pk))

    assert _names(response) == ["Hillview"]
    assert f'<option value="{other_practice.pk}" selected>' in response.text


def test_network_filter_for_someone_in_two_networks(client, practice_a, practice_b, network_b):
    user = UserFactory()
    MembershipFactory(user=user, network=practice_a.network, role=Membership.Role.NAVIGATOR)
    MembershipFactory(user=user, network=network_b, role=Membership.Role.MEMBER)
    PatientFactory(practice=practice_a, family_name="Northern")
    PatientFactory(practice=practice_b, family_name="Southern")

    assert _names(_get(client, user)) == ["Northern", "Southern"]
    response = _get(client, user, network=str(network_b.pk))

    assert _names(response) == ["Southern"]
    assert 'id="filter-network"' in response.text


def test_network_filter_is_not_offered_to_someone_in_one_network(client, matron):
    assert 'id="filter-network"' not in _get(client, matron).text


def test_clinical_lead_and_navigator_filters(client, matron, chair, navigator, practice_a):
    RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a, family_name="Led-by-matron"),
        clinical_lead=matron,
        navigator=navigator,
    )
    RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a, family_name="Led-by-chair"),
        clinical_lead=chair,
    )

    assert _names(_get(client, matron, lead=str(chair.pk))) == ["Led-by-chair"]
    assert _names(_get(client, matron, navigator=str(navigator.pk))) == ["Led-by-matron"]


def test_filters_combine(client, matron, practice_a):
    RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a, family_name="Match", risk_score=90),
        status=Status.ACTIVE,
        tier=3,
    )
    RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a, family_name="Low-risk", risk_score=10),
        status=Status.ACTIVE,
        tier=3,
    )
    RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a, family_name="Tier-one", risk_score=90),
        status=Status.ACTIVE,
        tier=1,
    )

    response = _get(client, matron, status="active", tier="3", risk="high")

    assert _names(response) == ["Match"]


def test_filter_options_are_limited_to_the_users_networks(
    client, matron, practice_a, practice_b, outsider
):
    response = _get(client, matron)

    assert practice_a.name in response.text
    assert practice_b.name not in response.text
    # Escaped as the page shows them (a Faker name may be O'Brien).
    assert escape(outsider.get_full_name()) not in response.text
    assert escape(matron.get_full_name()) in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"tier": "7"},
        {"risk": "extreme"},
        {"practice": "not-a-uuid"},
        {"lead": "1 OR 1=1"},
        {"sort": "password"},
        {"page": "9999"},
        {"review": "soon"},
    ],
)
def test_a_value_that_is_not_a_choice_is_ignored(client, matron, practice_a, params):
    PatientFactory(practice=practice_a, family_name="Still-shown")

    response = _get(client, matron, **params)

    assert response.status_code == 200
    assert _names(response) == ["Still-shown"]


def test_clear_filters_link_shows_when_filtered(client, matron, practice_a):
    PatientFactory(practice=practice_a)

    assert "Clear filters" not in _get(client, matron).text
    assert "Clear filters" in _get(client, matron, status="active").text


# --- search --------------------------------------------------------------------------


def test_search_by_name(client, matron, practice_a):
    PatientFactory(practice=practice_a, family_name="Okafor", given_name="Mary")
    PatientFactory(practice=practice_a, family_name="Jones", given_name="Mary")

    assert _names(_get(client, matron, q="okaf")) == ["Okafor"]
    assert _names(_get(client, matron, q="mary okafor")) == ["Okafor"]


def test_search_by_nhs_number_with_or_without_spaces(client, matron, practice_a):
    patient = PatientFactory(practice=practice_a, family_name="Found")
    PatientFactory(practice=practice_a, family_name="Other")
    number = patient.nhs_number

    assert _names(_get(client, matron, q=number)) == ["Found"]
    assert _names(_get(client, matron, q=f"{number[:3]} {number[3:6]} {number[6:]}")) == ["Found"]


def test_search_by_date_of_birth(client, matron, practice_a):
    PatientFactory(practice=practice_a, family_name="Born-1941", date_of_birth=dt.date(1941, 3, 2))
    PatientFactory(practice=practice_a, family_name="Born-1950", date_of_birth=dt.date(1950, 3, 2))

    assert _names(_get(client, matron, q="02/03/1941")) == ["Born-1941"]
    assert _names(_get(client, matron, q="1941-03-02")) == ["Born-1941"]


def test_search_and_filters_combine(client, matron, practice_a):
    RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a, family_name="Ahmed", given_name="Active"),
        status=Status.ACTIVE,
    )
    PatientFactory(practice=practice_a, family_name="Ahmed", given_name="Never")

    response = _get(client, matron, q="ahmed", status="active")

    assert [row.patient.given_name for row in response.context["rows"]] == ["Active"]


def test_a_search_that_finds_no_one_says_what_to_do_next(client, matron, practice_a):
    PatientFactory(practice=practice_a)

    response = _get(client, matron, q="zzyzx")

    assert "No one on the register of your networks matches “zzyzx”" in response.text
    assert "clear the filters" in response.text


def test_an_empty_register_says_how_people_get_onto_it(client, matron):
    response = _get(client, matron)

    assert "No one is on the register of your networks yet" in response.text
    assert reverse("patients:create") in response.text


# --- the care plan review filter ---------------------------------------------------------


def _plan(entry, chair, *, next_review_on, status="shared", number=1, previous=None):
    """A plan version as the services leave it, reviewed on ``next_review_on``."""
    in_force = status in ("ratified", "shared", "superseded")
    return CarePlan.objects.create(
        patient=entry.patient,
        entry=entry,
        number=number,
        previous=previous,
        status=status,
        starts_on=next_review_on - dt.timedelta(weeks=6),
        next_review_on=next_review_on,
        ratified_by=chair if in_force else None,
        ratified_at=timezone.now() if in_force else None,
    )


@pytest.fixture
def reviews(practice_a, chair):
    """People whose care plan review is overdue, due or later, and people
    whose plan has no review to come."""
    today = timezone.localdate()

    def person(name, status=Status.ACTIVE):
        patient = PatientFactory(practice=practice_a, family_name=f"Review-{name}")
        return RegisterEntryFactory(patient=patient, status=status)

    _plan(person("overdue"), chair, next_review_on=today - dt.timedelta(days=1))
    _plan(person("today"), chair, status="ratified", next_review_on=today)
    _plan(person("in-14-days"), chair, next_review_on=today + dt.timedelta(days=14))
    _plan(person("in-15-days"), chair, next_review_on=today + dt.timedelta(days=15))
    # Not in force: a draft has no review to come.
    _plan(person("draft"), chair, status="draft", next_review_on=today - dt.timedelta(days=5))
    # The newest version in force counts, not the one it superseded...
    entry = person("reviewed")
    old = _plan(entry, chair, status="superseded", next_review_on=today - dt.timedelta(days=30))
    _plan(entry, chair, number=2, previous=old, next_review_on=today + dt.timedelta(days=30))
    # ... and a new version being drafted leaves the one in force overdue.
    entry = person("redrafting")
    old = _plan(entry, chair, next_review_on=today - dt.timedelta(days=3))
    _plan(entry, chair, status="draft", number=2, previous=old, next_review_on=today)
    # An episode that has ended has no review to come.
    _plan(person("discharged", Status.DISCHARGED), chair, next_review_on=today)
    person("no-plan")


@pytest.mark.parametrize(
    ("review", "expected"),
    [
        ("overdue", ["Review-overdue", "Review-redrafting"]),
        ("due", ["Review-in-14-days", "Review-today"]),
        ("any", ["Review-in-14-days", "Review-overdue", "Review-redrafting", "Review-today"]),
        (
            "",
            [
                f"Review-{n}"
                for n in sorted(
                    [
                        "discharged",
                        "draft",
                        "in-14-days",
                        "in-15-days",
                        "no-plan",
                        "overdue",
                        "redrafting",
                        "reviewed",
                        "today",
                    ]
                )
            ],
        ),
    ],
)
def test_review_filter_reads_the_next_review_of_the_plan_in_force(
    client, matron, reviews, review, expected
):
    assert _names(_get(client, matron, review=review)) == expected


def test_review_filter_is_offered_and_keeps_its_choice(client, matron, reviews):
    response = _get(client, matron, review="due")

    assert '<select class="nhsuk-select" id="filter-review" name="review">' in response.text
    assert '<label class="nhsuk-label" for="filter-review">Care plan review</label>' in (
        response.text
    )
    assert '<option value="due" selected>Due within 14 days</option>' in response.text
    assert '<option value="overdue">Overdue</option>' in response.text
    assert "Clear filters" in response.text


def test_review_filter_counts_from_today(client, matron, reviews):
    later = dt.datetime.combine(
        timezone.localdate() + dt.timedelta(days=2), dt.time(12), tzinfo=dt.UTC
    )

    with time_machine.travel(later, tick=False):
        response = _get(client, matron, review="overdue")

    assert _names(response) == ["Review-overdue", "Review-redrafting", "Review-today"]


def test_sorting_by_next_review_puts_the_most_overdue_first(client, matron, reviews):
    names = _names(_get(client, matron, sort="review", review="any"))

    assert names == ["Review-redrafting", "Review-overdue", "Review-today", "Review-in-14-days"]
    everyone = _names(_get(client, matron, sort="review"))
    assert everyone[:6] == [
        "Review-redrafting",
        "Review-overdue",
        "Review-today",
        "Review-in-14-days",
        "Review-in-15-days",
        "Review-reviewed",
    ]  # and no review to come last


def test_the_export_applies_the_review_filter(client, matron, reviews):
    _, content = _export(client, matron, review="overdue")

    assert [row[0] for row in _csv_rows(content)[1:]] == ["Review-overdue", "Review-redrafting"]


# --- sorting -------------------------------------------------------------------------


@pytest.fixture
def sortable(practice_a):
    """Three people who sort differently by each column."""
    ada = PatientFactory(
        practice=practice_a,
        family_name="Ada",
        date_of_birth=dt.date(1930, 1, 1),
        risk_score=Decimal("40"),
    )
    bea = PatientFactory(
        practice=practice_a,
        family_name="Bea",
        date_of_birth=dt.date(1950, 1, 1),
        risk_score=None,
    )
    cy = PatientFactory(
        practice=practice_a,
        family_name="Cy",
        date_of_birth=dt.date(1940, 1, 1),
        risk_score=Decimal("95"),
    )
    RegisterEntryFactory(patient=ada, status=Status.DISCHARGED, referred_on=dt.date(2025, 3, 1))
    RegisterEntryFactory(patient=cy, status=Status.REFERRED, referred_on=dt.date(2025, 1, 1))
    return ada, bea, cy


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Ada", "Bea", "Cy"]),
        ("name", ["Ada", "Bea", "Cy"]),
        ("-name", ["Cy", "Bea", "Ada"]),
        ("age", ["Bea", "Cy", "Ada"]),  # youngest first
        ("-age", ["Ada", "Cy", "Bea"]),
        ("-risk", ["Cy", "Ada", "Bea"]),  # highest first, not scored last
        ("risk", ["Ada", "Cy", "Bea"]),  # not scored last either way
        ("status", ["Cy", "Ada", "Bea"]),  # the pathway's order, never referred last
        ("-referred", ["Ada", "Cy", "Bea"]),
        ("referred", ["Cy", "Ada", "Bea"]),
    ],
)
def test_sorting_by_each_column(client, matron, sortable, sort, expected):
    assert _names(_get(client, matron, sort=sort)) == expected


def test_the_sorted_column_header_has_aria_sort_and_links_to_the_other_direction(
    client, matron, sortable
):
    response = _get(client, matron, sort="-risk", status="open")

    columns = response.context["columns"]
    assert columns["risk"].aria_sort == "descending"
    assert columns["risk"].href == "?status=open&sort=risk"
    assert columns["name"].aria_sort == ""
    assert columns["name"].href == "?status=open&sort=name"
    # A column sorts first in its natural direction: the highest risk first.
    assert _get(client, matron).context["columns"]["risk"].href == "?sort=-risk"
    assert response.text.count("aria-sort=") == 1
    assert 'aria-sort="descending"><a class="mdt-sort-link" href="?status=open&amp;sort=risk"' in (
        response.text
    )


# --- pagination ------------------------------------------------------------------------


def test_the_list_pages_by_25_and_the_page_links_keep_search_filters_and_sort(
    client, matron, practice_a
):
    for number in range(30):
        RegisterEntryFactory(
            patient=PatientFactory(practice=practice_a, family_name=f"Smith-{number:02d}"),
            status=Status.ACTIVE,
        )
    PatientFactory(practice=practice_a, family_name="Smith-never-referred")

    first = _get(client, matron, q="smith", status="active", sort="-name")

    assert len(first.context["rows"]) == 25
    assert "30 people match: showing 1 to 25" in first.text
    assert 'href="?q=smith&amp;status=active&amp;sort=-name&amp;page=2"' in first.text
    second = _get(client, matron, q="smith", status="active", sort="-name", page="2")
    assert _names(second) == [f"Smith-{number:02d}" for number in range(4, -1, -1)]
    assert 'href="?q=smith&amp;status=active&amp;sort=-name&amp;page=1"' in second.text


def test_the_export_link_carries_the_search_filters_and_sort_but_not_the_page(
    client, matron, practice_a
):
    PatientFactory.create_batch(30, practice=practice_a, family_name="Smith")

    response = _get(client, matron, q="smith", risk="none", page="2")

    assert f"{reverse('patients:export')}?q=smith&amp;risk=none" in response.text


# --- the gate and the audit --------------------------------------------------------------


def test_the_outsider_sees_and_finds_no_one_of_another_network(
    client, outsider, practice_a, practice_b
):
    north = PatientFactory(practice=practice_a, family_name="Okafor")
    PatientFactory(practice=practice_b, family_name="Brown")

    assert _names(_get(client, outsider)) == ["Brown"]
    assert _names(_get(client, outsider, q="okafor")) == []
    assert _names(_get(client, outsider, q=north.nhs_number)) == []
    assert _names(_get(client, outsider, practice=str(practice_a.pk))) == []
    assert "Okafor" not in _get(client, outsider, q="okafor").text


def test_a_list_page_writes_one_access_event_naming_the_patients_shown(
    client, navigator, practice_a
):
    patients = [
        PatientFactory(practice=practice_a, family_name=f"Person-{n:02d}") for n in range(30)
    ]

    _get(client, navigator)

    event = AccessEvent.objects.get()
    assert event.what == "patient.list"
    assert event.patient_count == 25
    assert set(AccessEventPatient.objects.values_list("patient_id", flat=True)) == {
        patient.pk for patient in patients[:25]
    }


def test_a_filtered_page_is_audited_as_a_search(client, navigator, practice_a):
    RegisterEntryFactory(patient=PatientFactory(practice=practice_a), status=Status.ACTIVE)
    PatientFactory(practice=practice_a)

    _get(client, navigator, status="active")

    event = AccessEvent.objects.get()
    assert (event.what, event.patient_count) == ("patient.search", 1)


def test_sorting_alone_is_audited_as_the_list(client, navigator, practice_a):
    PatientFactory(practice=practice_a)

    _get(client, navigator, sort="-risk", page="1")

    assert AccessEvent.objects.get().what == "patient.list"


@pytest.mark.parametrize("rows", [1, 50])
def test_register_page_query_count_does_not_grow_with_rows(
    client, matron, navigator, practice_a, rows, django_assert_num_queries
):
    chair = UserFactory()
    today = timezone.localdate()
    for patient in PatientFactory.create_batch(rows, practice=practice_a):
        entry = RegisterEntryFactory(
            patient=patient, status=Status.ACTIVE, clinical_lead=matron, navigator=navigator
        )
        first = _plan(entry, chair, status="superseded", next_review_on=today)
        _plan(entry, chair, number=2, previous=first, next_review_on=today)
    client.force_login(matron)
    client.get(reverse("home"))  # settle the session

    # The next review is one more subquery of the page's query: no more queries.
    with django_assert_num_queries(REGISTER_PAGE_QUERIES):
        response = client.get(
            reverse("patients:list"),
            {"status": "open", "sort": "status", "risk": "none", "review": "due"},
        )
    assert len(response.context["rows"]) == min(rows, 25)


# --- the export --------------------------------------------------------------------------


def test_export_has_every_matching_row_not_just_one_page(client, matron, navigator, practice_a):
    for number in range(30):
        RegisterEntryFactory(
            patient=PatientFactory(practice=practice_a, family_name=f"Active-{number:02d}"),
            status=Status.ACTIVE,
            tier=2,
            clinical_lead=matron,
            navigator=navigator,
        )
    PatientFactory(practice=practice_a, family_name="Never-referred")

    _, content = _export(client, matron, status="active")

    header, *rows = _csv_rows(content)
    assert header[:4] == ["Family name", "Given name", "NHS number", "Date of birth"]
    assert [row[0] for row in rows] == [f"Active-{number:02d}" for number in range(30)]
    record = dict(zip(header, rows[0], strict=True))
    assert record["Status"] == "Active"
    assert record["Tier"] == "2"
    assert record["Clinical lead"] == matron.get_full_name()
    assert record["Navigator"] == navigator.get_full_name()
    assert record["Practice"] == practice_a.name


def test_export_row_matches_the_table_plus_date_of_birth_and_postcode(client, matron, practice_a):
    patient = PatientFactory(
        practice=practice_a,
        family_name="Okafor",
        given_name="Siân",
        date_of_birth=dt.date(1941, 3, 2),
        postcode="LS1 4AP",
        risk_score=Decimal("82.5"),
    )
    RegisterEntryFactory(patient=patient, status=Status.REFERRED, referred_on=dt.date(2026, 1, 4))

    _, content = _export(client, matron)

    header, row = _csv_rows(content)
    record = dict(zip(header, row, strict=True))
    assert record["Given name"] == "Siân"
    assert record["NHS number"] == patient.nhs_number_display
    assert record["Date of birth"] == "1941-03-02"
    assert record["Postcode"] == "LS1 4AP"
    assert record["Practice ODS code"] == practice_a.ods_code
    assert record["Status"] == "Referred"
    assert record["Referred on"] == "2026-01-04"
    assert (record["Risk score"], record["Risk band"]) == ("82.5", "High")
    assert int(record["Age"]) >= 84


def test_export_is_utf8_with_a_byte_order_mark_and_a_dated_filename(client, matron):
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC), tick=False):
        response, content = _export(client, matron)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="register-2026-03-02.csv"'
    assert response["Cache-Control"] == "no-store"
    assert content.startswith("\ufeffFamily name,")


def test_export_neutralises_cells_a_spreadsheet_would_run(client, matron, practice_a):
    PatientFactory(practice=practice_a, family_name="=cmd|' /C calc'!A0", given_name="@SUM(A1)")

    _, content = _export(client, matron)

    _, row = _csv_rows(content)
    assert row[0] == "'=cmd|' /C calc'!A0"
    assert row[1] == "'@SUM(A1)"


def test_export_writes_one_access_event_naming_every_exported_patient(client, chair, practice_a):
    exported = PatientFactory.create_batch(30, practice=practice_a, family_name="Exported")
    PatientFactory(practice=practice_a, family_name="Filtered-out")

    _export(client, chair, q="exported")

    event = AccessEvent.objects.get()
    assert (event.what, event.patient_count) == ("patient.export", 30)
    assert event.reason == "member of North as GP chair"
    assert set(AccessEventPatient.objects.values_list("patient_id", flat=True)) == {
        patient.pk for patient in exported
    }


def test_the_outsiders_export_has_no_one_of_another_network(
    client, outsider, practice_a, practice_b
):
    north = PatientFactory(practice=practice_a, family_name="Okafor")
    PatientFactory(practice=practice_b, family_name="Brown")

    _, everything = _export(client, outsider)
    _, searched = _export(client, outsider, q=north.nhs_number)

    assert [row[0] for row in _csv_rows(everything)[1:]] == ["Brown"]
    assert _csv_rows(searched)[1:] == []
    assert "Okafor" not in everything
    assert not AccessEventPatient.objects.filter(patient_id=north.pk).exists()


@pytest.mark.parametrize("rows", [1, 50])
def test_export_query_count_does_not_grow_with_rows(
    client, matron, practice_a, rows, django_assert_num_queries
):
    for patient in PatientFactory.create_batch(rows, practice=practice_a):
        RegisterEntryFactory(patient=patient, status=Status.ACTIVE, clinical_lead=matron)
    client.force_login(matron)
    client.get(reverse("home"))  # settle the session

    with django_assert_num_queries(EXPORT_QUERIES):
        response = client.get(reverse("patients:export"), {"status": "active"})
        content = b"".join(response.streaming_content).decode("utf-8")
    assert len(_csv_rows(content)) == rows + 1


def test_dates_in_the_list_use_the_nhs_style(client, matron, practice_a):
    referred = timezone.localdate().replace(day=2)
    RegisterEntryFactory(patient=PatientFactory(practice=practice_a), referred_on=referred)

    response = _get(client, matron)

    assert f"2 {referred:%B %Y}" in response.text
