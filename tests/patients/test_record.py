"""The patient record page: banner, overview, tabs (the holistic
assessments, the care plan, the MDT discussions and the actions), the
timeline, action links by role, the gate and the access event."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from careplans import plans
from careplans import services as assessment_services
from careplans.models import Assessment, AssessmentAmendment, CarePlan, CarePlanGoal
from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from meetings.models import Action, AgendaItem, Discussion, Meeting
from patients import selectors
from patients.models import Consent, LongTermCondition, RegisterEntry
from patients.timeline import patient_timeline
from tests.careplans.test_assessment_services import complete_answers, signed, started
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.factories_register import (
    CarerFactory,
    ConsentFactory,
    EntryStatusChangeFactory,
    PatientConditionFactory,
    RegisterEntryFactory,
    RiskScoreFactory,
)
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db

Status = RegisterEntry.Status

# The record page, however long each list on it: session, user, memberships;
# the patient (with practice, network and who added them); one query each for
# episodes, their status changes, conditions, carers, consents, risk scores,
# assessments (with their assessors), the assessments' amendments, care plan
# versions (with lead and navigator) and their goals (with providers); the
# person's agenda items (with meeting and outcome) and their actions (with
# owner and the meeting they came from), one query each; the access event
# (in a savepoint, 4); the session (in a savepoint, 3). Someone never
# assessed has no amendments to fetch, someone without a plan no goals: one
# query fewer each.
RECORD_PAGE_QUERIES = 23


@pytest.fixture
def patient(practice_a):
    return PatientFactory(
        practice=practice_a,
        title="Mrs",
        given_name="Mary",
        family_name="Smith",
        date_of_birth=dt.date(1941, 3, 2),
        address="4 Mill Lane\nLeeds",
        postcode="LS1 4AP",
        phone="0113 496 0000",
        preferred_language="Polish",
        interpreter_needed=True,
        accessibility_needs="Hard of hearing: face her when speaking.",
    )


def _record(client, user, patient):
    client.force_login(user)
    return client.get(reverse("patients:detail", args=[patient.pk]))


# --- the banner --------------------------------------------------------------------------


def test_banner_names_the_person_with_title_birth_date_age_nhs_number_and_practice(
    client, matron, patient
):
    with time_machine.travel(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        response = _record(client, matron, patient)

    banner = response.text.split('class="mdt-banner"')[1].split("</section>")[0]
    assert '<h1 class="mdt-banner__name">SMITH, Mary (Mrs)</h1>' in banner
    assert "Born 02-Mar-1941 (85y)" in banner
    assert f"NHS No. <strong>{patient.nhs_number_display}</strong>" in banner
    assert "Riverside Medical Centre" in banner


def test_banner_shows_the_episode_status_and_tier_as_tags(client, matron, patient):
    RegisterEntryFactory(patient=patient, status=Status.ACTIVE, tier=2)

    response = _record(client, matron, patient)

    banner = response.text.split('class="mdt-banner"')[1].split("</section>")[0]
    assert '<strong class="nhsuk-tag nhsuk-tag--green">Active</strong>' in banner
    assert '<strong class="nhsuk-tag nhsuk-tag--white">Tier 2</strong>' in banner


def test_banner_of_someone_who_died_shows_the_date_their_age_then_and_a_died_tag(
    client, matron, patient
):
    patient.date_of_death = dt.date(2026, 1, 3)
    patient.save()

    response = _record(client, matron, patient)

    banner = response.text.split('class="mdt-banner"')[1].split("</section>")[0]
    assert "Born 02-Mar-1941 (84y)" in banner
    assert "Died 03-Jan-2026" in banner
    assert '<strong class="nhsuk-tag nhsuk-tag--grey">Died</strong>' in banner


def test_banner_without_a_title_has_no_empty_brackets(client, matron, practice_a):
    nameless_title = PatientFactory(practice=practice_a, given_name="Alan", family_name="Brown")

    response = _record(client, matron, nameless_title)

    assert '<h1 class="mdt-banner__name">BROWN, Alan</h1>' in response.text


# --- the overview --------------------------------------------------------------------------


def test_overview_shows_personal_and_contact_details(client, matron, patient):
    response = _record(client, matron, patient)

    for text in (
        "4 Mill Lane<br>Leeds",
        "LS1 4AP",
        "0113 496 0000",
        "Polish",
        'Interpreter needed</dt><dd class="nhsuk-summary-list__value">Yes',
        "Hard of hearing: face her when speaking.",
        "2 March 1941",
        "North network",
    ):
        assert text in response.text, text


def test_missing_contact_details_say_not_recorded(client, matron, practice_a):
    bare = PatientFactory(practice=practice_a, address="", phone="")

    response = _record(client, matron, bare)

    assert response.text.count("Not recorded</span>") >= 2


def test_consent_in_force_is_the_latest_decision_per_topic_with_who_recorded_it(
    client, matron, chair, patient
):
    ConsentFactory(
        patient=patient,
        topic=Consent.Topic.SHARE_INFORMATION,
        decision=Consent.Decision.REFUSED,
        decided_on=dt.date(2025, 1, 1),
        recorded_by=chair,
    )
    ConsentFactory(
        patient=patient,
        topic=Consent.Topic.SHARE_INFORMATION,
        decision=Consent.Decision.GIVEN,
        decided_on=dt.date(2026, 2, 1),
        recorded_by=matron,
    )

    response = _record(client, matron, patient)

    consents = dict(response.context["consents"])
    assert consents["Sharing information between partners"].decision == "given"
    assert consents["Discussion at the MDT"] is None
    assert "<strong>Given</strong> on 1 February 2026" in response.text
    assert f"Recorded by {matron.get_full_name()}" in response.text
    assert "Ask the person, and record their decision" in response.text


def test_conditions_show_their_snomed_ct_id(client, matron, patient):
    copd = LongTermCondition.objects.get(key="copd")
    PatientConditionFactory(patient=patient, condition=copd, diagnosed_on=dt.date(2019, 5, 1))

    response = _record(client, matron, patient)

    assert copd.name in response.text
    assert f"SNOMED CT {copd.snomed_ct_id}" in response.text
    assert "Diagnosed 1 May 2019" in response.text


def test_no_conditions_or_carers_say_so(client, matron, patient):
    response = _record(client, matron, patient)

    assert "No long-term conditions recorded." in response.text
    assert "No carers or next of kin recorded." in response.text


def test_carers_show_relationship_phone_and_role(client, matron, patient):
    CarerFactory(
        patient=patient,
        name="Anna Smith",
        relationship="Daughter",
        phone="07700 900123",
        is_next_of_kin=True,
        is_main_carer=True,
        lives_with_patient=True,
    )

    response = _record(client, matron, patient)

    assert "Anna Smith" in response.text
    assert "Daughter, 07700 900123" in response.text
    assert "Next of kin · Main carer · Lives with Mary" in response.text


def test_current_episode_shows_the_referral_allocation_and_latest_risk_score(
    client, matron, navigator, patient
):
    patient.risk_score = Decimal("82.5")
    patient.risk_scored_on = dt.date(2026, 2, 1)
    patient.frailty_category = "moderate"
    patient.save()
    RiskScoreFactory(patient=patient, score=Decimal("78.0"), scored_on=dt.date(2025, 11, 1))
    RiskScoreFactory(patient=patient, score=Decimal("82.5"), scored_on=dt.date(2026, 2, 1))
    RegisterEntryFactory(
        patient=patient,
        status=Status.ACTIVE,
        referred_on=dt.date(2026, 1, 4),
        source=RegisterEntry.Source.HOSPITAL_DISCHARGE,
        referrer_name="Ward 7 discharge team",
        reason="Frequent falls",
        urgency=RegisterEntry.Urgency.URGENT,
        tier=3,
        primary_need=RegisterEntry.PrimaryNeed.FRAILTY,
        clinical_lead=matron,
        navigator=navigator,
    )

    response = _record(client, matron, patient)

    for text in (
        "Current episode",
        "4 January 2026 by Ward 7 discharge team",
        "Hospital discharge team",
        "Frequent falls",
        '<strong class="nhsuk-tag nhsuk-tag--red">Urgent</strong>',
        "Tier 3",
        "Frailty",
        matron.get_full_name(),
        navigator.get_full_name(),
        "<strong>82.5</strong> (high risk) on 1 February 2026",
        "Electronic Frailty Index: moderate frailty",
        "+4.5 since 78.0 on 1 November 2025",
    ):
        assert text in response.text, text


def test_someone_never_referred_has_no_episode_and_can_be_referred(client, matron, patient):
    response = _record(client, matron, patient)

    assert "Never referred to the register" in response.text
    assert "Not scored" in response.text
    assert reverse("patients:refer", args=[patient.pk]) in response.text


def test_episode_history_lists_each_episode_with_its_status_changes(
    client, matron, navigator, patient
):
    earlier = RegisterEntryFactory(
        patient=patient, status=Status.DISCHARGED, referred_on=dt.date(2024, 2, 1)
    )
    EntryStatusChangeFactory(
        entry=earlier, from_status="", to_status=Status.REFERRED, by=matron, reason="Referred"
    )
    EntryStatusChangeFactory(
        entry=earlier,
        from_status=Status.REFERRED,
        to_status=Status.ACCEPTED,
        by=navigator,
    )
    EntryStatusChangeFactory(
        entry=earlier,
        from_status=Status.ACCEPTED,
        to_status=Status.DISCHARGED,
        by=navigator,
        reason="Moved out of the area",
    )
    RegisterEntryFactory(patient=patient, status=Status.REFERRED, referred_on=dt.date(2026, 1, 4))

    response = _record(client, matron, patient)

    history = response.text.split("Episode history")[1]
    assert history.index("Referred 4 January 2026") < history.index("Referred 1 February 2024")
    assert "Accepted → Discharged" in history
    assert "Moved out of the area" in history
    assert navigator.get_full_name() in history
    assert "No changes of status recorded." in history  # the new one has none yet


# --- tabs and slots ----------------------------------------------------------------------


def test_the_record_has_its_tabs_and_says_what_is_not_recorded_yet(client, matron, patient):
    response = _record(client, matron, patient)

    for tab, panel in [
        ("Overview", "overview"),
        ("Assessments", "assessments"),
        ("Care plan", "care-plan"),
        ("MDT discussions", "mdt-discussions"),
        ("Actions", "actions"),
        ("Timeline", "timeline"),
    ]:
        assert f'<a class="nhsuk-tabs__tab" href="#{panel}">{tab}</a>' in response.text
        assert f'id="{panel}"' in response.text
    for sentence in (
        "No holistic assessment of Mary has been recorded yet.",
        "Mary has no care plan. A care plan is written for someone with an open episode",
        "Mary has not been discussed at an MDT yet.",
        "There are no actions for Mary.",
    ):
        assert sentence in response.text
    assert "Access log" not in response.text


def test_an_admin_who_may_read_the_audit_sees_the_access_log_tab(client, admin_user, patient):
    admin_user.user_permissions.add(Permission.objects.get(codename="view_accessevent"))
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)

    response = client.get(reverse("patients:detail", args=[patient.pk]))

    assert '<a class="nhsuk-tabs__tab" href="#access-log">Access log</a>' in response.text
    assert reverse("admin:audit_accessevent_patient", args=[patient.pk]) in response.text


# --- action links by role and state ---------------------------------------------------------


def _links(response) -> set[str]:
    names = {
        "Change details": reverse("patients:edit", args=[response.context["patient"].pk]),
        "Refer": reverse("patients:refer", args=[response.context["patient"].pk]),
        "Accept or decline": reverse("patients:triage"),
    }
    entry = response.context["current_entry"]
    if entry is not None:
        names["Change allocation"] = reverse("patients:allocate", args=[entry.pk])
        names["Change status"] = reverse("patients:entry_status", args=[entry.pk])
    return {name for name, url in names.items() if f'href="{url}"' in response.text}


def test_a_referred_episode_offers_triage_to_the_navigator_not_the_matron(
    client, matron, navigator, patient
):
    RegisterEntryFactory(patient=patient, status=Status.REFERRED)

    assert _links(_record(client, navigator, patient)) == {
        "Change details",
        "Accept or decline",
        "Change allocation",
        "Change status",
    }
    assert _links(_record(client, matron, patient)) == {
        "Change details",
        "Change allocation",
        "Change status",
    }


def test_an_mdt_member_may_change_details_but_not_manage_the_episode(client, network_a, patient):
    member = UserFactory()
    MembershipFactory(user=member, network=network_a, role=Membership.Role.MEMBER)
    RegisterEntryFactory(patient=patient, status=Status.ACTIVE)

    assert _links(_record(client, member, patient)) == {"Change details"}


def test_a_closed_episode_offers_a_new_referral(client, matron, patient):
    RegisterEntryFactory(patient=patient, status=Status.DISCHARGED)

    response = _record(client, matron, patient)

    assert _links(response) == {"Change details", "Refer"}
    assert "Latest episode" in response.text


def test_no_one_can_refer_a_person_who_has_died(client, matron, patient):
    patient.date_of_death = dt.date(2026, 1, 3)
    patient.save()

    assert "Refer" not in _links(_record(client, matron, patient))


def test_record_links_to_the_pages_that_change_it(client, matron, patient):
    response = _record(client, matron, patient)

    for name in ("conditions", "carer_add", "consent"):
        assert reverse(f"patients:{name}", args=[patient.pk]) in response.text


# --- the timeline ------------------------------------------------------------------------


def _at(day: int, hour: int = 12):
    return time_machine.travel(dt.datetime(2026, 1, day, hour, 0, tzinfo=dt.UTC), tick=False)


def test_timeline_merges_every_kind_of_event_newest_first(client, matron, navigator, practice_a):
    with _at(1):
        person = PatientFactory(practice=practice_a, created_by=matron)
    with _at(2):
        RiskScoreFactory(patient=person, score=Decimal("85.0"), scored_on=dt.date(2026, 1, 2))
    with _at(3):
        entry = RegisterEntryFactory(
            patient=person, status=Status.ACCEPTED, referred_on=dt.date(2026, 1, 3)
        )
        EntryStatusChangeFactory(entry=entry, from_status="", to_status=Status.REFERRED, by=matron)
    with _at(5):
        ConsentFactory(patient=person, decided_on=dt.date(2026, 1, 4), recorded_by=matron)
    with _at(6, hour=9):
        EntryStatusChangeFactory(
            entry=entry, from_status=Status.REFERRED, to_status=Status.ACCEPTED, by=navigator
        )
    with _at(6, hour=15):
        PatientConditionFactory(
            patient=person, condition=LongTermCondition.objects.get(key="copd"), created_by=matron
        )

    response = _record(client, matron, person)

    timeline = response.context["timeline"]
    assert [(event.kind, event.on.day) for event in timeline] == [
        ("condition", 6),
        ("status", 6),
        ("consent", 4),
        ("referral", 3),  # the change into "referred" is the referral, not a second event
        ("risk", 2),
        ("person", 1),
    ]
    assert timeline[1].title == "Referred → Accepted"
    assert timeline[1].by == navigator.get_full_name()
    assert timeline[4].title == "Risk score 85.0 (high)"
    panel = response.text.split('id="timeline"')[1]
    assert panel.index("Chronic obstructive pulmonary disease recorded") < panel.index(
        "Referred to the register"
    )
    assert "6 January 2026 at 09:00" in panel


def test_timeline_ends_with_the_death_of_the_person(client, matron, practice_a):
    with _at(1):
        person = PatientFactory(practice=practice_a, date_of_death=dt.date(2026, 1, 1))

    timeline = _record(client, matron, person).context["timeline"]

    assert [event.kind for event in timeline] == ["death", "person"]


def test_timeline_runs_no_query_of_its_own(matron, practice_a, django_assert_num_queries):
    person = PatientFactory(practice=practice_a)
    entry = RegisterEntryFactory(patient=person)
    EntryStatusChangeFactory.create_batch(3, entry=entry)
    ConsentFactory.create_batch(3, patient=person)
    RiskScoreFactory.create_batch(3, patient=person)
    PatientConditionFactory.create_batch(3, patient=person)
    from careplans.models import Assessment

    for days in (10, 20):
        Assessment.objects.create(
            patient=person,
            kind="initial",
            assessor=matron,
            assessed_on=timezone.localdate() - dt.timedelta(days=days),
        )
    record = selectors.patient_record(user=matron, patient_id=person.pk)

    with django_assert_num_queries(0):
        timeline = patient_timeline(record)
    assert len(timeline) == 1 + 3 + 3 + 3 + 3 + 2 + 1
    assert sum(event.kind == "assessment" for event in timeline) == 2


# --- the gate and the audit ----------------------------------------------------------------


def test_the_outsider_gets_404_and_nothing_of_the_record(client, outsider, patient):
    RegisterEntryFactory(patient=patient, status=Status.ACTIVE)

    response = _record(client, outsider, patient)

    assert response.status_code == 404
    assert "SMITH" not in response.text
    assert patient.nhs_number_display not in response.text
    assert not AccessEvent.objects.exists()


def test_every_view_of_the_record_writes_one_access_event(client, chair, patient):
    _record(client, chair, patient)
    _record(client, chair, patient)

    events = AccessEvent.objects.order_by("at")
    assert [event.what for event in events] == ["patient.view", "patient.view"]
    for event in events:
        assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]
        assert event.reason == "member of North as GP chair"


@pytest.mark.parametrize("rows", [1, 50])
def test_record_page_query_count_does_not_grow_with_rows(
    client, matron, navigator, patient, rows, django_assert_num_queries
):
    for _ in range(rows - 1):
        RegisterEntryFactory(patient=patient, status=Status.DISCHARGED, clinical_lead=matron)
    entry = RegisterEntryFactory(
        patient=patient, status=Status.ACTIVE, clinical_lead=matron, navigator=navigator
    )
    EntryStatusChangeFactory.create_batch(rows, entry=entry, by=navigator)
    CarerFactory.create_batch(rows, patient=patient)
    ConsentFactory.create_batch(rows, patient=patient, recorded_by=matron)
    RiskScoreFactory.create_batch(rows, patient=patient, imported_by=navigator)
    for condition in LongTermCondition.objects.order_by("key")[:rows]:
        PatientConditionFactory(patient=patient, condition=condition, created_by=matron)
    for index in range(rows):
        assessment = Assessment.objects.create(
            patient=patient,
            kind=Assessment.Kind.REASSESSMENT if index else Assessment.Kind.INITIAL,
            assessor=navigator if index % 2 else matron,
            assessed_on=dt.date(2025, 1, 1) + dt.timedelta(days=index),
            status=Assessment.Status.COMPLETED,
            answers=complete_answers(),
            signed_by=matron,
            signed_at=timezone.now(),
        )
        AssessmentAmendment.objects.create(
            assessment=assessment, section="frailty", before={}, after={"cfs": 5}, reason="x"
        )
    chair = UserFactory()
    # Plan versions of the open episode, each with ``rows`` goals.
    previous = None
    for number in range(1, min(rows, 5) + 1):
        previous = CarePlan.objects.create(
            patient=patient,
            entry=entry,
            number=number,
            previous=previous,
            status="superseded" if number < min(rows, 5) else "shared",
            starts_on=dt.date(2025, 1, 1),
            next_review_on=dt.date(2025, 2, 1),
            clinical_lead=matron,
            navigator=navigator,
            ratified_by=chair,
            ratified_at=timezone.now(),
        )
        for index in range(rows):
            CarePlanGoal.objects.create(
                plan=previous, position=index, what_matters=f"Goal {index}", provider=navigator
            )
    # MDT discussions, each with actions, and one meeting that did not reach them.
    for index in range(rows):
        _discussed(
            patient,
            chair,
            dt.date(2025, 1, 6) + dt.timedelta(weeks=index),
            actions=[("Call", matron), ("Visit", navigator)],
        )
    _not_reached(patient, dt.date(2024, 12, 2))
    client.force_login(matron)
    client.get(reverse("home"))  # settle the session

    with django_assert_num_queries(RECORD_PAGE_QUERIES):
        response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert len(response.context["carers"]) == rows
    assert len(response.context["assessments"].rows) == rows
    assert len(response.context["care_plan"].goals) == rows
    assert response.context["banner_review"] == "overdue"
    assert len(response.context["meetings"].rows) == rows + 1
    assert len(response.context["meetings"].actions) == 2 * rows


# --- holistic assessments ------------------------------------------------------------------------


def _tab(response) -> str:
    return response.text.split('id="assessments"')[1].split('id="care-plan"')[0]


def _latest_slot(response) -> str:
    return response.text.split("Latest holistic assessment</dt>")[1].split("</dd>")[0]


@pytest.fixture
def episode(patient, matron, navigator):
    return RegisterEntryFactory(
        patient=patient, status=Status.ACTIVE, clinical_lead=matron, navigator=navigator
    )


def test_someone_never_assessed_can_be_assessed(client, navigator, patient, episode):
    response = _record(client, navigator, patient)

    tab = _tab(response)
    start = reverse("careplans:assessment_start", args=[patient.pk])
    assert f'href="{start}"' in tab
    assert "Start an assessment" in tab
    assert "No holistic assessment of Mary has been recorded yet." in tab
    assert "None recorded" in _latest_slot(response)


def test_the_tab_lists_the_assessments_latest_first_with_their_scores(
    client, matron, chair, patient, episode
):
    first = signed(by=matron, patient=patient, assessed_on=dt.date(2026, 1, 12))
    draft = started(by=chair, patient=patient, assessed_on=dt.date(2026, 3, 2))

    tab = _tab(_record(client, matron, patient))

    assert tab.index("2 March 2026") < tab.index("12 January 2026")
    assert f'href="{reverse("careplans:assessment", args=[draft.pk])}"' in tab
    assert f'href="{reverse("careplans:assessment", args=[first.pk])}"' in tab
    assert "Re-assessment" in tab and "Initial assessment" in tab
    # Escaped as the page shows them (a Faker name may be O'Brien).
    assert escape(chair.get_full_name()) in tab
    assert escape(matron.get_full_name()) in tab
    assert '<strong class="nhsuk-tag nhsuk-tag--green">Signed</strong>' in tab
    assert '<strong class="nhsuk-tag nhsuk-tag--yellow">Draft</strong>' in tab
    assert "CFS 6 · Barthel 14/20 · PHQ-9 8/27 · GAD-7 6/21 · Falls 2" in tab
    assert "At home" in tab


def test_a_signed_assessment_offers_a_reassessment(client, matron, patient, episode):
    signed(by=matron, patient=patient, assessed_on=dt.date(2026, 1, 12))

    tab = _tab(_record(client, matron, patient))

    assert "Start a re-assessment" in tab
    assert "Start an assessment" not in tab
    assert "Resume the draft" not in tab


def test_a_draft_is_resumed_rather_than_another_started(
    client, matron, navigator, patient, episode
):
    signed(by=matron, patient=patient, assessed_on=dt.date(2026, 1, 12))
    draft = started(by=matron, patient=patient)

    tab = _tab(_record(client, navigator, patient))

    assert "Resume the draft" in tab
    assert f'href="{reverse("careplans:assessment", args=[draft.pk])}" role="button"' in tab
    assert reverse("careplans:assessment_start", args=[patient.pk]) not in tab


def test_no_one_starts_an_assessment_of_a_person_who_has_died(client, matron, patient):
    patient.date_of_death = dt.date(2026, 1, 3)
    patient.save()

    tab = _tab(_record(client, matron, patient))

    assert reverse("careplans:assessment_start", args=[patient.pk]) not in tab


def test_the_overview_shows_the_latest_signed_assessment_and_the_change_since_the_one_before(
    client, matron, patient, episode
):
    signed(by=matron, patient=patient, assessed_on=dt.date(2026, 1, 12))
    answers = complete_answers()
    answers["function"].update({"mobility": 1, "transfer": 1})  # Barthel 12
    answers["mood"].update({"phq9_1": 0, "phq9_2": 0})  # PHQ-9 6
    latest = signed(by=matron, patient=patient, assessed_on=dt.date(2026, 3, 2), answers=answers)
    started(by=matron, patient=patient)  # a draft is not the latest signed

    slot = _latest_slot(_record(client, matron, patient))

    assert f'href="{reverse("careplans:assessment", args=[latest.pk])}"' in slot
    assert "Initial assessment on 12 January 2026" not in slot
    assert "Re-assessment on 2 March 2026" in slot
    for text in (
        "CFS 6 (living with moderate frailty)",
        "no change since 12 January 2026",
        "Barthel 12/20 (moderate dependency)",
        "-2 since 14 on 12 January 2026",
        "PHQ-9 6/27 (mild)",
        "GAD-7 6/21 (mild)",
        "Falls 2 in 12 months",
        "Flagged: Timed Up and Go 19 s (over 12 s); 2 falls in 12 months",
    ):
        assert text in slot, text


def test_the_overview_reads_the_answers_as_amended(client, matron, patient, episode):
    assessment = signed(by=matron, patient=patient, assessed_on=dt.date(2026, 1, 12))
    assessment_services.assessment_amend(
        by=matron, assessment=assessment, section="frailty", answers={"cfs": 7}, reason="x"
    )

    slot = _latest_slot(_record(client, matron, patient))

    assert "CFS 7 (living with severe frailty)" in slot
    assert "since" not in slot  # the first: nothing to compare with


def test_only_a_draft_says_none_is_signed_yet(client, matron, patient, episode):
    started(by=matron, patient=patient, assessed_on=dt.date(2026, 1, 12))

    slot = _latest_slot(_record(client, matron, patient))

    assert "None signed yet; one was started on 12 January 2026" in slot


def test_phq9_item_9_above_zero_is_shown_in_red(client, matron, patient, episode):
    answers = complete_answers()
    answers["mood"]["phq9_9"] = 1
    signed(by=matron, patient=patient, assessed_on=dt.date(2026, 1, 12), answers=answers)

    response = _record(client, matron, patient)

    tag = '<strong class="nhsuk-tag nhsuk-tag--red">PHQ-9 item 9 above zero</strong>'
    assert tag in _tab(response)
    assert tag in _latest_slot(response)


# --- the care plan -------------------------------------------------------------------------


def _plan_tab(response) -> str:
    return response.text.split('id="care-plan"')[1].split('id="mdt-discussions"')[0]


def _plan_slot(response) -> str:
    return response.text.split("Current care and support plan</dt>")[1].split("</dd>")[0]


def _banner(response) -> str:
    return response.text.split('class="mdt-banner"')[1].split("</section>")[0]


def _written_plan(matron, chair, patient, *, status="shared"):
    """A plan through the services, with two goals, taken to ``status``."""
    plan = plans.plan_create(by=matron, patient=patient)
    for words, progress in [
        ("I want to stay in my own home", "on_track"),
        ("I want to get to church on Sundays", "not_started"),
    ]:
        plans.goal_save(
            by=matron,
            plan=plan,
            expected_revision=plan.revision,
            what_matters=words,
            support_agreed="Home assessment and grab rails",
            provider_name="Community occupational therapy",
            target_on=dt.date(2026, 3, 20),
            progress=progress,
        )
    if status == "draft":
        return plan
    plan = plans.plan_propose(by=matron, plan=plan)
    if status == "proposed":
        return plan
    plan = plans.plan_ratify(by=chair, plan=plan)
    if status == "shared":
        plan = plans.plan_share(by=matron, plan=plan, shared_on=plan.starts_on, how="in_person")
    return plan


def _review_in(plan, days: int) -> None:
    """Move the plan's next review to ``days`` from today (negative: overdue)."""
    today = timezone.localdate()
    CarePlan.objects.filter(pk=plan.pk).update(
        starts_on=today - dt.timedelta(weeks=10), next_review_on=today + dt.timedelta(days=days)
    )


