"""The navigator's Today page and worklist in the browser. Her dashboard's
counts are those of the data (worked out here from the database by the
selectors and by direct queries); from the overdue card she opens the
worklist's overdue section and completes an overdue action with a note
(htmx): the row goes, the section's count and then the dashboard's
overdue count drop by one. The matron sees the same action in "My
actions" as done; without JavaScript, Start works as a plain form.

Every page is looked at (screenshot and axe-core)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from careplans.models import CarePlan
from mdtcare.accounts.models import User
from meetings.action_selectors import navigator_dashboard
from meetings.models import Action, Meeting
from meetings.selectors import actions_with_overdue
from patients.models import Patient, RegisterEntry
from tests.e2e.conftest import SCREENSHOTS, log_in

WHAT = "Phone the daughter about the key safe"


@pytest.fixture
def overdue_action(demo_site):
    """An overdue action of North's, owned by the matron: the one completed."""
    person = (
        Patient.objects.filter(practice__network__code="north", date_of_death__isnull=True)
        .exclude(family_name__contains="'")
        .exclude(given_name__contains="'")
        .order_by("family_name", "given_name")
        .first()
    )
    return Action.objects.create(
        patient=person,
        what=WHAT,
        owner=User.objects.get(username="matron"),
        due_on=timezone.localdate() - dt.timedelta(days=3),
        priority=Action.Priority.HIGH,
    )


def _expected_counts(navigator) -> dict[str, int]:
    """The dashboard's counts from the database: overdue actions and
    meetings by direct queries, the rest by the rules' own selectors."""
    today = timezone.localdate()
    north = {"patient__practice__network__memberships__user": navigator}
    counts = navigator_dashboard(user=navigator, today=today)
    expected = {
        "overdue-actions": actions_with_overdue(Action.objects.filter(**north), today=today)
        .filter(overdue=True)
        .distinct()
        .count(),
        "reviews-overdue": counts.reviews_overdue,
        "reviews-due": counts.reviews_due,
        "referrals-waiting": RegisterEntry.objects.filter(status="referred", **north).count(),
        "agendas-to-publish": Meeting.objects.filter(
            network__memberships__user=navigator,
            status="scheduled",
            date__gte=today,
            date__lte=today + dt.timedelta(days=14),
            agenda_published_at__isnull=True,
        ).count(),
        "plans-not-shared": CarePlan.objects.filter(
            status="ratified",
            ratified_at__date__lt=today - dt.timedelta(days=14),
            **north,
        ).count(),
    }
    # The selectors agree with the direct queries where there are both.
    assert counts.overdue_actions == expected["overdue-actions"]
    assert counts.referrals_waiting == expected["referrals-waiting"]
    assert counts.agendas_to_publish == expected["agendas-to-publish"]
    assert counts.plans_not_shared == expected["plans-not-shared"]
    return expected


def _card_count(page, key: str) -> int:
    return int(page.locator(f'[data-card="{key}"] [data-count]').inner_text())


def _section_count(page, key: str) -> int:
    return int(page.locator(f'#action-sections [data-section="{key}"] [data-count]').inner_text())


def test_the_navigator_completes_an_overdue_action_from_her_dashboard(
    page, look_at, overdue_action
):
    navigator = User.objects.get(username="navigator")
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, "navigator")

    # Today: every card counts what the data holds.
    expected = _expected_counts(navigator)
    assert expected["overdue-actions"] >= 1
    for key, count in expected.items():
        assert _card_count(page, key) == count, key
    look_at(page, "worklist-today")

    # The overdue card opens the worklist's overdue section.
    page.locator('[data-card="overdue-actions"] a').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Worklist")
    overdue = expected["overdue-actions"]
    assert _section_count(page, "overdue") == overdue
    row = page.locator(f"#action-{overdue_action.pk}")
    if not row.count():  # on a later page: find the person
        page.get_by_label("Find a person").fill(overdue_action.patient.nhs_number)
        page.get_by_role("button", name="Search").click()
    expect(row).to_contain_text(WHAT)
    expect(row.get_by_text("Overdue", exact=True)).to_be_visible()
    before = _section_count(page, "overdue")
    look_at(page, "worklist-overdue")
    row.locator("summary").filter(has_text="Complete").click()
    look_at(page, "worklist-complete-open")
    # axe-core and screenshots leave empty style attributes on the inputs,
    # which htmx's settling copies to the new ones and the Content-Security-
    # Policy then refuses: start afresh, as a user's page is.
    page.reload()

    # Complete, with a note: htmx answers the list without the row.
    row.locator("summary").filter(has_text="Complete").click()
    row.get_by_label("What was done (optional)").fill("Key safe fitted; daughter has the code")
    row.get_by_role("button", name="Mark as done").click()
    expect(page.get_by_role("status")).to_contain_text("the action is done")
    expect(page.get_by_role("status")).to_be_focused()
    expect(page.locator(f"#action-{overdue_action.pk}")).to_have_count(0)
    overdue_action.refresh_from_db()
    assert overdue_action.status == Action.Status.DONE
    assert overdue_action.completion_note == "Key safe fitted; daughter has the code"
    assert overdue_action.completed_by == navigator
    assert _section_count(page, "overdue") == before - 1
    look_at(page, "worklist-after-complete")

    # Back on Today, the overdue count has dropped by one.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Today").click()
    assert _card_count(page, "overdue-actions") == overdue - 1
    assert _expected_counts(navigator)["overdue-actions"] == overdue - 1
    assert errors == []


