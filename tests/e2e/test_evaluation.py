"""The admin's outcome evaluation in the browser. On the demo data set, with
hospital activity added here for the people North first discussed, she
opens the evaluation (the default cohort), narrows the months, sees the
table with the figures the rules give and the bar chart drawn (Chart.js,
under the Content-Security-Policy: no console errors), downloads the CSV
with the same figures, and gets an error summary for a bad month.

Every page is looked at (screenshot and axe-core)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mdtcare.accounts.models import Network
from mdtcare.reports.evaluation import default_months, outcome_evaluation
from mdtcare.reports.months import Month
from meetings.models import Discussion
from patients.models import HospitalActivity, Patient
from tests.e2e.conftest import SCREENSHOTS, admin_logs_in, log_in


@pytest.fixture
def north_activity(demo_site):
    """Hospital activity for everyone North first discussed in the default
    months: A&E and bed days six months before their first discussion,
    fewer six months after."""
    first, last = default_months(today=timezone.localdate())
    rows = []
    for patient in Patient.objects.filter(practice__network__code="north"):
        discussion = (
            Discussion.objects.filter(item__patient=patient)
            .select_related("item__meeting")
            .order_by("item__meeting__date", "item__meeting__starts_at", "item_id")
            .first()
        )
        if discussion is None or discussion.item.meeting.network.code != "north":
            continue
        index = Month.of(discussion.item.meeting.date)
        if not first <= index <= last:
            continue
        rows.append(HospitalActivity(patient=patient, month=index.plus(-6).first_day))
        rows[-1].ae_attendances, rows[-1].bed_days, rows[-1].non_elective_admissions = 3, 8, 1
        rows.append(HospitalActivity(patient=patient, month=index.plus(6).first_day))
        rows[-1].ae_attendances, rows[-1].bed_days = 1, 2
    HospitalActivity.objects.bulk_create(rows, ignore_conflicts=True)
    assert rows, "the demo has people first discussed in the default months"
    return first, last


def _expected_rows(first: Month, last: Month):
    """North's figures and its table's rows, as the rules work them out."""
    evaluation = outcome_evaluation(
        networks=[Network.objects.get(code="north")],
        first=first,
        last=last,
        today=timezone.localdate(),
    )
    (north,) = evaluation.tables
    assert north.people > 0
    return north, [
        [
            row.measure.label,
            str(row.total_before),
            str(row.total_after),
            "" if row.rate_before is None else str(row.rate_before),
            "" if row.rate_after is None else str(row.rate_after),
            ""
            if row.change_percent is None
            else f"{'+' if row.change_percent > 0 else ''}{row.change_percent}%",
        ]
        for row in north.rows
    ]


def _table_rows(page) -> list[list[str]]:
    table = page.get_by_role("table", name="North: hospital use before and after")
    expect(table).to_be_visible()
    return [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]


def test_the_admin_evaluates_north_and_downloads_the_figures(page, look_at, north_activity):
    default_first, default_last = north_activity
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    admin_logs_in(page)

    # The default cohort: first discussions in the latest year with 12
    # months after.
    page.goto("/reports/evaluation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcome evaluation")
    expect(page.get_by_label("First discussed from")).to_have_value(str(default_first))
    expect(page.get_by_label("First discussed to")).to_have_value(str(default_last))
    north, expected = _expected_rows(default_first, default_last)
    assert _table_rows(page) == expected
    expect(page.locator("#evaluation-chart")).to_be_visible()
    expect(page.get_by_role("link", name="Monthly activity")).to_have_attribute("href", "/reports/")
    expect(page.get_by_role("navigation", name="Reports")).to_contain_text("Outcome evaluation")
    look_at(page, "evaluation-default")

    # She narrows the cohort to the last four of those months.
    first, last = default_last.plus(-3), default_last
    page.get_by_label("First discussed from").fill(str(first))
    page.get_by_label("First discussed to").fill(str(last))
    page.get_by_role("button", name="Show figures").click()
    expect(
        page.get_by_role("heading", level=2, name=f"People first discussed from {first.label}")
    ).to_be_visible()
    north, expected = _expected_rows(first, last)
    assert _table_rows(page) == expected
    expect(page.locator('[data-figure="people"]')).to_have_text(str(north.people))
    chart = page.get_by_role("img", name="Bar chart of the rate per person-year")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    expect(page.get_by_role("heading", name="What this evaluation cannot tell you")).to_be_visible()
    look_at(page, "evaluation")

    # The CSV has the same figures.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"outcome-evaluation-{first}-to-{last}.csv"
    raw = Path(download.path()).read_bytes()
    assert raw.startswith("\ufeff".encode())  # a BOM, for Excel
    text = raw.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[9:] == [
        "Measure",
        "Total before",
        "Total after",
        "Rate per person-year before",
        "Rate per person-year after",
        "Change %",
    ]
    assert [row[4] for row in rows] == [str(north.people)] * len(expected)
    assert [row[9:14] for row in rows] == [line[:5] for line in expected]
    assert [row[14] for row in rows] == [
        line[5].removeprefix("+").removesuffix("%") for line in expected
    ]

    # A month that is not a month: an error summary, and no figures.
    page.get_by_label("First discussed from").fill("2025-13")
    page.get_by_role("button", name="Show figures").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter the month as year and month")
    expect(page.locator("#evaluation-chart")).to_have_count(0)
    look_at(page, "evaluation-error")
    assert errors == []


def test_without_javascript_the_form_and_table_work(page_without_js, north_activity):
    # Screenshots only: axe-core is a script, and scripts are off here.
    page = page_without_js
    page.set_default_timeout(15_000)
    log_in(page, "chair")
    _first, last = north_activity

    page.goto("/reports/evaluation/")
    page.get_by_label("First discussed from").fill(str(last.plus(-1)))
    page.get_by_role("button", name="Show figures").click()

    assert page.url.endswith(f"?network=north&from={last.plus(-1)}&to={last}")
    _north, expected = _expected_rows(last.plus(-1), last)
    assert _table_rows(page) == expected
    page.screenshot(path=str(SCREENSHOTS / "evaluation-without-js.png"), full_page=True)