def test_the_care_plan_tab_shows_the_plan_in_force_with_its_goals(
    client, matron, chair, navigator, patient, episode
):
    RegisterEntry.objects.filter(pk=episode.pk).update(primary_need="frailty")
    plan = _written_plan(matron, chair, patient)

    response = _record(client, navigator, patient)

    tab = _plan_tab(response)
    url = reverse("careplans:plan", args=[plan.pk])
    assert f'<a href="{url}">Care and support plan, version 1</a>' in tab
    assert '<strong class="nhsuk-tag nhsuk-tag--green">Shared with the person</strong>' in tab
    assert f"Shared in person on {plan.shared_on.day} {plan.shared_on:%B %Y}" in tab
    for text in (
        "Frailty",
        escape(matron.get_full_name()),
        escape(navigator.get_full_name()),
        f"{plan.next_review_on.day} {plan.next_review_on:%B %Y}",
        "Every 6 weeks",
        "“I want to stay in my own home”",
        "“I want to get to church on Sundays”",
        "Home assessment and grab rails",
        "Community occupational therapy",
        "20 March 2026",
        '<strong class="nhsuk-tag nhsuk-tag--blue">On track</strong>',
        '<strong class="nhsuk-tag nhsuk-tag--white">Not started</strong>',
    ):
        assert text in tab, text
    assert "Review overdue" not in tab and "Review due" not in tab
    assert reverse("careplans:plan_create", args=[patient.pk]) not in response.text


