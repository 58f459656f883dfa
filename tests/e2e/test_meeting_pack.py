"""The navigator reads the pre-meeting pack of next week's MDT (three people,
one of them discussed five weeks ago) and then the MDT discussions and
actions of that person's record.

Every page is looked at (screenshot and axe-core)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from careplans.models import Assessment
from mdtcare.accounts.models import Network, User
from meetings import services
from meetings.models import Action
from patients.models import Patient, RegisterEntry
from tests.e2e.conftest import SCREENSHOTS, log_in


def _at(day: dt.date, hour: int):
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def pack_meeting(demo_site):
    """Mary Okafor (the worked example) and two more of North's people on
    the agenda of next week's MDT. Mary was discussed again yesterday, at an
    extra meeting late in the day (after any of the demo data set's), when
    the second person was not reached; since then an action agreed then
    was done."""
    navigator = User.objects.get(username="navigator")
    chair = User.objects.get(username="chair")
    matron = User.objects.get(username="matron")
    north = Network.objects.get(code="north")
    today = timezone.localdate()
    mary = Patient.objects.get(family_name="Okafor", practice__network=north)
    others = list(
        Patient.objects.filter(
            practice__network=north,
            entries__status__in=RegisterEntry.OPEN_STATUSES,
            assessments__status=Assessment.Status.COMPLETED,
        )
        .exclude(pk=mary.pk)
        .distinct()
        .order_by("family_name", "given_name")[:2]
    )
    last_day = today - dt.timedelta(days=1)
    with _at(last_day - dt.timedelta(days=7), 10):
        last = services.meeting_schedule(
            by=navigator,
            network=north,
            date=last_day,
            starts_at=dt.time(17),
            ends_at=dt.time(18),
            chair=chair,
        ).meetings[0]
        first_item = services.agenda_item_add(
            by=navigator, meeting=last, patient=mary, reason="review_due"
        )
        services.agenda_item_add(by=navigator, meeting=last, patient=others[0], reason="urgent")
    with _at(last_day, 17):
        services.meeting_start(by=chair, meeting=last)
        services.discussion_save(
            by=chair,
            item=first_item,
            outcome="continue",
            summary="Breathless on the stairs but managing at home with her daughter's help.",
            decisions="Ask the GP to review her inhalers; the matron visits in two weeks.",
            next_review_on=today + dt.timedelta(days=7),
        )
        review = services.action_add(
            by=chair,
            item=first_item,
            what="Ask the GP to review her inhalers",
            due_on=last_day + dt.timedelta(days=14),
            owner=matron,
        ).action
        services.action_add(
            by=chair,
            item=first_item,
            what="Arrange a pulmonary rehabilitation referral",
            due_on=last_day + dt.timedelta(days=21),
            owner=navigator,
        )
    with _at(last_day, 18):
        services.meeting_close(by=chair, meeting=last)
    Action.objects.filter(pk=review.pk).update(
        status=Action.Status.DONE, completed_at=timezone.now(), completed_by=matron
    )
    meeting = services.meeting_schedule(
        by=navigator,
        network=north,
        date=today + dt.timedelta(days=7),
        starts_at=dt.time(13),
        ends_at=dt.time(14, 30),
        venue="Riverside Medical Centre, meeting room 2",
        dial_in="https://meet.example.nhs.uk/north-mdt",
        chair=chair,
    ).meetings[0]
    services.agenda_item_add(by=navigator, meeting=meeting, patient=mary, reason="review_due")
    services.agenda_item_add(
        by=navigator, meeting=meeting, patient=others[0], reason="carried_forward"
    )
    services.agenda_item_add(by=navigator, meeting=meeting, patient=others[1], reason="urgent")
    return meeting, mary


def test_the_navigator_reads_the_pack_and_the_record(page, look_at, pack_meeting):
    meeting, mary = pack_meeting
    log_in(page, "navigator")

    page.goto(reverse("meetings:meeting", args=[meeting.pk]))
    page.get_by_role("link", name="Pre-meeting pack").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("13:00 to 14:30")
    expect(page.locator(".mdt-pack__card")).to_have_count(3)
    expect(page.get_by_role("button", name="Print the pack")).to_be_visible()
    first = page.locator(".mdt-pack__card").first
    expect(first).to_contain_text("OKAFOR, Mary")
    expect(first).to_contain_text("Since the last discussion")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    expect(first).to_contain_text(
        f"Discussed at the MDT on {yesterday.day} {yesterday:%B %Y}: Continue"
    )
    expect(first).to_contain_text("Action done: Ask the GP to review her inhalers")
    expect(first).to_contain_text("Arrange a pulmonary rehabilitation referral")
    look_at(page, "meeting-pack")

    # Printed, each person's card starts a sheet of its own, without the header.
    page.emulate_media(media="print")
    assert (
        page.locator(".mdt-pack__card").first.evaluate("card => getComputedStyle(card).breakAfter")
        == "page"
    )
    expect(page.locator(".nhsuk-header")).to_be_hidden()
    # A screenshot only: axe-core checks a screen (on paper the links are
    # plain text on purpose, which it would flag as links lost in the text).
    page.screenshot(path=str(SCREENSHOTS / "meeting-pack-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.goto(reverse("patients:detail", args=[mary.pk]))
    page.get_by_role("tab", name="MDT discussions").click()
    panel = page.locator("#mdt-discussions")
    expect(panel).to_contain_text("Breathless on the stairs")
    expect(panel).to_contain_text("Next: on the agenda of the MDT on")
    look_at(page, "record-mdt-discussions")

    page.get_by_role("tab", name="Actions").click()
    expect(page.locator("#actions")).to_contain_text("Arrange a pulmonary rehabilitation referral")
    look_at(page, "record-actions")
