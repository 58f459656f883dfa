"""The service admin's monthly activity in the browser. On the demo data
set she reads this month so far on her home page, opens Reports, sees the
last twelve months with the charts drawn (Chart.js under the CSP: no
console errors), chooses a range, downloads it as CSV and as XLSX (each
holding the figures the rules give, the same as the page), and gets an
error summary for a range that ends before it starts.

Every page is looked at (screenshot and axe-core)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from playwright.sync_api import expect

from mdtcare.accounts.models import Network
from mdtcare.reports.activity import FIGURES, monthly_activity
from mdtcare.reports.months import Month
from tests.e2e.conftest import admin_logs_in


def _expected(first: Month, last: Month):
    north = Network.objects.get(code="north")
    report = monthly_activity(networks=[north], first=first, last=last)
    return north, report


def test_the_admin_reads_and_downloads_the_monthly_activity(page, look_at):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    admin_logs_in(page)
    this_month = Month.current()
    north, report = _expected(this_month.plus(-1), this_month)

    # Her home page: this month so far against last month.
    dashboard = page.get_by_role("table", name=f"{this_month.label} so far")
    expect(dashboard).to_be_visible()
    discussions = dashboard.get_by_role("row", name="Patient discussions")
    expect(discussions.locator("td").nth(0)).to_have_text(
        str(report.value("discussions", north.pk, this_month))
    )
    expect(discussions.locator("td").nth(1)).to_have_text(
        str(report.value("discussions", north.pk, this_month.plus(-1)))
    )
    look_at(page, "admin-home-activity")

    # Reports: the last twelve months, with the charts drawn.
    page.get_by_role("link", name="Reports").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly activity")
    for title in ("MDT meetings held", "Patient discussions", "New patients"):
        chart = page.get_by_role("img", name=f"Line chart of {title.lower()} by month")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100
    look_at(page, "monthly-activity")

    # She chooses six months and downloads them.
    first, last = this_month.plus(-6), this_month.plus(-1)
    page.get_by_label("From month").fill(str(first))
    page.get_by_label("To month").fill(str(last))
    page.get_by_role("button", name="Show figures").click()
    expect(
        page.get_by_role("heading", level=2, name=f"{first.label} to {last.label}")
    ).to_be_visible()
    north, report = _expected(first, last)
    table = page.get_by_role("table", name="North: figures by month")
    held = table.get_by_role("row", name="MDT meetings held")
    expect(held.locator("td")).to_have_text(
        [str(report.value("meetings_held", north.pk, month)) for month in report.months]
        + [str(report.value("meetings_held", north.pk, None))]
    )

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"monthly-activity-north-{first}-to-{last}.csv"
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == ["Network code", "Network", "Month", *(f.label for f in FIGURES)]
    assert [row[2] for row in rows] == [str(month) for month in report.months]
    for row, month in zip(rows, report.months, strict=True):
        expected = [report.value(f.key, north.pk, month) for f in FIGURES]
        assert row[3:] == ["" if value is None else str(value) for value in expected]

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download XLSX").click()
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    sheet_rows = list(workbook["Monthly activity"].iter_rows(values_only=True))
    assert [["" if cell is None else str(cell) for cell in row] for row in sheet_rows] == [
        header,
        *rows,
    ]

    # A range that ends before it starts is explained, and nothing counted.
    page.get_by_label("From month").fill(str(last))
    page.get_by_label("To month").fill(str(first))
    page.get_by_role("button", name="Show figures").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("The first month must be the same as or before the last month")
    expect(page.get_by_role("table", name="North: figures by month")).to_have_count(0)
    look_at(page, "monthly-activity-error")
    assert errors == []