def test_the_overview_shows_the_current_plan_and_its_goals(client, matron, chair, patient, episode):
    plan = _written_plan(matron, chair, patient, status="proposed")

    slot = _plan_slot(_record(client, matron, patient))

    assert f'<a href="{reverse("careplans:plan", args=[plan.pk])}">Version 1</a>' in slot
    assert "Proposed for the MDT</strong>" in slot
    assert f"Next review {plan.next_review_on.day} {plan.next_review_on:%B %Y}" in slot
    assert "“I want to stay in my own home”" in slot
    assert "on track, by 20 March 2026" in slot


@pytest.mark.parametrize(
    ("days", "tag", "in_banner"),
    [
        (-1, '<strong class="nhsuk-tag nhsuk-tag--red">Review overdue</strong>', True),
        (0, '<strong class="nhsuk-tag nhsuk-tag--orange">Review due</strong>', False),
        (14, '<strong class="nhsuk-tag nhsuk-tag--orange">Review due</strong>', False),
        (15, None, False),
    ],
)
def test_a_review_due_or_overdue_is_tagged_and_overdue_shows_in_the_banner(
    client, matron, chair, patient, episode, days, tag, in_banner
):
    plan = _written_plan(matron, chair, patient, status="ratified")
    _review_in(plan, days)

    response = _record(client, matron, patient)

    if tag:
        assert tag in _plan_tab(response)
        assert tag in _plan_slot(response)
    else:
        assert "Review due" not in _plan_tab(response)
        assert "Review overdue" not in _plan_tab(response)
    overdue = '<strong class="nhsuk-tag nhsuk-tag--red">Review overdue</strong>'
    assert (overdue in _banner(response)) == in_banner


