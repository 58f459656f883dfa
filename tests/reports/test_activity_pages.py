"""The monthly activity page, its exports and the admin's dashboard: who
may see them, bad input, one audit event each, and fixed query counts."""

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from mdtcare.reports.activity import FIGURES, monthly_activity
from mdtcare.reports.months import Month
from tests.conftest import _persona
from tests.patients.test_gate import _verify_second_factor
from tests.reports.builders import action, discussed, london, meeting, person, referral

TODAY = london(2026, 4, 20)
PAGE = reverse("reports:monthly_activity")


def login(client, user):
    """Log in; a service admin also gives their second factor."""
    client.force_login(user)
    if user.memberships.filter(role=Membership.Role.ADMIN).exists():
        _verify_second_factor(client, user)


def export_url(fmt):
    return reverse("reports:monthly_activity_export", args=[fmt])


@pytest.fixture(autouse=True)
def april_2026():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def activity(network_a, practice_a, chair):
    """Two meetings in March with three people, one referral, an overdue action."""
    people = [person(practice_a) for _ in range(3)]
    for someone in people:
        referral(someone, dt.date(2026, 2, 20), decided_on=dt.date(2026, 2, 21))
    first = meeting(network_a, dt.date(2026, 3, 3))
    second = meeting(network_a, dt.date(2026, 3, 17))
    for someone in people:
        discussed(first, someone, chair)
    discussed(second, people[0], chair, reason="relisted")
    action(people[0], created_at=london(2026, 3, 3), due_on=dt.date(2026, 3, 10))
    return people


def more_activity(network, practice, chair, count):
    held = meeting(network, dt.date(2026, 2, 10))
    for _ in range(count):
        someone = person(practice)
        referral(someone, dt.date(2026, 1, 20), decided_on=dt.date(2026, 1, 21))
        discussed(held, someone, chair)
        action(someone, created_at=london(2026, 2, 10), due_on=dt.date(2026, 2, 20))


@pytest.mark.parametrize("who", ["admin_user", "chair"])
def test_admins_and_chairs_see_their_networks_figures(client, activity, request, who):
    login(client, request.getfixturevalue(who))

    response = client.get(PAGE, {"from": "2026-03", "to": "2026-04"})

    assert response.status_code == 200
    table = response.context["tables"][0]
    meetings = table["sections"][0]["rows"][0]
    assert meetings["figure"].key == "meetings_held"
    assert meetings["cells"] == [2, 0] and meetings["total"] == 2
    assert "What each figure counts" not in response.text  # that is the XLSX's sheet
    for figure in FIGURES:
        assert figure.definition.replace("'", "&#x27;") in response.text
    assert 'id="report-chart-data"' in response.text
    assert "April 2026 is still running" in response.text


@pytest.mark.parametrize("who", ["matron", "navigator"])
def test_other_roles_are_refused(client, activity, request, who):
    login(client, request.getfixturevalue(who))

    assert client.get(PAGE).status_code == 403
    assert client.get(export_url("csv")).status_code == 403


def test_a_network_the_user_is_not_in_is_not_found(client, activity, admin_user, network_b):
    login(client, admin_user)

    assert client.get(PAGE, {"network": "south"}).status_code == 404
    assert client.get(export_url("csv"), {"network": "south"}).status_code == 404
    assert client.get(PAGE, {"network": "nowhere"}).status_code == 404


def test_an_admin_of_another_network_cannot_see_north(client, activity, network_b):
    south_admin = _persona("southadmin", "service_admin", network_b, Membership.Role.ADMIN)
    login(client, south_admin)

    assert client.get(PAGE, {"network": "north"}).status_code == 404
    assert client.get(export_url("xlsx"), {"network": "north"}).status_code == 404
    response = client.get(PAGE)
    assert [n.code for n in response.context["networks"]] == ["south"]


def test_the_outsider_member_without_a_reporting_role_is_refused(client, outsider):
    login(client, outsider)

    assert client.get(PAGE).status_code == 403


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-04", "to": "2026-03"}, "The first month must be the same as or before"),
        ({"from": "2026-05"}, "The first month cannot be after this month (April 2026)"),
        ({"to": "2027-01"}, "The last month cannot be after this month (April 2026)"),
        ({"from": "March 2026"}, "Enter the month as year and month, like 2026-03"),
        ({"from": "2026-13"}, "Enter the month as year and month"),
        ({"from": "2010-01", "to": "2026-04"}, "Choose at most 60 months"),
    ],
)
def test_bad_months_are_explained_and_nothing_is_counted(client, admin_user, query, message):
    login(client, admin_user)

    response = client.get(PAGE, query)

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert message in response.text
    assert "report" not in response.context
    # The export answers with the same page, not a file.
    exported = client.get(export_url("csv"), query)
    assert exported["Content-Type"].startswith("text/html")
    assert message in exported.text


