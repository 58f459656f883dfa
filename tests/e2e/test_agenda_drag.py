"""The navigator reorders next week's agenda: she drags the third person to
the top by the row's handle, and the page and the database both have the
new order; a drop on an agenda someone else changed meanwhile shows the
agenda as it is now and says so; and without JavaScript the Up buttons do
the same job.

Every page is looked at (screenshot and axe-core)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mdtcare.accounts.models import Network, User
from meetings import services
from meetings.models import Meeting
from patients.models import Patient
from tests.e2e.conftest import SCREENSHOTS, log_in

ROWS = "#agenda-list tbody tr"


@pytest.fixture
def agenda(demo_site):
    """Next week's North MDT with four people on its agenda, put there by the
    navigator through the services."""
    navigator = User.objects.get(username="navigator")
    meeting = services.meeting_schedule(
        by=navigator,
        network=Network.objects.get(code="north"),
        date=timezone.localdate() + dt.timedelta(days=7),
        starts_at=dt.time(13),
        ends_at=dt.time(15),
    ).meetings[0]
    people = (
        Patient.objects.filter(practice__network__code="north")
        .exclude(family_name__contains="'")
        .exclude(given_name__contains="'")
        .order_by("family_name", "given_name")[:5]
    )
    for person in people[:4]:
        services.agenda_item_add(by=navigator, meeting=meeting, patient=person, reason="urgent")
    meeting.refresh_from_db()
    return meeting, list(people)


def _order(meeting: Meeting) -> list:
    return list(
        meeting.agenda.order_by("position", "created_at").values_list("patient_id", flat=True)
    )


def _names_on_screen(page) -> list[str]:
    return [text.strip() for text in page.locator(f"{ROWS} td:nth-child(3) a").all_inner_texts()]


def _drag(page, source, target) -> None:
    """Drag by real mouse moves, in steps, as a hand would: SortableJS
    (forceFallback) follows mouse events and needs several moves to start
    and to find the row under the pointer."""
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2 - 5, steps=2)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 2, steps=12)


def test_a_navigator_drags_the_third_person_to_the_top(page, look_at, agenda):
    meeting, people = agenda
    first, second, third, fourth = people[:4]
    # The Content-Security-Policy refusing a script or a style shows here.
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, "navigator")
    page.goto(f"/meetings/{meeting.pk}/agenda/")
    expect(page.locator(ROWS)).to_have_count(4)
    handles = page.locator(f"{ROWS} .mdt-drag-handle")
    expect(handles.first).to_be_visible()
    look_at(page, "agenda-builder")

    _drag(page, handles.nth(2), handles.nth(0))
    page.screenshot(path=str(SCREENSHOTS / "agenda-builder-dragging.png"), full_page=True)
    page.mouse.up()

    expect(page.locator(f"{ROWS} td:nth-child(3) a").first).to_have_text(str(third))
    expect(page.locator("#agenda-list")).not_to_have_attribute("aria-busy", "true")
    assert _names_on_screen(page) == [str(p) for p in (third, first, second, fourth)]
    assert _order(meeting) == [p.pk for p in (third, first, second, fourth)]
    # The numbers and time slots are drawn again, and the page's other forms
    # now carry the new revision.
    expect(page.locator(f"{ROWS} td:nth-child(2)").first).to_have_text("13:00\N{EN DASH}13:30")
    meeting.refresh_from_db()
    expect(page.locator("#agenda-list")).to_have_attribute(
        "data-agenda-revision", str(meeting.revision)
    )
    for value in page.locator('input[name="revision"]').evaluate_all(
        "inputs => inputs.map(input => input.value)"
    ):
        assert value == str(meeting.revision)
    look_at(page, "agenda-builder-after-drag")

    # The Up button, from the keyboard (htmx sends it): the focus stays with
    # the person moved.
    page.get_by_role("button", name=f"Up {second}").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"{ROWS} td:nth-child(3) a").nth(1)).to_have_text(str(second))
    expect(page.get_by_role("button", name=f"Up {second}")).to_be_focused()
    assert _order(meeting) == [p.pk for p in (third, second, first, fourth)]

    # The publish form carries the revision the drops left it: it publishes.
    page.get_by_role("button", name="Publish agenda").click()
    expect(page.get_by_text("The agenda has been published")).to_be_visible()
    assert errors == []


def test_a_drop_on_an_agenda_changed_meanwhile_shows_it_as_it_is(page, look_at, agenda):
    meeting, people = agenda
    log_in(page, "navigator")
    page.goto(f"/meetings/{meeting.pk}/agenda/")
    expect(page.locator(ROWS)).to_have_count(4)
    # Someone else adds a person while the page is open.
    services.agenda_item_add(
        by=User.objects.get(username="navigator"),
        meeting=meeting,
        patient=people[4],
        reason="urgent",
    )
    handles = page.locator(f"{ROWS} .mdt-drag-handle")

    _drag(page, handles.nth(2), handles.nth(0))
    page.mouse.up()

    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Someone else changed this agenda")
    expect(summary).to_be_focused()
    expect(page.locator(ROWS)).to_have_count(5)
    assert _names_on_screen(page) == [str(p) for p in people]
    assert _order(meeting) == [p.pk for p in people]
    look_at(page, "agenda-builder-stale-drop")


def test_without_javascript_the_up_buttons_reorder(page_without_js, agenda):
    # Screenshots only: axe-core is a script, and scripts are off here (the
    # same markup is checked with JavaScript above).
    page = page_without_js
    page.set_default_timeout(15_000)
    meeting, people = agenda
    first, second, third, fourth = people[:4]
    log_in(page, "navigator")
    page.goto(f"/meetings/{meeting.pk}/agenda/")
    expect(page.locator(f"{ROWS} .mdt-drag-handle").first).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "agenda-builder-without-js.png"), full_page=True)

    page.get_by_role("button", name=f"Up {third}").click()
    page.get_by_role("button", name=f"Up {third}").click()

    assert _names_on_screen(page) == [str(p) for p in (third, first, second, fourth)]
    assert _order(meeting) == [p.pk for p in (third, first, second, fourth)]
    page.screenshot(
        path=str(SCREENSHOTS / "agenda-builder-without-js-after-up.png"), full_page=True
    )