def test_a_new_version_being_written_leaves_the_one_in_force_shown(
    client, matron, chair, patient, episode
):
    first = _written_plan(matron, chair, patient)
    _review_in(first, -3)
    first.refresh_from_db()
    second = plans.plan_new_version(by=matron, plan=first)

    response = _record(client, matron, patient)

    tab = _plan_tab(response)
    assert "Care and support plan, version 1</a>" in tab
    assert f'<a href="{reverse("careplans:plan", args=[second.pk])}">Version 2</a>' in tab
    assert "is being written (draft). Version 1 stays in force until it is ratified." in tab
    assert "Review overdue" in _banner(response)


def test_a_draft_is_shown_when_no_version_is_in_force(client, matron, chair, patient, episode):
    _written_plan(matron, chair, patient, status="draft")

    response = _record(client, matron, patient)

    tab = _plan_tab(response)
    assert '<strong class="nhsuk-tag nhsuk-tag--blue">Draft</strong>' in tab
    assert "Review" not in _banner(response)


@pytest.mark.parametrize(
    ("persona", "may_start"),
    [("matron", True), ("chair", True), ("navigator", False), ("member", False)],
)
def test_the_open_episode_without_a_plan_offers_to_start_one_to_those_who_write_plans(
    client, request, network_a, patient, episode, persona, may_start
):
    if persona == "member":
        user = UserFactory()
        MembershipFactory(user=user, network=network_a, role=Membership.Role.MEMBER)
    else:
        user = request.getfixturevalue(persona)

    response = _record(client, user, patient)

    start = f'href="{reverse("careplans:plan_create", args=[patient.pk])}"'
    assert (start in _plan_tab(response)) == may_start
    assert (start in _plan_slot(response)) == may_start
    assert ("Start a care plan" in response.text) == may_start
    if not may_start:
        assert "Community matrons, GP chairs and the clinical lead write care plans." in (
            _plan_tab(response)
        )


