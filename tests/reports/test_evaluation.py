"""The pre/post-MDT outcome evaluation: the rules on a small hand-built data
set whose figures are worked out by hand below, then the page and its CSV
export (who may see them, bad input, the empty states, the audit, and a
query count that does not grow with the cohort).

Today is 10 March 2026 throughout: the last complete month is February 2026,
so the latest index month with 12 whole months after is February 2025."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from mdtcare.audit.models import AccessEvent
from mdtcare.reports.evaluation import (
    DEFINITIONS,
    LIMITS,
    MEASURES,
    default_months,
    outcome_evaluation,
)
from mdtcare.reports.months import Month
from meetings.models import AgendaItem, Discussion, Meeting
from patients.models import HospitalActivity
from tests.factories import PatientFactory
from tests.patients.test_gate import _verify_second_factor

TODAY = dt.date(2026, 3, 10)
AE, NEL, EL, OP, BED = (measure.key for measure in MEASURES)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)


def discussed(patient, network, day: dt.date, recorded_by):
    """``patient`` discussed at a closed meeting of ``network`` on ``day``."""
    meeting = Meeting.objects.create(
        network=network, date=day, starts_at=dt.time(9), ends_at=dt.time(11), status="closed"
    )
    item = AgendaItem.objects.create(meeting=meeting, patient=patient, reason="review_due")
    return Discussion.objects.create(item=item, recorded_by=recorded_by, outcome="continue")


def activity(patient, month: str, **counts):
    return HospitalActivity.objects.create(
        patient=patient, month=Month.parse(month).first_day, **counts
    )


@pytest.fixture
def people(network_a, network_b, practice_a, practice_b, chair):
    """North's and South's people. The cohort of first discussions from
    2024-03 to 2025-04:

    North: Ann (index 2024-03), Dev (index 2024-08, died 2025-01) and Eve
    (index 2024-11, no activity) are in; Cal (index 2025-04) is too recent;
    Bob (first discussed by South) and Gus (first discussed in 2024-01) are
    not North's. South: Bob (index 2024-04)."""
    ann = PatientFactory(practice=practice_a, given_name="Ann")
    discussed(ann, network_a, dt.date(2024, 3, 12), chair)
    discussed(ann, network_a, dt.date(2024, 9, 5), chair)  # only the first counts
    activity(ann, "2023-02", ae_attendances=7)  # index - 13: not in "before"
    activity(ann, "2023-03", ae_attendances=2, bed_days=5)  # index - 12: before
    activity(ann, "2024-03", ae_attendances=9)  # the index month: neither
    activity(ann, "2024-04", ae_attendances=1, non_elective_admissions=1, bed_days=3)  # + 1
    activity(ann, "2025-03", outpatient_attendances=4)  # index + 12: after
    activity(ann, "2025-04", outpatient_attendances=8)  # index + 13: not in "after"

    bob = PatientFactory(practice=practice_b, given_name="Bob")
    discussed(bob, network_b, dt.date(2024, 4, 1), chair)  # first, by South
    discussed(bob, network_a, dt.date(2024, 7, 3), chair)
    activity(bob, "2024-05", ae_attendances=50)

    cal = PatientFactory(practice=practice_a, given_name="Cal")
    discussed(cal, network_a, dt.date(2025, 4, 4), chair)  # index + 12 = 2026-04: too recent
    activity(cal, "2025-01", ae_attendances=10)

    dev = PatientFactory(practice=practice_a, given_name="Dev", date_of_death=dt.date(2025, 1, 15))
    discussed(dev, network_a, dt.date(2024, 8, 20), chair)
    activity(dev, "2023-08", ae_attendances=1)  # index - 12
    activity(dev, "2024-02", elective_admissions=2)  # index - 6
    activity(dev, "2025-01", bed_days=4, non_elective_admissions=1)  # + 5, the month he died
    activity(dev, "2025-02", ae_attendances=3)  # after his death: an error in the extract

    eve = PatientFactory(practice=practice_a, given_name="Eve")
    discussed(eve, network_a, dt.date(2024, 11, 7), chair)

    gus = PatientFactory(practice=practice_a, given_name="Gus")
    discussed(gus, network_a, dt.date(2024, 1, 15), chair)  # before the chosen months
    discussed(gus, network_a, dt.date(2024, 6, 10), chair)
    activity(gus, "2024-05", ae_attendances=20)

    never = PatientFactory(practice=practice_a, given_name="Ned")  # never discussed
    activity(never, "2024-05", ae_attendances=30)


def _rows(figures) -> dict[str, tuple]:
    return {
        row.measure.key: (
            row.total_before,
            row.total_after,
            row.rate_before,
            row.rate_after,
            row.change_percent,
        )
        for row in figures.rows
    }


