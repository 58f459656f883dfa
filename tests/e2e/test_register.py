"""The matron's journey through the register: filter it, sort it by risk,
open a person's record and look through its tabs; and the same without
JavaScript."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mdtcare.accounts.models import User
from patients import services
from patients.models import Consent, Patient, RegisterEntry
from patients.selectors import RegisterFilters, register_rows
from tests.e2e.conftest import log_in
from tests.patients.factories_register import CarerFactory, RiskScoreFactory


@pytest.fixture
def top_of_caseload(demo_site):
    """One of North's demo people made the highest-risk person on the active
    caseload, with conditions, consent and a carer, through the services, so
    the journey knows what to expect whatever else the demo data set holds."""
    matron = User.objects.get(username="matron")
    navigator = User.objects.get(username="navigator")
    today = timezone.localdate()
    person = (
        Patient.objects.filter(practice__network__code="north", date_of_death__isnull=True)
        .exclude(entries__status__in=RegisterEntry.OPEN_STATUSES)
        .order_by("family_name", "given_name")
        .first()
    )
    Patient.objects.filter(pk=person.pk).update(
        risk_score=Decimal("99.9"), risk_scored_on=today, frailty_category="severe"
    )
    RiskScoreFactory(patient=person, score=Decimal("93.0"), scored_on=today - dt.timedelta(days=90))
    RiskScoreFactory(patient=person, score=Decimal("99.9"), scored_on=today)
    entry = services.referral_create(
        by=navigator,
        patient=person,
        source=RegisterEntry.Source.GP_PRACTICE,
        referrer_name="Dr Anil Patel (GP)",
        reason="Three falls since Christmas; lives alone.",
        referred_on=today,  # the latest of their episodes
    )
    entry = services.referral_accept(
        by=navigator,
        entry=entry,
        clinical_lead=matron,
        navigator=navigator,
        tier=3,
        primary_need=RegisterEntry.PrimaryNeed.FRAILTY,
    )
    services.entry_status_change(by=matron, entry=entry, to_status=RegisterEntry.Status.ACTIVE)
    services.conditions_set(by=matron, patient=person, keys=["copd", "heart_failure"])
    services.consent_record(
        by=matron,
        patient=person,
        topic=Consent.Topic.SHARE_INFORMATION,
        decision=Consent.Decision.GIVEN,
        decided_on=today,
    )
    CarerFactory(patient=person, name="Joan Example", is_next_of_kin=True, is_main_carer=True)
    person.refresh_from_db()
    return person


def _matches(count: int) -> str:
    return f"{count} person matches" if count == 1 else f"{count} people match"


def test_matron_filters_sorts_and_opens_a_record_and_its_tabs(page, look_at, top_of_caseload):
    matron = User.objects.get(username="matron")
    active = register_rows(user=matron, filters=RegisterFilters(status="active")).count()
    log_in(page, "matron")
    page.get_by_role("link", name="Register", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register")
    look_at(page, "register-list")

    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#results-count")).to_contain_text(_matches(active))
    expect(page.locator("table tbody .nhsuk-tag")).to_have_text(["Active"] * min(active, 25))
    look_at(page, "register-filtered-active")

    page.get_by_role("link", name="Risk score").click()
    expect(page.locator('th[aria-sort="descending"]')).to_have_text("Risk score")
    expect(page.get_by_label("Status")).to_have_value("active")  # the filter stays
    expect(page.locator("table tbody tr").first).to_contain_text("99.9")
    look_at(page, "register-sorted-by-risk")

    page.locator("table tbody a").first.click()
    banner = page.locator(".mdt-banner")
    expect(banner).to_contain_text(top_of_caseload.family_name.upper())
    expect(banner).to_contain_text("Active")
    expect(page.locator("#overview")).to_contain_text("Chronic obstructive pulmonary disease")
    expect(page.locator("#overview")).to_contain_text("Joan Example")
    look_at(page, "record-overview")

    page.get_by_role("tab", name="Timeline").click()
    expect(page.locator("#timeline")).to_be_visible()
    expect(page.locator("#overview")).to_be_hidden()
    expect(page.locator("#timeline")).to_contain_text("Referred → Accepted")
    look_at(page, "record-timeline")

    page.get_by_role("tab", name="Care plan").click()
    expect(page.locator("#care-plan")).to_contain_text(
        "No care plan has been written for this episode yet"
    )
    look_at(page, "record-care-plan")


def test_the_register_and_the_record_work_without_javascript(page_without_js, top_of_caseload):
    page = page_without_js
    navigator = User.objects.get(username="navigator")
    high = register_rows(user=navigator, filters=RegisterFilters(risk="high")).count()
    log_in(page, "navigator")
    page.goto("/patients/")

    page.get_by_label("Risk band").select_option("high")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#results-count")).to_contain_text(_matches(high))
    expect(page.locator("table tbody tr").first).to_contain_text("high")
    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_label("Risk band")).to_have_value("")

    page.goto(f"/patients/{top_of_caseload.pk}/")
    # Without JavaScript the tabs' panels are shown one after another.
    for panel in ("overview", "assessments", "care-plan", "mdt-discussions", "timeline"):
        expect(page.locator(f"#{panel}")).to_be_visible()
