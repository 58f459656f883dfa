"""The community matron's holistic assessment in the browser: started from a
person's record, every section answered with the keyboard alone, autosaved,
checked and signed; then a re-assessment that shows each score's change
since last time, on screen and on the summary printed for the person.

Every page is looked at (screenshot and axe-core)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from careplans import scoring, services
from careplans.models import Assessment
from careplans.sections import SECTIONS, SECTIONS_BY_KEY
from mdtcare.accounts.models import User
from mdtcare.notifications.models import Notification
from patients.models import Patient
from tests.e2e.conftest import log_in

# What the matron is told, in the order each section's page asks it: a text
# answer is typed, a choice is the value of its radio. Mary's first
# assessment (EXAMPLE.md): Barthel 14, PHQ-9 8, GAD-7 6, CFS 6, two falls.
FIRST_ASSESSMENT = {
    "physical_health": [
        ("health_in_own_words", "Breathless on the stairs; my knees are bad"),
        ("admissions_last_12_months", "2"),
        ("conditions_notes", "COPD and heart failure limit walking"),
    ],
    "medicines": [
        ("medicines_count", "11"),
        ("last_review_on", "14/12/2024"),
        ("problems_taking", "yes"),
        ("concerns", "Forgets the evening inhaler"),
    ],
    "function": [
        ("bowels", 2),
        ("bladder", 2),
        ("grooming", 1),
        ("toilet", 1),
        ("feeding", 2),
        ("transfer", 2),
        ("mobility", 2),
        ("dressing", 1),
        ("stairs", 1),
        ("bathing", 0),
    ],
    "falls": [
        ("fell_last_12_months", "yes"),
        ("falls_count", "2"),
        ("tug_seconds", "19"),
        ("falls_notes", "Tripped on the rug twice"),
    ],
    "continence": [("continence_problems", "no")],
    "nutrition": [("weight_loss", "no"), ("appetite", "reduced")],
    "pain": [("has_pain", "yes"), ("pain_score", "4"), ("pain_notes", "Knees, worse in the cold")],
    "mood": [
        ("memory_concerns", "no"),
        *[(f"phq9_{n}", v) for n, v in enumerate([1, 1, 2, 1, 1, 1, 1, 0, 0], start=1)],
        *[(f"gad7_{n}", v) for n, v in enumerate([1, 1, 1, 1, 1, 1, 0], start=1)],
    ],
    "frailty": [("cfs", 6)],
    "social": [
        ("lives_alone", "yes"),
        ("isolation", "sometimes"),
        ("housing", "First-floor flat, no lift"),
        ("has_carer", "yes"),
        ("carer_view", "Her daughter visits at weekends and is worried"),
        ("carer_assessment", "offered"),
    ],
    "behaviours": [("smoking", "ex"), ("alcohol_units", "2")],
    "what_matters": [
        (
            "i_statements",
            "I want to stay in my own home\nI want to get to church on Sundays\n"
            "I don't want to keep going back into hospital",
        )
    ],
}


FOCUSED_MATCHES = "(s) => !!document.activeElement?.matches(s)"
FOCUSED_BUTTON_SAYS = """(text) => {
  const element = document.activeElement;
  return !!element?.matches("button, a.nhsuk-button") && element.textContent.trim() === text;
}"""


def tab_to(page, selector: str, *, check: str = FOCUSED_MATCHES, limit: int = 200) -> None:
    """Press Tab until the focus is on an element matching ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check, selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def answer(page, name: str, value) -> None:
    """Answer one question with the keyboard: type into a text box (over
    what is there), or pick a radio with Space and the arrow keys."""
    tab_to(page, f'[name="{name}"]')
    if page.evaluate("() => document.activeElement.type") == "radio":
        page.keyboard.press("Space")
        for _ in range(12):
            if page.evaluate("() => document.activeElement.value") == str(value):
                return
            page.keyboard.press("ArrowDown")
        raise AssertionError(f"{name} has no option {value}")
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))


def press_button(page, name: str) -> None:
    tab_to(page, name, check=FOCUSED_BUTTON_SAYS)
    page.keyboard.press("Enter")


