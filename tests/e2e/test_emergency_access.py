"""Emergency access in the browser: a social worker of South finds that the
person in front of them is on North's register, gives a reason and reads
the record; North's admin sees it on her home page."""

from playwright.sync_api import expect

from careplans.models import CarePlan
from patients.models import Patient
from tests.e2e.conftest import admin_logs_in, log_in

REASON = "Visited at home out of hours: confused and breathless, need who to call"


def _north_person_with_a_plan() -> Patient:
    return (
        Patient.objects.filter(
            practice__network__code="north",
            care_plans__status__in=[CarePlan.Status.RATIFIED, CarePlan.Status.SHARED],
            date_of_death__isnull=True,
        )
        .order_by("family_name", "given_name")
        .first()
    )


def test_a_practitioner_outside_the_network_opens_a_record_with_a_reason(page, look_at):
    person = _north_person_with_a_plan()
    log_in(page, "outsider")

    page.get_by_role("link", name="Register", exact=True).click()
    page.get_by_label("Find a person").fill(person.nhs_number)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("main")).to_contain_text("No one on the register of your networks")
    page.get_by_role("link", name="emergency access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency access to a record")
    look_at(page, "emergency-access-form")

    page.get_by_label("NHS number of the person").fill(person.nhs_number)
    page.get_by_label("Why do you need this person's record now?").fill("Need it")
    page.get_by_role("button", name="Open the record").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("at least 20 characters")
    look_at(page, "emergency-access-reason-too-short")

    page.get_by_label("Why do you need this person's record now?").fill(REASON)
    page.get_by_role("button", name="Open the record").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(person.family_name.upper())
    callout = page.locator(".nhsuk-warning-callout")
    expect(callout).to_contain_text("Emergency access until")
    expect(callout).to_contain_text(REASON)
    expect(page.get_by_role("heading", name="Who to contact")).to_be_visible()
    expect(page.get_by_role("heading", name="If things get worse")).to_be_visible()
    look_at(page, "emergency-access-record")

    page.get_by_role("button", name="End emergency access now").click()
    expect(page.locator("main")).to_contain_text("Your emergency access has ended")

    page.context.clear_cookies()
    admin_logs_in(page)
    table = page.get_by_role("table", name="Emergency access to the records of North")
    expect(table).to_contain_text(REASON)
    expect(table).to_contain_text("Tom Reid")
    look_at(page, "emergency-access-admin-home")


def test_the_emergency_access_form_works_without_javascript(page_without_js):
    page = page_without_js
    person = _north_person_with_a_plan()
    log_in(page, "outsider")
    page.goto("/patients/emergency-access/")

    page.get_by_label("NHS number of the person").fill(person.nhs_number)
    page.get_by_label("Why do you need this person's record now?").fill(REASON)
    page.get_by_role("button", name="Open the record").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(person.family_name.upper())
    expect(page.locator(".nhsuk-warning-callout")).to_contain_text(REASON)


def test_the_emergency_access_form_is_used_with_the_keyboard_alone(page):
    person = _north_person_with_a_plan()
    log_in(page, "outsider")
    page.goto("/patients/emergency-access/")

    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_nhs_number":
            break
    page.keyboard.type(person.nhs_number)
    page.keyboard.press("Tab")
    page.keyboard.type(REASON)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Open the record"
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_contain_text(person.family_name.upper())
