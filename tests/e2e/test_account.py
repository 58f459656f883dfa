"""A practitioner opens "Your account" from their name in the header, with
the mouse and with the keyboard alone."""

from playwright.sync_api import expect

from tests.e2e.conftest import log_in


def test_the_navigator_opens_her_account_from_the_header(page, look_at):
    log_in(page, "navigator")
    account = page.get_by_role("navigation", name="Account").get_by_role(
        "link", name="(your account)"
    )

    account.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    details = page.locator(".nhsuk-summary-list").first
    expect(details).to_contain_text("navigator")
    expect(details).to_contain_text("Care navigator")
    expect(page.locator("main")).to_contain_text("North")
    look_at(page, "your-account")


def test_your_account_is_reached_with_the_keyboard_alone(page):
    log_in(page, "matron")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip().endswith("(your account)"):
            break
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator("main")).to_contain_text("Community matron")