def test_the_clinical_lead_may_start_the_plan_whatever_their_role(
    client, network_a, patient, episode
):
    lead = UserFactory()
    MembershipFactory(user=lead, network=network_a, role=Membership.Role.MEMBER)
    RegisterEntry.objects.filter(pk=episode.pk).update(clinical_lead=lead)

    response = _record(client, lead, patient)

    assert reverse("careplans:plan_create", args=[patient.pk]) in _plan_tab(response)


def test_an_ended_episodes_plan_is_shown_without_a_review_to_come(
    client, matron, chair, patient, episode
):
    plan = _written_plan(matron, chair, patient)
    _review_in(plan, -20)
    RegisterEntry.objects.filter(pk=episode.pk).update(
        status=Status.DISCHARGED, closed_on=timezone.localdate()
    )

    response = _record(client, matron, patient)

    tab = _plan_tab(response)
    assert "Care and support plan, version 1</a>" in tab
    assert "Review overdue" not in response.text
    assert "Start a care plan" not in response.text


def test_a_plan_of_an_earlier_episode_is_not_the_current_one(
    client, matron, chair, patient, episode
):
    _written_plan(matron, chair, patient)
    RegisterEntry.objects.filter(pk=episode.pk).update(
        status=Status.DISCHARGED, closed_on=dt.date(2025, 6, 1), referred_on=dt.date(2025, 1, 1)
    )
    RegisterEntryFactory(patient=patient, status=Status.ACTIVE, clinical_lead=matron)

    response = _record(client, matron, patient)

    assert response.context["care_plan"].plan is None
    assert reverse("careplans:plan_create", args=[patient.pk]) in _plan_tab(response)


