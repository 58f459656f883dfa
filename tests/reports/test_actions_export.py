"""The actions detail export for commissioners: one row per action created
in the months asked for, activity only (no patient, no person's name), on
the site (``/reports/actions/export/``) and in the API
(``/api/v1/reports/actions/``), streamed at once when small."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from mdtcare.accounts.models import Membership, Organisation, Profession
from mdtcare.audit.models import AccessEvent
from mdtcare.reports.detail import ACTIONS_HEADER, actions_detail
from mdtcare.reports.models import ReportExport
from mdtcare.reports.months import Month
from meetings.models import Action
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.test_gate import _verify_second_factor
from tests.reports.builders import discussed, meeting, utc

pytestmark = pytest.mark.django_db

PAGE = "/reports/actions/export/"
API = "/api/v1/reports/actions/"


@pytest.fixture(autouse=True)
def export_folder(settings, tmp_path):
    settings.REPORT_EXPORT_DIR = tmp_path / "exports"
    return settings.REPORT_EXPORT_DIR


def _action(patient, *, created_at, **fields):
    fields.setdefault("what", "Ring the pharmacy")
    fields.setdefault("due_on", dt.date(2026, 5, 1))
    made = Action.objects.create(patient=patient, **fields)
    Action.objects.filter(pk=made.pk).update(created_at=created_at)
    return made


@pytest.fixture
def admin_client(client, admin_user):
    """The service admin, logged in with their second factor (admins need it)."""
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    return client


@pytest.fixture
def trust():
    return Organisation.objects.create(
        name="Leeds Community Healthcare", type=Organisation.Type.COMMUNITY_TRUST
    )


@pytest.fixture
def hand_built(practice_a, practice_b, chair, trust):
    """Four actions of North in March and April 2026 (London), and three that
    the export leaves out (before, after, and South's)."""
    people = [PatientFactory(practice=practice_a) for _ in range(3)]
    nurse = UserFactory(username="nurse", profession=Profession.DISTRICT_NURSE)
    discussion = discussed(meeting(practice_a.network, dt.date(2026, 3, 31)), people[0], chair)
    made = {
        # 23:30 BST on 31 March: March's.
        "late_march": _action(
            people[0],
            created_at=utc(2026, 3, 31, 22, 30),
            due_on=dt.date(2026, 4, 14),
            owner_organisation=trust,
            status=Action.Status.OPEN,
            priority=Action.Priority.HIGH,
            source=Action.Source.REVIEW,
        ),
        # 00:30 BST on 1 April (23:30 UTC on 31 March): April's; done on 3 April.
        "first_april": _action(
            people[0],
            created_at=utc(2026, 3, 31, 23, 30),
            due_on=dt.date(2026, 4, 7),
            owner=nurse,
            status=Action.Status.DONE,
            completed_at=utc(2026, 4, 2, 23, 15),  # 00:15 BST on 3 April
            completed_by=nurse,
            source=Action.Source.DISCUSSION,
            discussion=discussion,
        ),
        "cancelled": _action(
            people[1],
            created_at=utc(2026, 4, 20, 9, 0),
            due_on=dt.date(2026, 5, 4),
            status=Action.Status.CANCELLED,
            cancelled_at=utc(2026, 4, 22, 10, 0),
            priority=Action.Priority.URGENT,
        ),
        # Done once, then reopened: not completed now.
        "reopened": _action(
            people[2],
            created_at=utc(2026, 4, 30, 22, 59),  # 23:59 BST on 30 April
            due_on=dt.date(2026, 5, 1),
            owner=nurse,
            status=Action.Status.IN_PROGRESS,
            completed_at=utc(2026, 5, 1, 9, 0),
        ),
    }
    _action(people[1], created_at=utc(2026, 2, 28, 23, 59), owner=nurse)  # February
    _action(people[1], created_at=utc(2026, 4, 30, 23, 0), owner=nurse)  # 00:00 BST 1 May
    _action(PatientFactory(practice=practice_b), created_at=utc(2026, 4, 2), owner=nurse)
    return people, made


# The file's rows after the header: North's code and name, then the other
# columns, separated by "|" here.
EXPECTED_ROWS = """
2026-03|2026-03-31|2026-04-14|Open|High|Review||||Community trust|No
2026-04|2026-04-01|2026-04-07|Done|Routine|MDT discussion|2026-04-03||2|District nurse|Yes
2026-04|2026-04-20|2026-05-04|Cancelled|Urgent|Other||2026-04-22|||No
2026-04|2026-04-30|2026-05-01|In progress|Routine|Other||||District nurse|No
"""
EXPECTED = [
    ACTIONS_HEADER,
    *(["north", "North", *line.split("|")] for line in EXPECTED_ROWS.strip().splitlines()),
]


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_has_one_row_per_action_created_in_the_london_months_with_no_one_named(
    admin_client, hand_built
):
    people, _ = hand_built
    client = admin_client

    response = client.get(PAGE, {"from": "2026-03", "to": "2026-04", "network": "north"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="actions-2026-03-to-2026-04.csv"'
    )
    rows = _csv(response)
    assert rows == EXPECTED
    text = "\n".join(",".join(row) for row in rows)
    for patient in people:
        for identifier in (patient.nhs_number, patient.given_name, patient.family_name):
            assert identifier not in text
    assert "Ring the pharmacy" not in text  # free text may name people: never exported
    assert not ReportExport.objects.exists()  # small: nothing queued


def test_the_xlsx_holds_the_same_rows_with_real_dates(client, chair, hand_built):
    client.force_login(chair)

    response = client.get(PAGE, {"from": "2026-03", "to": "2026-04", "format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "actions-2026-03-to-2026-04.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ACTIONS_HEADER
    assert values[2][:5] == [
        "north",
        "North",
        "2026-04",
        dt.datetime(2026, 4, 1),
        dt.datetime(2026, 4, 7),
    ]
    assert values[2][8:] == [dt.datetime(2026, 4, 3), None, 2, "District nurse", "Yes"]
    assert len(values) == len(EXPECTED)


def test_cells_a_spreadsheet_would_run_are_neutralised(admin_client, network_a, hand_built):
    network_a.name = '=HYPERLINK("http://example.com","North")'
    network_a.save()
    client = admin_client

    rows = _csv(client.get(PAGE, {"from": "2026-03", "to": "2026-04"}))

    assert {row[1] for row in rows[1:]} == {'\'=HYPERLINK("http://example.com","North")'}


def test_the_rules_give_the_same_rows_to_every_caller(network_a, hand_built):
    detail = actions_detail([network_a], Month(2026, 3), Month(2026, 4))

    assert detail.count() == 4
    rows = [[str(value) for value in row] for row in detail.rows(chunk_size=2)]
    assert rows == EXPECTED[1:]


def test_the_export_is_one_select_whatever_the_rows(
    admin_client, admin_user, practice_a, django_assert_num_queries
):
    client = admin_client
    patient = PatientFactory(practice=practice_a)

    def export_with(actions: int, month: int) -> int:
        for day in range(actions):
            _action(patient, created_at=utc(2026, month, 1 + day % 28), owner=admin_user)
        with CaptureQueriesContext(connection) as queries:
            rows = _csv(client.get(PAGE, {"from": f"2026-{month:02d}", "to": f"2026-{month:02d}"}))
        assert len(rows) == actions + 1
        selects = [q["sql"] for q in queries if 'FROM "meetings_action"' in q["sql"]]
        assert len(selects) == 2  # the COUNT and the one SELECT of the rows
        return len(queries)

    assert export_with(3, month=3) == export_with(30, month=4)
    # Pinned: the session, user and second factor; the gate's networks; the
    # COUNT; the event (the user's roles, the insert) and the SELECT; the
    # session saved; and 6 savepoint statements.
    with django_assert_num_queries(15):
        _csv(client.get(PAGE, {"from": "2026-04", "to": "2026-04"}))


def test_each_export_writes_one_access_event_naming_its_networks_and_no_patient(
    admin_client, network_a, hand_built
):
    client = admin_client

    _csv(client.get(PAGE, {"from": "2026-03", "to": "2026-04"}))

    event = AccessEvent.objects.get()
    assert event.what == "report.actions.export"
    assert event.patient_count == 0
    assert not event.patients.exists()
    assert "North" in event.reason


def test_a_network_the_user_is_not_in_is_404_and_writes_nothing(
    client, network_b, admin_user, outsider
):
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    assert client.get(PAGE, {"from": "2026-03", "network": "south"}).status_code == 404
    assert client.get(API, {"from": "2026-03", "network": "south"}).status_code == 404
    # South's GP chair, and the outsider (a member of South), asking for North's.
    south_chair = UserFactory(username="south-chair", profession=Profession.GP)
    MembershipFactory(user=south_chair, network=network_b, role=Membership.Role.GP_CHAIR)
    for user in (south_chair, outsider):
        client.force_login(user)
        assert client.get(PAGE, {"from": "2026-03", "network": "north"}).status_code == 404
        assert client.get(API, {"from": "2026-03", "network": "north"}).status_code == 404
    assert not AccessEvent.objects.exists()


def test_a_member_without_a_reporting_role_is_refused_403(client, matron, outsider):
    client.force_login(matron)

    page = client.get(PAGE, {"from": "2026-03"})
    api = client.get(API, {"from": "2026-03"})

    assert page.status_code == 403
    assert "Reports are for service admins and GP chairs" in page.content.decode()
    assert api.status_code == 403
    # The outsider, a member (not a reporter) of South.
    client.force_login(outsider)
    assert client.get(PAGE, {"from": "2026-03", "network": "south"}).status_code == 403
    assert client.get(API, {"from": "2026-03"}).status_code == 403
    assert not AccessEvent.objects.exists()


def test_bad_months_show_the_form_with_an_error_summary(admin_client):
    client = admin_client

    response = client.get(PAGE, {"from": "March", "to": "2026-02", "format": "pdf"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Enter the month as year and month, like 2026-03, not “March”" in page
    assert "Choose the format CSV or Excel (XLSX)" in page
    assert AccessEvent.objects.get().what == "report.actions.export_form"


def test_from_after_to_is_a_clear_error(admin_client):
    client = admin_client

    response = client.get(PAGE, {"from": "2026-04", "to": "2026-03"})

    assert response.status_code == 400
    assert "The first month must be the same as or before the last month" in (
        response.content.decode()
    )


def test_without_months_the_page_is_the_form(client, chair):
    client.force_login(chair)

    response = client.get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Export actions</h1>" in page
    assert 'name="from"' in page and 'value="csv"' in page
    assert AccessEvent.objects.get().what == "report.actions.export_form"


# --- the API -------------------------------------------------------------------------------------


def test_the_api_streams_a_small_export_as_the_page_does(admin_client, hand_built):
    client = admin_client

    response = client.get(API, {"from": "2026-03", "to": "2026-04", "format": "csv"})

    assert response.status_code == 200
    assert _csv(response) == EXPECTED
    event = AccessEvent.objects.get()
    assert (event.what, event.path) == ("report.actions.export", API)


def test_the_api_streams_xlsx(admin_client, hand_built):
    client = admin_client

    response = client.get(API, {"from": "2026-03", "to": "2026-04", "format": "xlsx"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == len(EXPECTED)


def test_the_api_answers_bad_months_with_a_message_per_field(admin_client):
    client = admin_client

    response = client.get(API, {"from": "2026-13", "to": "2999-01", "format": "pdf"})

    assert response.status_code == 400
    assert response.json() == {
        "from": ["Enter the month as year and month, like 2026-03, not “2026-13”"],
        "format": ["Choose the format csv or xlsx, not “pdf”"],
    }
    future = client.get(API, {"from": "2026-01", "to": "2999-01"})
    assert future.status_code == 400
    assert future.json()["to"][0].startswith("The last month cannot be after this month")
    assert not AccessEvent.objects.exists()


def test_the_api_needs_a_log_in(client):
    assert client.get(API, {"from": "2026-03"}).status_code in (401, 403)
