"""A GP chair refers someone new; the navigator receives the referral,
accepts it with a clinical lead, and finds the person by NHS number."""

from playwright.sync_api import expect

from mdtcare.core import nhs_number
from tests.e2e.conftest import log_in


def _fill_date(page, legend, day, month, year):
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day))
    group.get_by_label("Month").fill(str(month))
    group.get_by_label("Year").fill(str(year))


def test_referral_received_accepted_and_found(page, look_at):
    number = next(nhs_number.test_range_numbers(start=950_000))
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"

    # The GP chair refers someone who is not on the register yet.
    log_in(page, "chair")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Refer someone").click()
    look_at(page, "refer-start")
    page.get_by_label("NHS number of the person you are referring").fill(spaced)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a person to the register")
    page.get_by_label("First name").fill("Agnes")
    page.get_by_label("Last name").fill("Whitfield")
    _fill_date(page, "Date of birth", 14, 6, 1938)
    page.get_by_label("Female").check()
    page.get_by_label("Postcode").fill("LS6 2QA")
    page.get_by_label("Registered GP practice").select_option(
        label="Riverside Medical Centre (Y90001)"
    )
    look_at(page, "patient-add")
    page.get_by_role("button", name="Add to the register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer to the MDT register")
    page.get_by_label("Who is referring").select_option(label="GP practice")
    page.get_by_label("Referrer's name and role").fill("Dr Anil Patel, GP")
    page.get_by_label("Reason for referral").fill(
        "Third fall this year; lives alone; daughter visits at weekends"
    )
    page.get_by_label("Urgent").check()
    look_at(page, "referral-form")
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_text("has been referred to the MDT register")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    # The navigator sees it waiting, accepts it and allocates the matron.
    log_in(page, "navigator")
    expect(page.get_by_role("link", name="referrals waiting")).to_be_visible()
    look_at(page, "navigator-today-referrals")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Referrals").click()
    look_at(page, "triage-queue")
    row = page.get_by_role("row").filter(has_text="WHITFIELD, Agnes")
    expect(row.get_by_text("Urgent")).to_be_visible()
    row.get_by_role("link", name="Accept").click()
    page.get_by_label("Clinical lead").select_option(label="Grace Adeyemi (Community matron)")
    page.get_by_label("Primary need").select_option(label="Frailty")
    page.get_by_label("Tier").select_option(label="2")
    look_at(page, "triage-accept")
    page.get_by_role("button", name="Accept referral").click()
    expect(page.get_by_text("has been accepted")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="WHITFIELD, Agnes")).to_have_count(0)

    # She finds the person on the register by NHS number.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Register").click()
    page.get_by_label("Find a person").fill(spaced)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="WHITFIELD, Agnes").click()
    expect(page.get_by_text(spaced).first).to_be_visible()
    expect(page.get_by_text("Grace Adeyemi").first).to_be_visible()
    look_at(page, "referral-journey-record")