# --- MDT discussions and actions -----------------------------------------------------------


def _meeting(network, day: dt.date, status="closed", chair=None):
    return Meeting.objects.create(
        network=network,
        date=day,
        starts_at=dt.time(9),
        ends_at=dt.time(11),
        status=status,
        chair=chair,
    )


def _discussed(patient, chair, day: dt.date, actions=(), **outcome):
    """The person discussed at a closed meeting on ``day``, with the actions
    agreed (what, owner)."""
    meeting = _meeting(patient.practice.network, day, chair=chair)
    item = AgendaItem.objects.create(
        meeting=meeting, patient=patient, reason=outcome.pop("reason", "review_due")
    )
    discussion = Discussion.objects.create(
        item=item, recorded_by=chair, **{"outcome": "continue", **outcome}
    )
    for what, owner in actions:
        Action.objects.create(
            patient=patient,
            what=what,
            owner=owner,
            due_on=day + dt.timedelta(days=14),
            source=Action.Source.DISCUSSION,
            discussion=discussion,
        )
    return discussion


def _not_reached(patient, day: dt.date):
    meeting = _meeting(patient.practice.network, day)
    return AgendaItem.objects.create(
        meeting=meeting, patient=patient, reason="urgent", not_reached=True
    )


def _discussions_tab(response) -> str:
    return response.text.split('id="mdt-discussions"')[1].split('id="actions"')[0]


