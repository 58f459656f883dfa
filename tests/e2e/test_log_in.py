"""Each demo user logs in through the form and sees their role's home page."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.e2e.conftest import log_in


@pytest.mark.parametrize(
    ("username", "heading"),
    [
        ("matron", "My caseload"),
        ("chair", "Meetings"),
        ("navigator", "Today"),
        ("outsider", "Home"),
    ],
)
def test_demo_user_logs_in_and_sees_their_home_page(page, look_at, username, heading):
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in to mdtcare")).to_be_visible()
    look_at(page, "login")

    log_in(page, username)

    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    look_at(page, f"home-{username}")
    page.get_by_role("link", name="Register", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register")
    look_at(page, f"register-{username}")


def test_admin_sets_up_two_factor_then_sees_the_activity_page(page, look_at, settings):
    settings.TWO_FACTOR_REQUIRED_FOR = "admins"
    log_in(page, "admin")

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    look_at(page, "two-factor-setup")
    device = TOTPDevice.objects.get(user__username="admin")
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Activity")
    look_at(page, "home-admin")


def test_wrong_password_is_refused_with_an_error_summary(page, look_at):
    log_in(page, "matron", "not-the-password")

    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter a correct username and password")
    look_at(page, "login-error")


def test_log_in_with_the_keyboard_alone(page):
    page.goto("/account/login/")
    focus_order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        focus_order.append(
            page.evaluate("document.activeElement.id || document.activeElement.className")
        )
        if focus_order[-1] == "id_username":
            break
    assert focus_order[0] == "nhsuk-skip-link", focus_order  # the skip link comes first
    assert focus_order[-1] == "id_username", focus_order
    page.keyboard.type("navigator")
    page.keyboard.press("Tab")
    page.keyboard.type("mdtcare-demo")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Today")


def test_log_in_works_without_javascript(page_without_js):
    log_in(page_without_js, "chair")

    expect(page_without_js.get_by_role("heading", level=1)).to_have_text("Meetings")


def test_outsider_cannot_open_a_north_patient(page, look_at):
    from patients.models import Patient

    north_patient = Patient.objects.filter(practice__network__code="north").first()
    log_in(page, "outsider")

    page.goto(f"/patients/{north_patient.pk}/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    look_at(page, "outsider-404")


def test_matron_opens_a_patient_record_from_the_register(page, look_at):
    log_in(page, "matron")
    page.get_by_role("link", name="Register", exact=True).click()
    page.locator("table tbody a").first.click()

    expect(page.locator(".mdt-banner")).to_contain_text("NHS No.")
    look_at(page, "patient-record")


@pytest.mark.parametrize(
    ("username", "links"),
    [
        (
            "navigator",
            [
                ("Worklist", "Worklist"),
                ("Meetings", "MDT meetings"),
                ("Care plans", None),
                ("Case finding", "Case finding"),
            ],
        ),
        ("matron", [("Assessments", None), ("Care plans", None)]),
        ("chair", [("Meetings", "MDT meetings"), ("Care plans", None)]),
    ],
)
def test_every_navigation_link_opens_an_accessible_page(page, look_at, username, links):
    log_in(page, username)

    for label, heading in links:
        page.get_by_role("navigation", name="Menu").get_by_role("link", name=label).click()
        if heading:
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        look_at(page, f"{username}-{label.lower().replace(' ', '-')}")
