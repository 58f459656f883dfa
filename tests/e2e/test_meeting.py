"""A whole MDT meeting in the browser. The care navigator schedules a
meeting, builds its agenda from the people proposed and one urgent person,
and publishes it. The GP chair opens the meeting screen, starts the
meeting, records who attended, then the outcomes of three people: actions
for two of them, and the third's proposed care plan ratified. One person
is not reached; the chair closes the meeting and reads the minutes. At the
next meeting, the person not reached is proposed as carried forward and the
re-listed person as re-listed.

Every page is looked at (screenshot and axe-core)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from careplans.models import CarePlan
from meetings.models import Action, AgendaItem, Discussion, Meeting
from patients.models import Patient, RegisterEntry
from tests.e2e.conftest import log_in


def _fill_date(page, name: str, day: dt.date) -> None:
    page.locator(f'[name="{name}_0"]').fill(str(day.day))
    page.locator(f'[name="{name}_1"]').fill(str(day.month))
    page.locator(f'[name="{name}_2"]').fill(str(day.year))


def _log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def _with_a_proposed_plan() -> Patient:
    """Someone of North with an active episode whose plan is proposed for
    the MDT (made here as the matron would have left it)."""
    entry = (
        RegisterEntry.objects.filter(patient__practice__network__code="north", status="active")
        .exclude(patient__care_plans__status__in=["proposed", "draft"])
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name")
        .first()
    )
    today = timezone.localdate()
    CarePlan.objects.filter(entry=entry, status__in=["ratified", "shared"]).update(
        status="superseded"
    )
    number = CarePlan.objects.filter(patient=entry.patient).count() + 1
    CarePlan.objects.create(
        patient=entry.patient,
        entry=entry,
        number=number,
        status=CarePlan.Status.PROPOSED,
        starts_on=today,
        next_review_on=today + dt.timedelta(days=84),
    )
    return entry.patient


def _schedule(page, look_at, day: dt.date, name: str) -> Meeting:
    page.get_by_role("link", name="Meetings", exact=True).first.click()
    page.get_by_role("link", name="Schedule a meeting").first.click()
    _fill_date(page, "date", day)
    page.get_by_label("Start time").fill("12:30")
    page.get_by_label("End time").fill("14:00")
    page.get_by_label("Venue").fill("Riverside Health Centre, meeting room 2")
    page.get_by_label("Chair").select_option(label="Anil Patel")
    look_at(page, f"{name}-schedule")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("12:30 to 14:00")
    return Meeting.objects.filter(network__code="north", date=day, starts_at=dt.time(12, 30)).get()


def test_a_whole_meeting_from_agenda_to_minutes(page, look_at):
    today = timezone.localdate()
    urgent = _with_a_proposed_plan()

    # The navigator schedules today's meeting and builds its agenda.
    log_in(page, "navigator")
    meeting = _schedule(page, look_at, today, "meeting")
    page.get_by_role("link", name="Build the agenda").click()
    look_at(page, "meeting-agenda-proposed")
    # Everyone proposed but the person added urgently below.
    proposed = page.locator(f'input[name="patient"][type="checkbox"]:not([value="{urgent.pk}"])')
    assert proposed.count() >= 3, "the demo data should propose at least three people"
    for index in range(3):
        proposed.nth(index).check()
    page.get_by_role("button", name="Add selected").click()
    expect(page.locator("#agenda tbody tr")).to_have_count(3)
    page.get_by_label("Name or NHS number").fill(urgent.nhs_number)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=f"Add as urgent {urgent}").click()
    look_at(page, "meeting-agenda-built")
    page.get_by_role("button", name="Publish agenda").click()
    expect(page.locator(".nhsuk-notification-banner, .nhsuk-inset-text").first).to_be_visible()
    look_at(page, "meeting-agenda-published")
    meeting.refresh_from_db()
    assert meeting.agenda_published_at is not None
    items = list(AgendaItem.objects.filter(meeting=meeting).select_related("patient"))
    assert [item.patient for item in items][-1] == urgent and len(items) == 4
    first, second, skipped, ratified = items
    _log_out(page)

    # The chair runs it.
    log_in(page, "chair")
    page.goto(f"{_origin(page)}/meetings/{meeting.pk}/")
    look_at(page, "meeting-page")
    page.get_by_role("link", name="Open the meeting screen").click()
    look_at(page, "meeting-before-start")
    page.get_by_role("button", name="Start meeting").click()
    expect(page.get_by_text("The meeting has started.")).to_be_visible()

    page.get_by_text("Attendance (0)").click()
    page.get_by_label("Member of the network").select_option(
        label="Grace Adeyemi (Community matron)"
    )
    page.get_by_role("button", name="Record attendance").click()
    page.get_by_text("Attendance (1)").click()
    page.get_by_label("Or a guest's name").fill("Ann Lewis")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.get_by_text("Attendance (2)")).to_be_visible()
    look_at(page, "meeting-first-person")

    # First person: continue, with an action for the matron.
    expect(page.get_by_role("heading", level=2).first).to_be_visible()
    page.get_by_label("Summary of the discussion").fill("Managing at home; daughter visits daily.")
    page.get_by_label("Continue").check()
    page.get_by_role("button", name="Save and add actions").click()
    page.get_by_label("What needs to be done").fill("Review medicines with the practice pharmacist")
    page.locator("#action_owner").select_option(label="Grace Adeyemi (Community matron)")
    _fill_date(page, "due_on", today + dt.timedelta(days=14))
    page.get_by_role("button", name="Add the action").click()
    expect(page.get_by_text("Action added: Review medicines")).to_be_visible()
    look_at(page, "meeting-first-person-action")
    page.get_by_role("link", name="Next patient").click()

    # Second person: re-listed, with an action for an organisation.
    page.get_by_label("Summary of the discussion").fill("Falls go on; awaiting the falls clinic.")
    page.get_by_label("Re-list at next MDT").check()
    page.get_by_role("button", name="Save and add actions").click()
    page.get_by_label("What needs to be done").fill("Refer to the falls prevention service")
    page.locator("#action_owner_organisation").select_option(index=1)
    _fill_date(page, "due_on", today + dt.timedelta(days=7))
    page.get_by_label("Priority").select_option(label="High")
    page.get_by_role("button", name="Add the action").click()
    expect(page.get_by_text("Action added: Refer to the falls")).to_be_visible()

    # The third is skipped: straight to the person whose plan is proposed.
    page.get_by_role("link", name=f"4. {ratified.patient}").click()
    look_at(page, "meeting-ratify")
    page.get_by_label("Summary of the discussion").fill("Plan agreed with her and her son.")
    page.get_by_label("Continue").check()
    page.get_by_label("Ratify the proposed plan").check()
    page.get_by_role("button", name="Save and next patient").click()
    expect(page.get_by_text(f"Outcome for {ratified.patient} saved.")).to_be_visible()

    # Close: the skipped person is carried forward.
    page.get_by_role("link", name="Close meeting").click()
    expect(page.get_by_text(str(skipped.patient))).to_be_visible()
    look_at(page, "meeting-close")
    page.get_by_role("button", name="Close meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Minutes")
    look_at(page, "meeting-minutes")

    minutes = page.locator("main")
    for item in (first, second, ratified):
        expect(minutes.get_by_role("heading", name=str(item.patient))).to_be_visible()
    expect(minutes).to_contain_text("Review medicines with the practice pharmacist")
    expect(minutes).to_contain_text("Refer to the falls prevention service")
    expect(minutes).to_contain_text("Care plan ratified")
    expect(minutes).to_contain_text("Re-list at next MDT")
    expect(minutes.locator("h2", has_text="Not reached")).to_be_visible()
    expect(minutes).to_contain_text("Ann Lewis")

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED
    assert Discussion.objects.filter(item__meeting=meeting).count() == 3
    assert Action.objects.filter(discussion__item__meeting=meeting).count() == 2
    assert CarePlan.objects.get(patient=urgent, status="ratified")
    _log_out(page)

    # At the next meeting, the navigator sees who is carried forward.
    log_in(page, "navigator")
    following = _schedule(page, look_at, today + dt.timedelta(days=14), "next-meeting")
    page.get_by_role("link", name="Build the agenda").click()
    look_at(page, "next-meeting-proposed")
    carried = page.locator("fieldset", has_text="Carried forward")
    relisted = page.locator("fieldset", has_text="Re-listed")
    expect(carried).to_contain_text(str(skipped.patient))
    expect(relisted).to_contain_text(str(second.patient))
    assert following.agenda.count() == 0


def _origin(page) -> str:
    scheme, _, host = page.url.split("/", 3)[:3]
    return f"{scheme}//{host}"