def D(text):
    return Decimal(text)


# North: 3 people, 36 person-months before (3.0 years), 12 + 5 + 12 = 29 after.
NORTH_ROWS = {
    # before: Ann 2 + Dev 1 = 3, 3 / 3 = 1.00; after: Ann 1, 1 / (29/12) = 0.41
    AE: (3, 1, D("1.00"), D("0.41"), D("-58.6")),
    # after: Ann 1 + Dev 1 = 2, 24 / 29 = 0.83; no change figure from a rate of 0
    NEL: (0, 2, D("0.00"), D("0.83"), None),
    # before: Dev 2, 2 / 3 = 0.67; after none: -100%
    EL: (2, 0, D("0.67"), D("0.00"), D("-100.0")),
    # after: Ann 4 (the month + 13 is not counted), 48 / 29 = 1.66
    OP: (0, 4, D("0.00"), D("1.66"), None),
    # before: Ann 5, 5 / 3 = 1.67; after: Ann 3 + Dev 4 = 7, 84 / 29 = 2.90;
    # change (84/29 - 5/3) / (5/3) = 107/145 = +73.8%
    BED: (5, 7, D("1.67"), D("2.90"), D("73.8")),
}


def test_the_rules_on_a_hand_built_cohort(people, network_a):
    evaluation = outcome_evaluation(
        networks=[network_a], first=Month(2024, 3), last=Month(2025, 4), today=TODAY
    )

    (north,) = evaluation.tables
    assert north.name == "North"
    assert (north.people, north.too_recent, north.died) == (3, 1, 1)
    assert (north.person_months_before, north.person_months_after) == (36, 29)
    assert (north.person_years_before, north.person_years_after) == (D("3.0"), D("2.4"))
    assert _rows(north) == NORTH_ROWS
    assert evaluation.latest_index == Month(2025, 2)
    assert evaluation.last_complete == Month(2026, 2)


def test_each_network_and_all_together(people, network_a, network_b):
    evaluation = outcome_evaluation(
        networks=[network_a, network_b], first=Month(2024, 3), last=Month(2025, 4), today=TODAY
    )

    north, south, overall = evaluation.tables
    assert _rows(north) == NORTH_ROWS
    # Bob is South's: first discussed there, though North discussed him later.
    assert (south.name, south.people, south.too_recent, south.died) == ("South", 1, 0, 0)
    assert _rows(south)[AE] == (0, 50, D("0.00"), D("50.00"), None)
    assert (overall.name, overall.people, overall.too_recent, overall.died) == (
        "All chosen networks",
        4,
        1,
        1,
    )
    assert (overall.person_months_before, overall.person_months_after) == (48, 41)
    # A&E: 3 before (3 * 12 / 48 = 0.75), 51 after (51 * 12 / 41 = 14.93):
    # (612/41 - 3/4) / (3/4) = +1890.2%
    assert _rows(overall)[AE] == (3, 51, D("0.75"), D("14.93"), D("1890.2"))


def test_the_second_discussion_does_not_make_a_new_index_month(people, network_a):
    # Ann's second discussion (September 2024) is in these months, but her
    # first (March 2024) is not: she is not in this cohort.
    evaluation = outcome_evaluation(
        networks=[network_a], first=Month(2024, 9), last=Month(2024, 9), today=TODAY
    )

    assert evaluation.nobody
    assert evaluation.overall.people == 0


def test_everyone_too_recent_is_counted_not_evaluated(people, network_a):
    evaluation = outcome_evaluation(
        networks=[network_a], first=Month(2025, 3), last=Month(2025, 4), today=TODAY
    )

    assert evaluation.all_too_recent
    assert (evaluation.overall.people, evaluation.overall.too_recent) == (0, 1)
    assert all(row.total_before == row.total_after == 0 for row in evaluation.overall.rows)
    assert all(row.rate_before is None for row in evaluation.overall.rows)


def test_the_default_months_are_the_latest_year_with_12_months_after():
    assert default_months(today=TODAY) == (Month(2024, 3), Month(2025, 2))


def test_the_definitions_and_limits_say_what_the_brief_asks():
    text = " ".join(DEFINITIONS) + " ".join(f"{h} {t}" for h, t in LIMITS)
    for words in [
        "first ever MDT discussion",
        "The index month itself is in neither",
        "not all ended",
        "up to and including the month they died",
        "per person-year",
        "no comparison group",
        "Regression to the mean",
        "extract",
        "moves",
    ]:
        assert words.lower() in text.lower(), words


# --- The page and the export ------------------------------------------------------------


URL = "/reports/evaluation/"
EXPORT_URL = "/reports/evaluation/export.csv"
COHORT = {"from": "2024-03", "to": "2025-04"}


