"""GET /api/v1/reports/monthly-activity/: the page's figures as JSON, CSV or
XLSX, under the same access rules, with errors in the API's format."""

import csv
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from tests.conftest import _persona
from tests.reports.builders import london
from tests.reports.test_activity_pages import activity  # noqa: F401 (a fixture)

URL = reverse("api-monthly-activity")


@pytest.fixture(autouse=True)
def april_2026():
    with time_machine.travel(london(2026, 4, 20), tick=False):
        yield


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.usefixtures("activity")
def test_json_by_default_with_every_figure_defined(api, chair):
    api.force_authenticate(chair)

    response = api.get(URL, {"from": "2026-03", "to": "2026-04"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["month"] for row in body["rows"]] == ["2026-03", "2026-04"]
    march = body["rows"][0]["values"]
    assert (march["meetings_held"], march["discussions"], march["new_patients"]) == (2, 4, 3)
    assert all(figure["definition"] for figure in body["figures"])
    event = AccessEvent.objects.get()
    assert event.what == "api.report.monthly_activity.json"


@pytest.mark.usefixtures("activity")
def test_csv_and_xlsx_hold_the_same_row(api, chair):
    api.force_authenticate(chair)
    query = {"from": "2026-03", "to": "2026-03", "network": "north"}

    as_csv = api.get(URL, {**query, "format": "csv"})
    as_xlsx = api.get(URL, {**query, "format": "xlsx"})

    text = b"".join(as_csv.streaming_content).decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(text)))
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(as_xlsx.streaming_content)))
    xlsx_rows = [
        ["" if cell is None else str(cell) for cell in row]
        for row in workbook["Monthly activity"].iter_rows(values_only=True)
    ]
    assert csv_rows == xlsx_rows
    assert csv_rows[1][:3] == ["north", "North", "2026-03"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-04", "to": "2026-03"}, "from"),
        ({"to": "2026-05"}, "to"),
        ({"from": "26-3"}, "from"),
        ({"format": "pdf"}, "format"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, chair, query, field):
    api.force_authenticate(chair)

    response = api.get(URL, query)

    assert response.status_code == 400
    assert field in response.json()
    assert not AccessEvent.objects.exists()


def test_a_network_outside_the_users_is_404_and_a_member_without_the_role_403(
    api, chair, matron, network_b
):
    api.force_authenticate(chair)
    assert api.get(URL, {"network": "south"}).status_code == 404
    api.force_authenticate(matron)
    assert api.get(URL).status_code == 403
    assert api.get(URL, {"network": "north"}).status_code == 403


def test_an_admin_of_south_cannot_export_north(api, network_a, network_b):
    south_admin = _persona("southadmin", "service_admin", network_b, Membership.Role.ADMIN)
    api.force_authenticate(south_admin)

    assert api.get(URL, {"network": "north", "format": "csv"}).status_code == 404
    response = api.get(URL, {"format": "json"})
    assert [n["code"] for n in response.json()["networks"]] == ["south"]


def test_anonymous_is_refused(api):
    assert api.get(URL).status_code in (401, 403)