def _actions_tab(response) -> str:
    return response.text.split('id="actions"')[1].split('id="timeline"')[0]


def _mdt_slot(response) -> str:
    return response.text.split("MDT discussions</dt>")[1].split("</dd>")[0]


def test_the_discussions_tab_lists_every_discussion_newest_first_with_its_outcome(
    client, matron, chair, navigator, patient, episode
):
    first = _discussed(
        patient,
        chair,
        dt.date(2026, 1, 12),
        reason="new_referral",
        summary="Falls at home; lives alone.",
        decisions="Refer to the falls service.",
        next_review_on=dt.date(2026, 2, 23),
        actions=[("Refer to the falls service", matron)],
    )
    Action.objects.filter(discussion=first).update(
        status="done", completed_at=timezone.now(), completed_by=matron
    )
    second = _discussed(
        patient,
        chair,
        dt.date(2026, 2, 23),
        outcome="relist",
        summary="Another fall.",
        actions=[("Ask the GP to review her medicines", navigator)],
    )

    tab = _discussions_tab(_record(client, navigator, patient))

    minutes = [
        reverse("meetings:meeting_minutes", args=[d.item.meeting_id]) for d in (second, first)
    ]
    assert tab.index(minutes[0]) < tab.index(minutes[1])  # newest first
    for text in (
        "MDT on 23 February 2026",
        "Re-list at next MDT",
        "Another fall.",
        "Ask the GP to review her medicines",
        "MDT on 12 January 2026",
        "New referral",
        "Continue",
        "Falls at home; lives alone.",
        "Refer to the falls service.",
        "23 February 2026",
        '<strong class="nhsuk-tag nhsuk-tag--green">Done</strong>',
        '<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong>',  # due 9 March 2026
    ):
        assert text in tab, text
    assert "has not been discussed" not in tab


