"""The notifications journey in a browser (runs with MDTCARE_E2E=1): the
bell's count, the list with an urgent alert standing out, marking read with
and without JavaScript, and choosing what is e-mailed.

To go to tests/e2e/test_notifications.py (the browser harness's fixtures
live in tests/e2e/conftest.py, and a second Playwright in one test session
fails): kept here, outside pytest's test_*.py pattern, until it is moved."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from mdtcare.accounts.models import User
from mdtcare.notifications.models import Notification, NotificationPreference
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def matron_notified(demo_site):
    matron = User.objects.get(username="matron")
    Notification.objects.filter(recipient=matron).update(read_at="2026-01-01T00:00Z")
    Notification.objects.create(
        recipient=matron,
        kind="self_harm_alert",
        urgent=True,
        event_id="browser:alert",
        link=reverse("home"),
    )
    for i in range(2):
        Notification.objects.create(
            recipient=matron,
            kind="review_due_14",
            event_id=f"browser:review:{i}",
            link=reverse("careplans:plan_attention"),
        )
    return matron


def bell(tab):
    return tab.locator("#notifications-bell")


def test_the_matron_reads_her_notifications_and_chooses_what_is_emailed(
    page, look_at, matron_notified
):
    log_in(page, "matron")
    assert re.search(r"Notifications\s+3\s+unread", bell(page).inner_text())

    bell(page).click()
    page.wait_for_url("**/notifications/")
    assert page.locator(".nhsuk-warning-callout").count() == 1
    assert page.locator("[data-unread]").count() == 3
    look_at(page, "notifications")

    page.get_by_role("button", name=re.compile(r"^Mark as read\W+Care plan review")).first.click()
    # Not wait_for_function: it evaluates a string, which the CSP refuses.
    expect(page.locator("[data-unread]")).to_have_count(2)
    assert re.search(r"Notifications\s+2\s+unread", bell(page).inner_text())

    page.get_by_role("button", name="Mark all as read").click()
    page.wait_for_load_state()
    assert page.locator("[data-unread]").count() == 0
    assert "unread" not in bell(page).inner_text()

    page.get_by_role("link", name="Choose which notifications are e-mailed to you").click()
    page.get_by_role("group", name="Care plan review due in 14 days").get_by_label(
        "In mdtcare and in one summary e-mail a day"
    ).check()
    look_at(page, "notification-settings")
    page.get_by_role("button", name="Save settings").click()

    page.get_by_text("Your notification settings are saved.").wait_for()
    assert (
        NotificationPreference.objects.get(user=matron_notified, kind="review_due_14").delivery
        == "daily_digest"
    )


def test_mark_as_read_works_without_javascript(page_without_js, matron_notified):
    tab = page_without_js
    log_in(tab, "matron")
    tab.goto("/notifications/")

    tab.get_by_role("button", name=re.compile(r"^Mark as read\W+Urgent")).click()

    tab.wait_for_url("**/notifications/")
    assert tab.locator("[data-unread]").count() == 2
    assert tab.locator("li[data-unread] .nhsuk-warning-callout").count() == 0
