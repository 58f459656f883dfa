"""A navigator imports a risk-stratification file: the report shows the bad
line, the confirmation imports the rest, and the case-finding list shows who
may need case management."""

import datetime as dt

from playwright.sync_api import expect

from patients.models import Patient, RegisterEntry
from tests.e2e.conftest import log_in


def test_navigator_imports_risk_scores_then_opens_the_case_finding_list(page, look_at, tmp_path):
    # Two of North's people who are not on the register (the demo has episodes
    # for many), scored yesterday: later than any score the demo gave them.
    first, second = (
        Patient.objects.filter(practice__network__code="north", date_of_death__isnull=True)
        .exclude(entries__status__in=RegisterEntry.OPEN_STATUSES)
        .order_by("nhs_number")[:2]
    )
    scored_on = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    scores = tmp_path / "north-scores.csv"
    scores.write_text(
        "NHS number,risk score,eFI category,score date\n"
        f"{first.nhs_number},92.5,severe,{scored_on}\n"
        f"{second.nhs_number},88,moderate,{scored_on}\n"
        f"12345,70,mild,{scored_on}\n",
        encoding="utf-8",
    )
    wrong_encoding = tmp_path / "latin-1.csv"
    wrong_encoding.write_bytes(
        "NHS number,score,date,note\n9990000026,85,2026-03-01,£\n".encode("latin-1")
    )
    log_in(page, "navigator")

    page.goto("/patients/risk-import/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import risk scores")
    look_at(page, "risk-import-upload")

    page.get_by_label("Upload a CSV file").set_input_files(str(wrong_encoding))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("CSV UTF-8")
    look_at(page, "risk-import-upload-error")

    page.get_by_label("Upload a CSV file").set_input_files(str(scores))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the import of north-scores.csv"
    )
    problems = page.get_by_role("table", name="Problems found in the file, by line")
    expect(problems).to_contain_text("4")
    expect(problems).to_contain_text("Enter the NHS number as 10 digits")
    look_at(page, "risk-import-review")

    page.get_by_role("button", name="Import 2 valid rows").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk scores imported")
    expect(page.locator(".nhsuk-panel")).to_contain_text("2 people's scores were added")
    look_at(page, "risk-import-done")

    page.get_by_role("link", name="See who may need case management").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Case finding")
    row = page.get_by_role("row").filter(has_text=first.nhs_number_display)
    expect(row).to_contain_text(str(first))
    expect(row).to_contain_text("92.5")
    expect(row).to_contain_text("Severe frailty")
    expect(row.get_by_role("link", name=f"Refer {first}")).to_have_attribute(
        "href", f"/patients/{first.pk}/refer/?source=risk_stratification"
    )
    expect(page.get_by_role("row").filter(has_text=second.nhs_number_display)).to_contain_text(
        "88.0"
    )
    look_at(page, "case-finding")