def test_a_meeting_that_did_not_reach_the_person_shows_them_carried_forward(
    client, matron, patient, episode
):
    item = _not_reached(patient, dt.date(2026, 3, 9))

    tab = _discussions_tab(_record(client, matron, patient))

    assert reverse("meetings:meeting_minutes", args=[item.meeting_id]) in tab
    assert '<strong class="nhsuk-tag nhsuk-tag--grey">Not reached</strong>' in tab
    assert "The meeting did not reach Mary: carried forward to the next meeting." in tab


def test_the_next_meeting_they_are_on_the_agenda_of_is_named(
    client, matron, chair, patient, episode
):
    soon = timezone.localdate() + dt.timedelta(days=7)
    later = _meeting(patient.practice.network, soon + dt.timedelta(days=14), status="scheduled")
    AgendaItem.objects.create(meeting=later, patient=patient, reason="review_due")
    next_one = _meeting(patient.practice.network, soon, status="scheduled")
    AgendaItem.objects.create(meeting=next_one, patient=patient, reason="review_due")
    cancelled = _meeting(patient.practice.network, soon - dt.timedelta(days=1), status="scheduled")
    AgendaItem.objects.create(meeting=cancelled, patient=patient, reason="urgent")
    Meeting.objects.filter(pk=cancelled.pk).update(status="cancelled", cancel_reason="Snow")

    response = _record(client, matron, patient)

    url = reverse("meetings:meeting", args=[next_one.pk])
    on = f"{soon.day} {soon:%B %Y}"
    assert f'<a href="{url}">MDT on {on}</a> at 09:00 (review due)' in _discussions_tab(response)
    assert f'Next MDT: <a href="{url}">{on}</a>' in _mdt_slot(response)
    assert reverse("meetings:meeting", args=[cancelled.pk]) not in response.text
    # Not discussed yet: an agenda to come is not a discussion.
    assert "Mary has not been discussed at an MDT yet." in _discussions_tab(response)


def test_a_discussion_at_a_meeting_outside_the_users_networks_is_not_shown(
    client, matron, chair, patient, episode, network_b
):
    elsewhere = _meeting(network_b, dt.date(2026, 1, 12))
    item = AgendaItem.objects.create(meeting=elsewhere, patient=patient, reason="urgent")
    Discussion.objects.create(item=item, recorded_by=chair, outcome="continue", summary="Secret")

    response = _record(client, matron, patient)

    assert "Secret" not in response.text
    assert response.context["meetings"].rows == []


def test_the_actions_tab_lists_actions_still_to_do_first_with_overdue_tagged(
    client, matron, chair, navigator, patient, episode
):
    today = timezone.localdate()
    discussion = _discussed(patient, chair, dt.date(2026, 1, 12))
    done = Action.objects.create(
        patient=patient,
        what="Refer to the falls service",
        owner=matron,
        due_on=today - dt.timedelta(days=30),
        status="done",
        completed_at=timezone.now(),
        completed_by=matron,
        discussion=discussion,
        source="discussion",
    )
    late = Action.objects.create(
        patient=patient,
        what="Ask the GP to review her medicines",
        owner=navigator,
        due_on=today - dt.timedelta(days=2),
        priority="urgent",
    )
    soon = Action.objects.create(
        patient=patient,
        what="Visit with the occupational therapist",
        owner=matron,
        due_on=today + dt.timedelta(days=5),
        status="in_progress",
    )

    response = _record(client, navigator, patient)

    tab = _actions_tab(response)
    assert tab.index(late.what) < tab.index(soon.what) < tab.index(done.what)
    assert "2 still to do, 1 overdue." in tab
    rows = tab.split('<tr class="nhsuk-table__row">')[2:]
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong>' in rows[0]
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Urgent</strong>' in rows[0]
    assert escape(navigator.get_full_name()) in rows[0]
    assert "Overdue" not in rows[1] and "In progress" in rows[1]
    assert '<strong class="nhsuk-tag nhsuk-tag--green">Done</strong>' in rows[2]
    minutes = reverse("meetings:meeting_minutes", args=[discussion.item.meeting_id])
    assert f'<a href="{minutes}">MDT on 12 January 2026</a>' in rows[2]
    assert "Other" in rows[0]  # not from a discussion: its source
    assert "<form" not in tab  # read-only


def test_the_overview_shows_the_last_discussion_and_the_actions_still_to_do(
    client, matron, chair, patient, episode
):
    _discussed(patient, chair, dt.date(2025, 11, 3), outcome="relist")
    _discussed(
        patient,
        chair,
        dt.date(2026, 1, 12),
        next_review_on=dt.date(2026, 2, 23),
        actions=[("Call", matron), ("Visit", matron)],
    )

    response = _record(client, matron, patient)

    assert "Last discussed on 12 January 2026: continue, next review 23 February 2026" in _mdt_slot(
        response
    )
    actions = response.text.split("Open actions</dt>")[1].split("</dd>")[0]
    assert "2 still to do" in actions
    assert '<strong class="nhsuk-tag nhsuk-tag--red">2 overdue</strong>' in actions