def open_section(page, key: str) -> None:
    """From the task list, follow a section's link with the keyboard."""
    tab_to(page, f'a.nhsuk-task-list__link[href$="/sections/{key}/"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(SECTIONS_BY_KEY[key].title)


def _person_without_assessment() -> Patient:
    """Mary, unless the demo data set has assessed her already: then another
    of North's people with an active episode and no assessment."""
    people = Patient.objects.filter(
        practice__network__code="north", entries__status="active", assessments__isnull=True
    )
    return people.filter(family_name="Okafor").first() or people.order_by("family_name").first()


def test_matron_assesses_a_person_with_the_keyboard_and_signs(page, look_at):
    person = _person_without_assessment()
    log_in(page, "matron")
    page.goto(reverse("patients:detail", args=[person.pk]))
    start = page.get_by_role("link", name="Start an assessment")
    if start.count():
        start.first.focus()
        page.keyboard.press("Enter")
    else:  # the record's Assessments tab links here once it lists assessments
        page.goto(reverse("careplans:assessment_start", args=[person.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a holistic assessment")
    look_at(page, "assessment-start")
    answer(page, "people_present", "Her daughter")
    press_button(page, "Start the assessment")

    expect(page.get_by_text("Initial assessment of")).to_be_visible()
    expect(page.locator(".nhsuk-task-list")).to_be_visible()
    look_at(page, "assessment-task-list")
    tab_to(page, 'a.nhsuk-task-list__link[href$="/details/"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessment details")
    look_at(page, "assessment-details")
    answer(page, "setting", "home")
    press_button(page, "Save")
    expect(page.get_by_text("Assessment details saved at")).to_be_visible()
    open_section(page, "physical_health")

    for number, section in enumerate(SECTIONS, start=1):
        expect(page.get_by_role("heading", level=1)).to_have_text(section.title)
        for name, value in FIRST_ASSESSMENT.get(section.key, []):
            answer(page, name, value)
        if section.key == "physical_health":
            # Leaving a typed answer is a change: saved 2 seconds later.
            page.keyboard.press("Tab")
            expect(page.locator("#autosave-status")).to_contain_text("Saved at", timeout=10_000)
            version = page.locator('input[name="version"]').input_value()
            assert version == str(Assessment.objects.get(patient=person).version)
        if section.key == "function":
            page.locator("form[data-autosave]").dispatch_event("change")
            expect(page.locator("#autosave-status")).to_contain_text("Saved at", timeout=10_000)
            expect(page.locator("#score-barthel")).to_contain_text("14/20 (moderate dependency)")
        look_at(page, f"assessment-section-{number:02d}-{section.key}")
        press_button(page, "Save and continue")

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before signing")
    expect(page.get_by_text("Not ready to sign")).to_have_count(0)
    look_at(page, "assessment-check")
    press_button(page, "Sign and complete")

    expect(page.get_by_text("Assessment signed at")).to_be_visible()
    scores = page.get_by_role("table", name="Scores")
    expect(scores).to_contain_text("14/20 (moderate dependency)")
    expect(scores).to_contain_text("8/27 (mild)")
    expect(scores).to_contain_text("6/21 (mild)")
    expect(scores).to_contain_text("6 (Living with moderate frailty)")
    expect(scores).to_contain_text("2 falls")
    look_at(page, "assessment-summary")
    assessment = Assessment.objects.get(patient=person)
    assert assessment.is_signed and assessment.signed_by.username == "matron"
    assert assessment.answers["what_matters"]["i_statements"][0] == "I want to stay in my own home"

    press_button(page, "Print for the person")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your health and wellbeing assessment"
    )
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    look_at(page, "assessment-print")
    page.emulate_media(media="print")
    expect(page.locator(".nhsuk-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()
    page.screenshot(path="tests/e2e/screenshots/assessment-print-media.png", full_page=True)
    page.emulate_media(media="screen")

    # Her assessment is among those signed in the matron's networks.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Assessments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessments")
    expect(page.get_by_role("link", name=str(person))).to_be_visible()
    look_at(page, "assessment-list")


@pytest.fixture
def mary_assessed_before(demo_site):
    """Mary with a signed assessment to start from: the demo data set's, or
    one signed through the services 12 weeks ago."""
    mary = Patient.objects.get(family_name="Okafor", given_name="Mary")
    if not mary.assessments.filter(status=Assessment.Status.COMPLETED).exists():
        matron = User.objects.get(username="matron")
        first = services.assessment_start(
            by=matron, patient=mary, assessed_on=timezone.localdate() - dt.timedelta(weeks=12)
        ).assessment
        answers = {
            "physical_health": {"health_in_own_words": "Breathless on the stairs"},
            "medicines": {"medicines_count": 11},
            "function": dict(FIRST_ASSESSMENT["function"]),
            "falls": {"fell_last_12_months": "yes", "falls_count": 2},
            "mood": dict(FIRST_ASSESSMENT["mood"][1:]),
            "frailty": {"cfs": 5},
            "social": {"lives_alone": "yes", "has_carer": "yes"},
            "what_matters": {"i_statements": ["I want to stay in my own home"]},
        }
        for section, values in answers.items():
            first = services.assessment_section_save(
                by=matron,
                assessment=first,
                section=section,
                answers=values,
                expected_version=first.version,
            )
        services.assessment_complete(by=matron, assessment=first, expected_version=first.version)
    return mary


def test_a_reassessment_shows_the_change_since_last_time(page, look_at, mary_assessed_before):
    mary = mary_assessed_before
    previous = (
        Assessment.objects.filter(patient=mary, status="completed")
        .order_by("-assessed_on", "-signed_at")
        .first()
    )
    before = scoring.assessment_scores(scoring.effective_answers(previous))
    log_in(page, "matron")
    page.goto(reverse("careplans:assessment_start", args=[mary.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a re-assessment")
    look_at(page, "reassessment-start")
    press_button(page, "Start the assessment")
    expect(page.get_by_role("heading", level=1)).to_have_text("Re-assessment")
    expect(page.get_by_text("starts from the answers of the assessment on")).to_be_visible()
    look_at(page, "reassessment-task-list")

    # Worse at getting about: Barthel 11; frailty 6; and thoughts of self-harm.
    open_section(page, "function")
    for name, value in [
        ("toilet", 0),
        ("transfer", 1),
        ("mobility", 1),
        ("stairs", 1),
        ("dressing", 1),
        ("bathing", 0),
        ("bowels", 2),
        ("bladder", 2),
        ("grooming", 1),
        ("feeding", 2),
    ]:
        answer(page, name, value)
    look_at(page, "reassessment-function")
    press_button(page, "Save and come back later")
    expect(page.get_by_text("Functional abilities (Barthel index): saved at")).to_be_visible()

    open_section(page, "mood")
    warning = page.locator("#self-harm-warning")
    expect(warning).to_be_hidden()
    answer(page, "phq9_9", 1)
    # Shown at once, before anything is saved.
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("call 999")
    look_at(page, "reassessment-self-harm-warning")
    # The autosave raises the urgent alert to her clinical lead and navigator.
    expect(page.locator("#autosave-status")).to_contain_text("Saved at", timeout=10_000)
    entry = mary.entries.get(status="active")
    alerted = Notification.objects.filter(kind="self_harm_alert", patient_id=mary.pk, urgent=True)
    assert {alert.recipient_id for alert in alerted} == {
        entry.clinical_lead_id,
        entry.navigator_id,
    }
    press_button(page, "Save and come back later")
    expect(page.get_by_text("Memory and mood (PHQ-9, GAD-7): saved at")).to_be_visible()

    open_section(page, "frailty")
    answer(page, "cfs", 6)
    press_button(page, "Save and come back later")
    expect(page.get_by_text("Frailty (Clinical Frailty Scale): saved at")).to_be_visible()

    table = page.get_by_role("table", name="Scores so far")
    barthel = table.get_by_role("row").filter(has_text="Barthel index")
    cfs = table.get_by_role("row").filter(has_text="Clinical Frailty Scale")
    change = 11 - before["barthel"].total
    sign = "+" if change > 0 else "\u2212"
    expect(barthel).to_contain_text(f"{before['barthel'].total} → 11 ({sign}{abs(change)})")
    expect(cfs).to_contain_text(f"{before['cfs'].total} → 6")
    expect(page.get_by_text("Thoughts of self-harm")).to_be_visible()
    look_at(page, "reassessment-task-list-changed")

    press_button(page, "Check your answers")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before signing")
    look_at(page, "reassessment-check")
    press_button(page, "Sign and complete")
    expect(page.get_by_text("Assessment signed at")).to_be_visible()
    scores = page.get_by_role("table", name="Scores")
    expect(scores.get_by_role("row").filter(has_text="Barthel index")).to_contain_text(
        f"{before['barthel'].total} → 11"
    )
    look_at(page, "reassessment-summary")

    # A correction after signing is an amendment, shown beside the original.
    tab_to(page, 'a[href$="/sections/medicines/amend/"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Medicines")
    answer(page, "medicines_count", "12")
    answer(page, "amendment_reason", "The blister pack holds 12; one was missed")
    look_at(page, "reassessment-amend")
    press_button(page, "Add the amendment")
    expect(page.get_by_text("Reason: The blister pack holds 12; one was missed")).to_be_visible()
    look_at(page, "reassessment-amended")

    press_button(page, "Print for the person")
    expect(page.get_by_text("when it was " + str(before["barthel"].total))).to_be_visible()
    look_at(page, "reassessment-print")


def test_a_section_is_saved_without_javascript(page_without_js, mary_assessed_before):
    page = page_without_js
    log_in(page, "matron")
    page.goto(reverse("careplans:assessment_start", args=[mary_assessed_before.pk]))
    page.get_by_role("button", name="Start the assessment").click()
    page.get_by_role("link", name="Pain").click()
    page.get_by_role("group", name="Any pain most days?").get_by_label("Yes").check()
    page.get_by_role("button", name="Save and come back later").click()

    expect(page.get_by_text("Pain: saved at")).to_be_visible()
    assessment = (
        Assessment.objects.filter(patient=mary_assessed_before, status="draft")
        .order_by("-created_at")
        .first()
    )
    assert assessment.answers["pain"]["has_pain"] == "yes"
