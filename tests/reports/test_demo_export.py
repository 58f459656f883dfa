"""On the demo data, the monthly activity CSV holds exactly what the report
page shows, figure for figure: the page's HTML table is read back and
compared cell by cell with the file's rows (a year, both networks)."""

import csv
import datetime as dt
import io
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from mdtcare.accounts.models import Membership, Network, User
from mdtcare.reports.activity import FIGURES
from tests.demo_snapshot import demo_restore
from tests.patients.test_gate import _verify_second_factor
from tests.reports.builders import london

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 12)


class _Tables(HTMLParser):
    """The activity tables of a page: {caption: {row label: [cells]}}."""

    def __init__(self):
        super().__init__()
        self.tables, self._table, self._row, self._cell, self._caption = {}, None, None, None, None
        self._in_definition = False

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag == "table" and "mdt-activity-table" in classes:
            self._table = {}
        elif self._table is not None and tag == "caption":
            self._caption = ""
        elif self._table is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("th", "td"):
            self._cell = ""
        elif tag == "span" and "mdt-activity-table__definition" in classes:
            self._in_definition = True

    def handle_endtag(self, tag):
        if tag == "span":
            self._in_definition = False
        elif tag in ("th", "td") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if len(self._row) > 2:
                self._table[self._row[0]] = self._row[1:]
            self._row = None
        elif tag == "caption" and self._caption is not None:
            self._name, self._caption = self._caption.strip(), None
        elif tag == "table" and self._table is not None:
            self.tables[self._name.split(":")[0]] = self._table
            self._table = None

    def handle_data(self, data):
        if self._caption is not None:
            self._caption += data
        elif self._cell is not None and not self._in_definition:
            self._cell += data


@pytest.fixture
def demo_admin(client):
    with time_machine.travel(london(TODAY.year, TODAY.month, TODAY.day), tick=False):
        demo_restore(TODAY)
        admin = User.objects.get(username="admin")
        # Reporting on both networks: the admin is given South too.
        Membership.objects.get_or_create(
            user=admin, network=Network.objects.get(code="south"), role=Membership.Role.ADMIN
        )
        client.force_login(admin)
        _verify_second_factor(client, admin)
        yield client


def test_the_demo_export_matches_the_page_figure_for_figure(demo_admin):
    query = {"from": "2025-04", "to": "2026-03"}
    page = demo_admin.get(reverse("reports:monthly_activity"), query)
    exported = demo_admin.get(reverse("reports:monthly_activity_export", args=["csv"]), query)

    assert (page.status_code, exported.status_code) == (200, 200)
    parser = _Tables()
    parser.feed(page.text)
    text = b"".join(exported.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[3:] == [figure.label for figure in FIGURES]
    assert set(parser.tables) == {"All chosen networks together", "North", "South"}
    assert len(rows) == 2 * 12
    compared = 0
    for row in rows:
        network, month = row[1], row[2]
        table = parser.tables[network]
        column = int(month[5:]) - 4 if month.startswith("2025") else int(month[5:]) + 8
        for figure, cell in zip(FIGURES, row[3:], strict=True):
            shown = table[figure.label][column]
            assert (shown if shown != "\u2013" else "") == cell, (network, month, figure.key)
            compared += 1
    assert compared == 24 * len(FIGURES)
    # The demo is busy enough that the comparison means something.
    north_discussions = parser.tables["North"]["Patient discussions"]
    assert all(int(value) > 0 for value in north_discussions[:-1])
