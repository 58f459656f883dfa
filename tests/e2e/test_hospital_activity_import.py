"""The service admin imports a month-by-month hospital activity file: the
report shows the two bad lines, the confirmation imports the rest. Without
JavaScript, a navigator does the same."""

import datetime as dt

from playwright.sync_api import expect

from patients.models import HospitalActivity, Patient
from tests.e2e.conftest import admin_logs_in, log_in


def _activity_file(tmp_path):
    """Three good rows for two of North's people, over the last two months
    that have ended, and two bad rows: a mistyped NHS number and a month
    that has not come yet."""
    first, second = Patient.objects.filter(practice__network__code="north").order_by("nhs_number")[
        :2
    ]
    this_month = dt.date.today().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    month_before = (last_month - dt.timedelta(days=1)).replace(day=1)
    next_month = (this_month + dt.timedelta(days=31)).replace(day=1)
    path = tmp_path / "north-activity.csv"
    path.write_text(
        "nhs_number,month,ae_attendances,non_elective_admissions,elective_admissions,"
        "outpatient_attendances,bed_days\n"
        f"{first.nhs_number},{month_before:%Y-%m},1,1,0,2,6\n"
        f"{first.nhs_number},{last_month:%Y-%m},0,0,0,1,0\n"
        f"12345,{last_month:%Y-%m},0,0,0,0,0\n"
        f"{second.nhs_number},{last_month:%Y-%m},2,1,0,0,4\n"
        f"{second.nhs_number},{next_month:%Y-%m},0,0,0,0,0\n",
        encoding="utf-8",
    )
    return path, first, last_month


def test_admin_imports_hospital_activity_and_sees_how_many_rows_were_imported(
    page, look_at, tmp_path, settings
):
    activity, first, last_month = _activity_file(tmp_path)
    settings.TWO_FACTOR_REQUIRED_FOR = "admins"
    admin_logs_in(page)

    page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Hospital activity import"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import hospital activity")
    expect(page.get_by_role("link", name="Download an example CSV file")).to_have_attribute(
        "href", "/static/samples/hospital-activity-example.csv"
    )
    look_at(page, "hospital-activity-import-upload")

    page.get_by_label("Upload a CSV file").set_input_files(str(activity))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the import of north-activity.csv"
    )
    problems = page.get_by_role("table", name="Problems found in the file, by line")
    expect(problems.get_by_role("row")).to_have_count(3)  # the header and two lines
    expect(problems.get_by_role("row").nth(1)).to_contain_text("4")
    expect(problems.get_by_role("row").nth(1)).to_contain_text("Enter the NHS number as 10 digits")
    expect(problems.get_by_role("row").nth(2)).to_contain_text("6")
    expect(problems.get_by_role("row").nth(2)).to_contain_text("is in the future")
    look_at(page, "hospital-activity-import-review")

    page.get_by_role("button", name="Import 3 valid rows").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hospital activity imported")
    expect(page.locator(".nhsuk-panel")).to_contain_text("3 rows were imported")
    look_at(page, "hospital-activity-import-done")
    row = HospitalActivity.objects.get(patient=first, month=last_month)
    assert (row.ae_attendances, row.outpatient_attendances, row.bed_days) == (0, 1, 0)


def test_navigator_imports_hospital_activity_without_javascript(page_without_js, tmp_path):
    page = page_without_js
    activity, first, last_month = _activity_file(tmp_path)
    log_in(page, "navigator")

    page.goto("/patients/hospital-activity/import/")
    page.get_by_label("Upload a CSV file").set_input_files(str(activity))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the import of north-activity.csv"
    )
    page.get_by_role("button", name="Import 3 valid rows").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hospital activity imported")
    assert HospitalActivity.objects.filter(patient=first, month=last_month).exists()