def test_the_owner_sees_it_done_and_the_team_sections(page, look_at, overdue_action):
    log_in(page, "matron")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="My actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")
    expect(page.locator(f"#action-{overdue_action.pk}")).to_contain_text(WHAT)
    look_at(page, "my-actions")

    # She opens Reassign to see who it can go to, then starts it instead.
    row = page.locator(f"#action-{overdue_action.pk}")
    row.locator("summary").filter(has_text="Reassign").click()
    # Who it can go to is fetched as it opens.
    expect(row.get_by_label("To a person")).to_be_visible()
    expect(row.get_by_label("Or a team")).to_be_visible()
    look_at(page, "my-actions-reassign-open")
    page.reload()  # without axe-core's leftovers (see above)
    row.get_by_role("button", name="Start").click()
    expect(page.get_by_role("status")).to_contain_text("the action is in progress")
    expect(page.locator(f"#action-{overdue_action.pk}")).to_contain_text("In progress")
    overdue_action.refresh_from_db()
    assert overdue_action.status == Action.Status.IN_PROGRESS

    # From the person's record: add an action outside a meeting.
    page.goto(f"/patients/{overdue_action.patient_id}/#actions")
    page.get_by_role("link", name="Add an action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add an action")
    look_at(page, "action-new")


def _navigator_opens_the_overdue_row(page, action):
    """The navigator's worklist, overdue section, searched to the action's
    person: the action's row, and the list's address."""
    log_in(page, "navigator")
    listed = "/actions/?section=overdue&q=" + action.patient.nhs_number
    page.goto(listed)
    return page.locator(f"#action-{action.pk}"), listed


def test_without_javascript_start_is_a_plain_form(page_without_js, overdue_action):
    # Screenshots only: axe-core is a script, and scripts are off here.
    page = page_without_js
    page.set_default_timeout(15_000)
    row, listed = _navigator_opens_the_overdue_row(page, overdue_action)
    row.get_by_role("button", name="Start").click()

    expect(page.get_by_text("the action is in progress")).to_be_visible()
    assert page.url.endswith(listed)
    overdue_action.refresh_from_db()
    assert overdue_action.status == Action.Status.IN_PROGRESS
    page.screenshot(path=str(SCREENSHOTS / "worklist-without-js.png"), full_page=True)


def test_the_navigator_reassigns_from_the_row(page, look_at, overdue_action):
    row, _ = _navigator_opens_the_overdue_row(page, overdue_action)
    row.locator("summary").filter(has_text="Reassign").click()

    row.get_by_label("To a person").select_option(label="Sophie Clarke")
    row.get_by_label("Note for the new owner (optional)").fill("Grace is on leave")
    row.get_by_role("button", name="Reassign").click()

    expect(page.get_by_role("status")).to_contain_text("the action has been given to Sophie")
    look_at(page, "worklist-reassigned")
    overdue_action.refresh_from_db()
    assert overdue_action.owner.username == "navigator"


def test_without_javascript_reassign_opens_its_own_page(page_without_js, overdue_action):
    page = page_without_js
    page.set_default_timeout(15_000)
    row, listed = _navigator_opens_the_overdue_row(page, overdue_action)
    row.locator("summary").filter(has_text="Reassign").click()
    row.get_by_role("link", name="Choose who to give it to").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Reassign the action")
    page.get_by_label("To a person").select_option(label="Sophie Clarke")
    page.get_by_role("button", name="Reassign").click()

    expect(page.get_by_text("the action has been given to Sophie Clarke")).to_be_visible()
    assert page.url.endswith(listed)
    page.screenshot(path=str(SCREENSHOTS / "reassign-without-js.png"), full_page=True)
    overdue_action.refresh_from_db()
    assert overdue_action.owner.username == "navigator"
