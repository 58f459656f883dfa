"""The care plan's whole cycle in the browser: the community matron starts a
plan from a person's signed assessment, changes a suggested goal with them,
adds another goal and a voluntary organisation to the care team, writes the
contingency plan and proposes it; the GP chair ratifies it with a note; the
matron records that she shared it in person, prints the person's copy,
makes a new version, changes its contingency plan and compares it with the
old one.

Every page is looked at (screenshot and axe-core)."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from careplans import plans
from careplans.models import Assessment, CarePlan
from mdtcare.accounts.models import User
from patients.models import Patient
from tests.e2e.conftest import SCREENSHOTS, log_in

CONTINGENCY = (
    "If you are more breathless than usual, start your rescue pack. If you are no better "
    "in 24 hours, call the community rapid-response team. Out of hours, call 111."
)
NEW_CONTINGENCY = (
    "If you are more breathless than usual, start your rescue pack and call the community "
    "matron the same day. Out of hours, call 111."
)


WHAT_MATTERS = [
    "I want to stay in my own home",
    "I want to get to church on Sundays",
    "I don't want to keep going back into hospital",
]


def _person_to_plan_for() -> Patient:
    """Someone in North with an active episode and no care plan (the demo
    data set gives a plan to everyone with a signed assessment), with a
    signed assessment to start it from: theirs, or one made here as the
    assessor would have left it."""
    people = Patient.objects.filter(
        practice__network__code="north", entries__status="active"
    ).exclude(care_plans__isnull=False)
    signed = people.filter(assessments__status="completed").order_by("family_name").first()
    if signed is not None:
        return signed
    person = people.order_by("family_name").first()
    matron = User.objects.get(username="matron")
    Assessment.objects.create(
        patient=person,
        kind=Assessment.Kind.INITIAL,
        assessor=matron,
        assessed_on=timezone.localdate() - dt.timedelta(days=2),
        status=Assessment.Status.COMPLETED,
        answers={"what_matters": {"i_statements": WHAT_MATTERS}},
        signed_by=matron,
        signed_at=timezone.now(),
        created_by=matron,
    )
    return person


def _fill_date(page, name: str, day: dt.date) -> None:
    page.locator(f'[name="{name}_0"]').fill(str(day.day))
    page.locator(f'[name="{name}_1"]').fill(str(day.month))
    page.locator(f'[name="{name}_2"]').fill(str(day.year))


def _log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_a_care_plan_from_assessment_to_a_compared_new_version(page, look_at):
    person = _person_to_plan_for()
    assert person is not None, "the demo data set has nobody to write a first plan for"
    pharmacist = User.objects.get(username="pharmacist")
    today = timezone.localdate()

    # The matron starts the plan from the assessment.
    log_in(page, "matron")
    page.goto(reverse("patients:detail", args=[person.pk]))
    start = page.locator(f'a[href="{reverse("careplans:plan_create", args=[person.pk])}"]')
    if start.count():  # the record's Care plan tab links here
        page.get_by_role("tab", name="Care plan").click()
        start.filter(visible=True).first.click()
    else:
        page.goto(reverse("careplans:plan_create", args=[person.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a care and support plan")
    expect(page.get_by_role("heading", name="Goals to talk about")).to_be_visible()
    look_at(page, "care-plan-01-start")
    page.get_by_role("button", name="Start the care plan").click()
    expect(page.get_by_text("started as a draft")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Care and support plan")
    plan = CarePlan.objects.get(patient=person)
    suggested = plan.goals.order_by("position").first()
    assert suggested is not None, "the assessment's 'what matters to me' became goals"
    look_at(page, "care-plan-02-draft")

    # She changes a suggested goal with the person: the support, who, when.
    page.locator(f"#goal-{suggested.pk}").get_by_role("link", name=re.compile("^Change")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change a goal")
    page.get_by_label("Support agreed").fill("Befriending, and help to get out and about")
    page.get_by_label("An organisation or service, voluntary sector included").check()
    page.get_by_label("Organisation or service", exact=True).select_option(
        label="Northshire Age Well (Voluntary organisation)"
    )
    _fill_date(page, "target_on", today + dt.timedelta(days=30))
    page.get_by_label("On track").check()
    look_at(page, "care-plan-03-goal-change")
    page.get_by_role("button", name="Save the goal").click()
    expect(page.get_by_text("Goal saved")).to_be_visible()
    card = page.locator(f"#goal-{suggested.pk}")
    expect(card).to_contain_text("Northshire Age Well")
    expect(card).to_contain_text("On track")

    # She adds a goal of her own with the person.
    page.get_by_role("button", name="Add a goal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a goal")
    page.get_by_label("What matters to me").fill("I want to sleep through the night")
    page.get_by_label("Support agreed").fill("Review of the evening medicines")
    page.get_by_label("A practitioner in the network").check()
    page.get_by_label("Practitioner", exact=True).select_option(label=f"{pharmacist} (Pharmacist)")
    _fill_date(page, "target_on", today + dt.timedelta(days=14))
    look_at(page, "care-plan-04-goal-add")
    page.get_by_role("button", name="Save the goal").click()
    expect(page.get_by_text("Goal saved: “I want to sleep through the night”.")).to_be_visible()

    # The voluntary organisation joins the care team.
    page.get_by_role("button", name="Add someone to the care team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add someone to the care team")
    page.get_by_label("An organisation or service, voluntary sector included").check()
    page.get_by_label("Organisation or service", exact=True).select_option(
        label="Northshire Age Well (Voluntary organisation)"
    )
    page.get_by_label("Their role in this plan").fill("Befriending and transport to church")
    look_at(page, "care-plan-05-team-add")
    page.get_by_role("button", name="Add to the care team").click()
    team = page.get_by_role("table", name="The care team and their roles in this plan")
    expect(team).to_contain_text("Northshire Age Well")
    expect(team).to_contain_text("Befriending and transport to church")

    # The plans for managing and for when things get worse.
    page.get_by_role("link", name=re.compile("^Change the plan.s contents")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change the plan")
    page.get_by_label("Self-management plan").fill("Inhalers morning and evening; walk daily")
    page.get_by_label("Contingency and escalation plan").fill(CONTINGENCY)
    look_at(page, "care-plan-06-contents")
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_text("The plan has been saved.")).to_be_visible()

    page.get_by_role("button", name="Propose for the MDT").click()
    expect(page.get_by_text("The plan has been proposed for the MDT")).to_be_visible()
    expect(page.locator(".nhsuk-summary-list").first).to_contain_text("Proposed for the MDT")
    look_at(page, "care-plan-07-proposed")
    _log_out(page)

    # The GP chair ratifies it, with a note.
    log_in(page, "chair")
    page.goto(reverse("careplans:plan", args=[plan.pk]))
    page.get_by_role("button", name="Ratify", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ratify the plan")
    page.get_by_label("Note").fill("Agreed at the MDT; Dr Patel")
    look_at(page, "care-plan-08-ratify")
    page.get_by_role("button", name="Ratify the plan").click()
    expect(page.get_by_text("Plan ratified on")).to_be_visible()
    expect(page.locator(".nhsuk-tag--green", has_text="Ratified by the MDT")).to_be_visible()
    look_at(page, "care-plan-09-ratified")
    _log_out(page)

    # The matron shares it in person, with the printed copy.
    log_in(page, "matron")
    page.goto(reverse("careplans:plan", args=[plan.pk]))
    page.get_by_role("button", name="Record sharing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Record that the plan was shared with the person"
    )
    page.get_by_label("In person").check()
    look_at(page, "care-plan-10-share")
    page.get_by_role("button", name="Record sharing").click()
    expect(page.get_by_text("Sharing recorded")).to_be_visible()
    expect(page.locator(".nhsuk-tag--green", has_text="Shared with the person")).to_be_visible()
    look_at(page, "care-plan-11-shared")
    page.get_by_role("button", name="Print for the person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your care and support plan")
    expect(page.locator("article")).to_contain_text("Northshire Age Well")
    expect(page.locator("article")).to_contain_text("start your rescue pack")
    look_at(page, "care-plan-12-print")
    page.get_by_role("link", name="Back to the plan").click()

    # A new version, a changed contingency plan, and the comparison.
    page.get_by_role("button", name="Make a new version").click()
    expect(page.get_by_text("Version 2 is a draft")).to_be_visible()
    look_at(page, "care-plan-13-new-version")
    page.get_by_role("link", name=re.compile("^Change the plan.s contents")).click()
    page.get_by_label("Contingency and escalation plan").fill(NEW_CONTINGENCY)
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_text("The plan has been saved.")).to_be_visible()
    page.get_by_role("button", name="Compare versions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare versions")
    changes = page.get_by_role("table", name="What changed from version 1 to version 2")
    row = changes.get_by_role("row", name=re.compile("Contingency and escalation plan"))
    expect(row).to_contain_text(CONTINGENCY)
    expect(row).to_contain_text(NEW_CONTINGENCY)
    look_at(page, "care-plan-14-compare")

    versions = list(CarePlan.objects.filter(patient=person).order_by("number"))
    assert [(v.number, v.status) for v in versions] == [(1, "shared"), (2, "draft")]
    first = versions[0]
    assert (first.ratified_by.username, first.ratification_note) == (
        "chair",
        "Agreed at the MDT; Dr Patel",
    )
    assert (first.shared_by.username, first.shared_how, first.shared_on) == (
        "matron",
        "in_person",
        today,
    )
    assert first.contingency == CONTINGENCY and versions[1].contingency == NEW_CONTINGENCY

    # The navigators' and leads' list of plans that need someone.
    page.goto(reverse("careplans:plan_attention"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Plans needing attention")
    look_at(page, "care-plan-15-attention")


def test_goals_and_the_care_team_are_written_without_javascript(page_without_js):
    """The "who provides it" choice reveals its field with CSS alone, and
    every action is a form: nothing needs JavaScript."""
    page = page_without_js
    person = _person_to_plan_for()
    plan = plans.plan_create(by=User.objects.get(username="matron"), patient=person)
    log_in(page, "matron")
    page.goto(reverse("careplans:plan_goal", args=[plan.pk]))
    expect(page.get_by_label("Organisation or service", exact=True)).to_be_hidden()

    page.get_by_label("What matters to me").fill("I want to keep my garden going")
    page.get_by_label("An organisation or service, voluntary sector included").check()
    expect(page.get_by_label("Organisation or service", exact=True)).to_be_visible()
    expect(page.get_by_label("Practitioner", exact=True)).to_be_hidden()
    page.get_by_label("Organisation or service", exact=True).select_option(
        label="Northshire Age Well (Voluntary organisation)"
    )
    page.screenshot(path=str(SCREENSHOTS / "care-plan-no-js-goal.png"), full_page=True)
    page.get_by_role("button", name="Save the goal").click()
    expect(page.get_by_text("Goal saved: “I want to keep my garden going”.")).to_be_visible()

    page.get_by_role("button", name="Propose for the MDT").click()
    expect(page.get_by_text("The plan has been proposed for the MDT")).to_be_visible()
    plan.refresh_from_db()
    goal = plan.goals.get(what_matters="I want to keep my garden going")
    assert goal.provider_organisation.name == "Northshire Age Well"
    assert plan.status == CarePlan.Status.PROPOSED
