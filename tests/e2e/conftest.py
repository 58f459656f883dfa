"""The browser-test harness every user journey uses.

Playwright drives Debian's Chromium (``MDTCARE_CHROMIUM``, default
/usr/bin/chromium) against pytest-django's live server with the demo data
set loaded. ``look_at(page, name)`` saves a screenshot and fails the test on
any serious or critical WCAG 2.2 A/AA violation axe-core finds.
"""

import os
from pathlib import Path

import pytest

from tests.demo_snapshot import demo_restore

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("MDTCARE_CHROMIUM", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def demo_site(live_server, transactional_db):
    """The live server with the demo data set, as `make demo` has it."""
    demo_restore()
    return live_server


@pytest.fixture
def page(browser, demo_site):
    context = browser.new_context(base_url=demo_site.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser, demo_site):
    context = browser.new_context(base_url=demo_site.url, java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def look_at(axe):
    """Screenshot the page and check it with axe-core."""

    def check(page, name: str):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        results = axe.run(
            page,
            options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
        )
        serious = [
            f"{violation['id']} ({violation['impact']}): {violation['help']} — "
            + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
            for violation in results.response["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        assert not serious, f"{name}: accessibility violations:\n" + "\n".join(serious)

    return check


def log_in(page, username, password="mdtcare-demo"):
    page.goto("/account/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def admin_logs_in(page, username="admin"):
    """Log in as a service admin, setting up the authenticator app the first
    time (the code worked out from the device the set-up page made), to the
    admin's Activity page."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from playwright.sync_api import expect

    log_in(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    device = TOTPDevice.objects.get(user__username=username)
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity")