def test_the_urls_are_named():
    assert reverse("reports:evaluation") == URL
    assert reverse("reports:evaluation_export") == EXPORT_URL


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    return client


class _Tables(HTMLParser):
    """The page's figures: each results table's rows (header and cells),
    by the table's network, and the summary figures (data-figure)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: list[tuple[str, str]] = []
        self._table = None
        self._cell = None
        self._figure = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-network" in attrs:
            self._table = self.tables.setdefault(attrs["data-network"], [])
        elif self._table is not None and tag == "tr":
            self._table.append([])
        elif self._table is not None and tag in ("th", "td"):
            self._cell = ""
        if "data-figure" in attrs:
            self._figure = [attrs["data-figure"], ""]

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("th", "td") and self._cell is not None:
            self._table[-1].append(self._cell.strip())
            self._cell = None
        if self._figure is not None and tag in ("dd", "span"):
            self.figures.append(tuple(self._figure))
            self._figure = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._figure is not None:
            self._figure[1] += data


def _page_tables(response) -> _Tables:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("persona", ["chair", "admin"])
def test_chair_and_admin_see_the_figures(client, personas, persona, people):
    user = getattr(personas, persona)
    client.force_login(user)
    if persona == "admin":
        _verify_second_factor(client, user)

    response = client.get(URL, COHORT)

    assert response.status_code == 200
    tables = _page_tables(response)
    assert list(tables.tables) == ["North"]
    north = tables.tables["North"]
    assert north[0] == [
        "Measure",
        "Total before",
        "Total after",
        "Rate per person-year before",
        "Rate per person-year after",
        "Change",
    ]
    assert north[1] == ["A&E attendances", "3", "1", "1.00", "0.41", "-58.6%"]
    assert north[5] == ["Bed days", "5", "7", "1.67", "2.90", "+73.8%"]
    assert north[2][-1] == ""  # no change figure from a before-rate of 0
    assert dict(tables.figures) == {
        "people": "3",
        "too-recent": "1",
        "died": "1",
        "person-years-before": "3.0",
        "person-years-after": "2.4",
    }
    text = response.content.decode()
    assert "1</span> person discussed too recently to have 12 months after" in text
    assert "1</span> died within 12 months" in text
    assert "What this evaluation cannot tell you" in text
    assert 'href="/reports/">Monthly activity</a>' in text
    assert 'role="img"' in text and 'id="evaluation-chart-data"' in text
    assert "js/evaluation-chart.js" in text


def test_the_csv_has_the_page_figures(admin_client, people):
    page = _page_tables(admin_client.get(URL, COHORT))
    response = admin_client.get(EXPORT_URL, COHORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    header, *rows = _csv(response)
    assert header[0] == "Network" and header[-1] == "Change %"
    assert len(rows) == len(MEASURES)
    figures = dict(page.figures)
    for row, page_row in zip(rows, page.tables["North"][1:], strict=True):
        assert row[:9] == [
            "North",
            "north",
            "2024-03",
            "2025-04",
            figures["people"],
            figures["too-recent"],
            figures["died"],
            figures["person-years-before"],
            figures["person-years-after"],
        ]
        # Measure, totals and rates as the page shows them; the change
        # without the page's sign and percent.
        change = page_row[5].removeprefix("+").removesuffix("%")
        assert row[9:] == [*page_row[:5], change]
    assert rows[0][9:] == ["A&E attendances", "3", "1", "1.00", "0.41", "-58.6"]


def test_the_csv_is_formula_safe(admin_client, people, network_a):
    network_a.name = "=HYPERLINK(1)"
    network_a.save()

    rows = _csv(admin_client.get(EXPORT_URL, COHORT))

    assert rows[1][0] == "'=HYPERLINK(1)"
    # Numbers stay numbers: a negative change is not a formula.
    assert rows[1][-1] == "-58.6"


def test_with_no_choice_the_page_shows_the_default_months(admin_client, people):
    response = admin_client.get(URL)

    assert response.status_code == 200
    evaluation = response.context["evaluation"]
    assert (evaluation.first, evaluation.last) == (Month(2024, 3), Month(2025, 2))
    assert 'value="2024-03"' in response.text and 'value="2025-02"' in response.text
    # Cal (2025-04) is outside these months; Ann, Dev and Eve are in.
    assert (evaluation.overall.people, evaluation.overall.too_recent) == (3, 0)


def test_nobody_in_the_cohort_is_a_clear_empty_state(admin_client, people):
    response = admin_client.get(URL, {"from": "2023-01", "to": "2023-06"})

    assert response.status_code == 200
    assert "No one was first discussed at an MDT of North" in response.text
    assert "<table" not in response.text
    assert "evaluation-chart" not in response.text


def test_everyone_too_recent_is_a_clear_empty_state(admin_client, people):
    response = admin_client.get(URL, {"from": "2025-03", "to": "2025-04"})

    assert response.status_code == 200
    assert "1 person was first discussed in these months, but all too recently" in response.text
    assert "Choose first discussions in February 2025 or earlier" in response.text
    assert "<table" not in response.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            {"from": "2025-02", "to": "2024-03"},
            "from",
            "The first month must be the same as or before the last month",
        ),
        ({"from": "2026-04", "to": "2026-05"}, "from", "The first month cannot be after"),
        ({"from": "2025-01", "to": "2026-04"}, "to", "The last month cannot be after"),
        ({"from": "2024-13", "to": "2025-02"}, "from", "Enter the month as year and month"),
        ({"from": "2024-03", "to": "March"}, "to", "Enter the month as year and month"),
        ({"from": "=1+1", "to": "2025-02"}, "from", "Enter the month as year and month"),
    ],
)
def test_bad_months_are_an_error_summary(admin_client, people, query, field, message):
    response = admin_client.get(URL, query)

    assert response.status_code == 200
    assert response.text.count('class="nhsuk-error-summary"') == 1
    assert f'href="#id_{field}">{message}' in response.text
    assert "<title>Error: Outcome evaluation" in response.text
    assert response.context["evaluation"] is None
    assert AccessEvent.objects.filter(what="report.evaluation").count() == 1

    export = admin_client.get(EXPORT_URL, query)
    assert export.status_code == 400
    assert f'href="#id_{field}">{message}' in export.text


@pytest.mark.parametrize("url", [URL, EXPORT_URL])
def test_outsider_asking_for_north_gets_404(client, outsider, people, url):
    client.force_login(outsider)

    assert client.get(url, {"network": "north", **COHORT}).status_code == 404
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize("url", [URL, EXPORT_URL])
def test_a_network_not_visible_is_404(client, chair, people, url):
    client.force_login(chair)

    assert client.get(url, {"network": "south", **COHORT}).status_code == 404
    assert client.get(url, {"network": "nowhere", **COHORT}).status_code == 404


@pytest.mark.parametrize("persona", ["matron", "navigator", "outsider"])
@pytest.mark.parametrize("url", [URL, EXPORT_URL])
def test_roles_without_reports_get_403(client, personas, persona, url):
    client.force_login(getattr(personas, persona))

    assert client.get(url).status_code == 403
    assert not AccessEvent.objects.exists()


def test_the_matron_asking_for_her_own_network_gets_403(client, matron):
    client.force_login(matron)

    assert client.get(URL, {"network": "north"}).status_code == 403


def test_each_page_and_export_writes_one_access_event(admin_client, admin_user, people, network_a):
    admin_client.get(URL, COHORT)
    response = admin_client.get(EXPORT_URL, COHORT)
    _csv(response)  # streamed to the end: still one event

    page_event, export_event = AccessEvent.objects.order_by("at", "pk")
    assert (page_event.what, export_event.what) == ("report.evaluation", "report.evaluation.export")
    for event in (page_event, export_event):
        assert event.user == admin_user
        assert event.patient_count == 0
        assert event.reason == "member of North as Service admin"
    assert page_event.path == URL and export_event.path == EXPORT_URL


def _cohort_of(size: int, practice, network, chair):
    """``size`` people first discussed by ``network`` in 2024-06, each with
    activity before and after."""
    for number in range(size):
        person = PatientFactory(practice=practice)
        discussed(person, network, dt.date(2024, 6, 1 + number % 28), chair)
        HospitalActivity.objects.bulk_create(
            [
                HospitalActivity(patient=person, month=dt.date(2024, 1, 1), ae_attendances=2),
                HospitalActivity(patient=person, month=dt.date(2024, 9, 1), ae_attendances=1),
            ]
        )


# Session and user, the memberships (header and gate), the user's report
# networks, the two grouped evaluation queries, the access event (in a
# savepoint), the header's unread notifications and the session's idle
# timer (in a savepoint): the same whatever the size of the cohort.
PAGE_QUERIES = 12
# The same without the page's header.
EXPORT_QUERIES = 11


@pytest.mark.parametrize("size", [2, 20])
def test_the_query_count_does_not_grow_with_the_cohort(
    client, chair, practice_a, network_a, django_assert_num_queries, size
):
    _cohort_of(size, practice_a, network_a, chair)
    client.force_login(chair)

    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(URL, {"from": "2024-06", "to": "2024-06"})
    assert response.context["evaluation"].overall.people == size
    assert _rows(response.context["evaluation"].overall)[AE][:2] == (2 * size, size)

    with django_assert_num_queries(EXPORT_QUERIES):
        rows = _csv(client.get(EXPORT_URL, {"from": "2024-06", "to": "2024-06"}))
    assert rows[1][4] == str(size)