def test_an_unknown_format_is_not_found(client, admin_user):
    login(client, admin_user)

    assert client.get(export_url("pdf")).status_code == 404


def test_the_csv_holds_the_page_figures_one_row_per_network_and_month(client, activity, admin_user):
    login(client, admin_user)
    query = {"from": "2026-02", "to": "2026-04"}

    page = client.get(PAGE, query).context["report"]
    response = client.get(export_url("csv"), query)

    assert response["Content-Disposition"].endswith(
        'filename="monthly-activity-north-2026-02-to-2026-04.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Network code", "Network", "Month"]
    assert header[3:] == [figure.label for figure in FIGURES]
    assert [row[2] for row in body] == ["2026-02", "2026-03", "2026-04"]
    for row in body:
        month = Month.parse(row[2])
        for figure, cell in zip(FIGURES, row[3:], strict=True):
            value = page.value(figure.key, page.networks[0].pk, month)
            assert cell == ("" if value is None else str(value)), figure.key
    march = dict(zip(header, body[1], strict=True))
    assert march["Patient discussions"] == "4"
    assert march["Actions open and overdue at month end"] == "1"


def test_the_xlsx_holds_the_same_figures_and_their_definitions(client, activity, admin_user):
    login(client, admin_user)
    query = {"from": "2026-03", "to": "2026-03"}

    response = client.get(export_url("xlsx"), query)

    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook["Monthly activity"]
    header, march = list(sheet.iter_rows(values_only=True))
    figures = dict(zip(header, march, strict=True))
    assert figures["Month"] == "2026-03"
    assert figures["MDT meetings held"] == 2
    assert figures["Distinct patients discussed"] == 3
    assert figures["New patients"] == 3
    assert figures["Median days from referral to first discussion"] == 11
    definitions = list(workbook["What each figure counts"].iter_rows(values_only=True))
    assert len(definitions) == len(FIGURES) + 1


def test_json_for_the_same_range(client, activity, admin_user):
    login(client, admin_user)

    response = client.get(export_url("json"), {"from": "2026-03", "to": "2026-03"})

    body = json.loads(response.content)
    assert body["from"] == body["to"] == "2026-03"
    assert body["rows"][0]["values"]["discussions"] == 4


def test_a_network_named_like_a_formula_is_written_as_text(client, activity, admin_user):
    admin_user.memberships.first().network.__class__.objects.filter(code="north").update(
        name="=HYPERLINK(1)"
    )
    login(client, admin_user)

    response = client.get(export_url("csv"), {"from": "2026-03", "to": "2026-03"})

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    workbook_response = client.get(export_url("xlsx"), {"from": "2026-03", "to": "2026-03"})
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(workbook_response.streaming_content)))
    assert workbook["Monthly activity"]["B2"].value == "'=HYPERLINK(1)"
    assert workbook["Monthly activity"]["B2"].data_type == "s"


@pytest.mark.parametrize(
    ("url", "what"),
    [
        (PAGE, "report.monthly_activity"),
        (export_url("csv"), "report.monthly_activity.export.csv"),
        (export_url("xlsx"), "report.monthly_activity.export.xlsx"),
        (export_url("json"), "report.monthly_activity.export.json"),
    ],
)
def test_every_view_and_export_writes_one_access_event(client, activity, admin_user, url, what):
    login(client, admin_user)

    response = client.get(url, {"from": "2026-03"})
    if response.streaming:
        b"".join(response.streaming_content)

    event = AccessEvent.objects.get()
    assert event.what == what
    assert event.user == admin_user
    assert event.patient_count == 0
    assert "Service admin" in event.reason or "admin" in event.reason


def test_the_page_costs_the_same_queries_for_more_people_and_more_months(
    client, activity, admin_user, network_a, practice_a, chair, django_assert_max_num_queries
):
    login(client, admin_user)
    client.get(PAGE)  # warm the session and the membership cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(query):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE, query).status_code == 200
        return len(queries)

    small = count({"from": "2026-03", "to": "2026-03"})
    more_activity(network_a, practice_a, chair, 20)
    assert count({"from": "2024-05", "to": "2026-04"}) == small
    assert small == 27


def test_the_admin_home_shows_this_month_so_far_against_last_month(
    client, activity, admin_user, network_a
):
    login(client, admin_user)
    action(activity[1], created_at=london(2026, 4, 2), due_on=dt.date(2026, 5, 1))

    response = client.get(reverse("home"))

    headlines = {h.figure.key: h for h in response.context["activity"].headlines}
    assert (headlines["meetings_held"].this_month, headlines["meetings_held"].last_month) == (0, 2)
    assert headlines["discussions"].last_month == 4
    assert headlines["actions_overdue"].this_month == 1
    assert "April 2026 so far, against March 2026" in response.text
    same = monthly_activity(networks=[network_a], first=Month(2026, 3), last=Month(2026, 3))
    assert same.value("new_patients", network_a.pk, Month(2026, 3)) == 3
