"""The holistic assessment pages as their users meet them: start, the task
list, a page per section with autosave, check your answers, signing, the
signed summary with amendments, the summary printed for the person, and
the list. Every rule is the service's; these tests check that the pages
show its answers and never work around them."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careplans import services
from careplans.models import Assessment, AssessmentAmendment
from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from mdtcare.notifications.models import Notification
from patients.models import RegisterEntry
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.factories_register import RegisterEntryFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()

# Mary's first assessment (EXAMPLE.md): Barthel 14 (help with bathing,
# stairs, dressing, transfers, walking, toilet), PHQ-9 8 with item 9 at 0,
# GAD-7 6, CFS 6, two falls with a Timed Up and Go of 19 s.
BARTHEL_14 = {
    "bowels": 2,
    "bladder": 2,
    "grooming": 1,
    "toilet": 1,
    "feeding": 2,
    "transfer": 2,
    "mobility": 2,
    "dressing": 1,
    "stairs": 1,
    "bathing": 0,
}
PHQ9_8 = {f"phq9_{n}": value for n, value in enumerate([1, 1, 2, 1, 1, 1, 1, 0, 0], start=1)}
GAD7_6 = {f"gad7_{n}": value for n, value in enumerate([1, 1, 1, 1, 1, 1, 0], start=1)}
MARY = {
    "physical_health": {
        "health_in_own_words": "Breathless on the stairs; my knees are bad",
        "admissions_last_12_months": 2,
    },
    "medicines": {"medicines_count": 11, "last_review_on": "14/12/2024"},
    "function": BARTHEL_14,
    "falls": {"fell_last_12_months": "yes", "falls_count": 2, "tug_seconds": "19"},
    "mood": {"memory_concerns": "no", **PHQ9_8, **GAD7_6},
    "frailty": {"cfs": 6},
    "social": {"lives_alone": "yes", "has_carer": "yes", "carer_view": "Daughter visits"},
    "what_matters": {
        "i_statements": "I want to stay in my own home\nI want to get to church on Sundays"
    },
}


@pytest.fixture
def patient(practice_a, matron, navigator):
    person = PatientFactory(practice=practice_a, family_name="Okafor", given_name="Mary")
    RegisterEntryFactory(
        patient=person,
        status=RegisterEntry.Status.ACTIVE,
        clinical_lead=matron,
        navigator=navigator,
    )
    return person


@pytest.fixture
def other_matron(network_a):
    user = UserFactory(username="matron2", first_name="Ruth", last_name="Okoro")
    MembershipFactory(user=user, network=network_a, role=Membership.Role.MATRON)
    return user


def _date(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


def _start_post(**overrides) -> dict:
    return {
        **_date("assessed_on", TODAY),
        "setting": "home",
        "people_present": "Her daughter",
        **overrides,
    }


def _start(client, patient, **overrides) -> Assessment:
    response = client.post(
        reverse("careplans:assessment_start", args=[patient.pk]),
        _start_post(**overrides),
        follow=True,  # to the task list, which shows (and so clears) the messages
    )
    assert response.redirect_chain, response.text
    return Assessment.objects.filter(patient=patient).order_by("-created_at").first()


def _url(name: str, assessment: Assessment, *args) -> str:
    return reverse(f"careplans:{name}", args=[assessment.pk, *args])


def _save(client, assessment, section, answers, *, then="later", version=None, **kwargs):
    assessment.refresh_from_db()
    data = {**answers, "version": assessment.version if version is None else version}
    if then:
        data["then"] = then
    return client.post(_url("assessment_section", assessment, section), data, **kwargs)


def _fill(client, assessment, answers=MARY):
    for section, values in answers.items():
        response = _save(client, assessment, section, values)
        assert response.status_code == 302, (section, response.text)


def _signed(client, patient, answers=MARY) -> Assessment:
    assessment = _start(client, patient)
    _fill(client, assessment, answers)
    assessment.refresh_from_db()
    client.post(_url("assessment_complete", assessment), {"version": assessment.version})
    assessment.refresh_from_db()
    assert assessment.is_signed
    return assessment


# --- The happy path ---------------------------------------------------------------------


def test_a_matron_assesses_mary_from_start_to_signed(client, matron, patient):
    client.force_login(matron)

    form = client.get(reverse("careplans:assessment_start", args=[patient.pk]))
    started = client.post(
        reverse("careplans:assessment_start", args=[patient.pk]), _start_post(), follow=True
    )
    assessment = Assessment.objects.get()
    tasks = started.text
    for section, values in MARY.items():
        page = client.get(_url("assessment_section", assessment, section))
        assert page.status_code == 200
        assert _save(client, assessment, section, values, then="continue").status_code == 302
    check = client.get(_url("assessment_check", assessment))
    assessment.refresh_from_db()
    signed = client.post(
        _url("assessment_complete", assessment), {"version": assessment.version}, follow=True
    )

    assert "Start a holistic assessment" in form.text
    assert "Initial assessment of OKAFOR, Mary started." in tasks
    assert 'class="nhsuk-task-list"' in tasks
    assert "Not started" in tasks
    assert "Check your answers before signing" in check.text
    assert "Sign and complete" in check.text
    assessment.refresh_from_db()
    assert assessment.is_signed and assessment.signed_by == matron
    assert assessment.scores["barthel"]["total"] == 14
    assert "Assessment signed at" in signed.text
    assert "14/20 (moderate dependency)" in signed.text
    assert "8/27 (mild)" in signed.text
    assert "6 (Living with moderate frailty)" in signed.text
    assert "Print for the person" in signed.text
    assert "Amend this section" in signed.text


def test_the_task_list_shows_each_sections_state_and_the_scores_so_far(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    _save(client, assessment, "function", BARTHEL_14)
    _save(client, assessment, "mood", {"phq9_1": 1})

    response = client.get(_url("assessment", assessment))

    text = response.text
    function_row = text.split("Functional abilities (Barthel index)</a>")[1].split("</li>")[0]
    mood_row = text.split("Memory and mood (PHQ-9, GAD-7)</a>")[1].split("</li>")[0]
    medicines_row = text.split("Medicines</a>")[1].split("</li>")[0]
    assert "Completed" in function_row
    assert "In progress" in mood_row
    assert "Not started" in medicines_row
    assert "14/20 (moderate dependency)" in text
    assert ">incomplete<" in text
    assert "Medicines" in response.context["missing"]


def test_save_and_continue_goes_to_the_next_section_then_to_check(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)

    first = _save(client, assessment, "physical_health", {}, then="continue")
    last = _save(client, assessment, "what_matters", {}, then="continue")
    later = _save(client, assessment, "medicines", {}, then="later")
    from_check = client.post(
        _url("assessment_section", assessment, "falls") + "?from=check",
        {"version": Assessment.objects.get().version, "then": "continue"},
    )

    assert first["Location"] == _url("assessment_section", assessment, "medicines")
    assert last["Location"] == _url("assessment_check", assessment)
    assert later["Location"] == _url("assessment", assessment)
    assert from_check["Location"] == _url("assessment_check", assessment)


def test_instrument_items_are_radios_with_their_wording_and_a_running_total(
    client, matron, patient
):
    client.force_login(matron)
    assessment = _start(client, patient)
    _save(client, assessment, "mood", {f"phq9_{n}": 1 for n in range(1, 9)})

    response = client.get(_url("assessment_section", assessment, "mood"))

    text = response.text
    assert "Little interest or pleasure in doing things</legend>" in text
    assert 'type="radio" name="phq9_1" value="3"' in text
    assert "Nearly every day" in text
    # Eight of nine answered: no partial total.
    assert "PHQ-9: <strong>incomplete</strong>" in text
    _save(client, assessment, "mood", {f"phq9_{n}": 1 for n in range(1, 10)})
    assert (
        "PHQ-9: <strong>9/27 (mild)</strong>"
        in client.get(_url("assessment_section", assessment, "mood")).text
    )


def test_a_reassessment_starts_from_the_last_answers_and_shows_the_change(client, matron, patient):
    client.force_login(matron)
    _signed(client, patient, {**MARY, "frailty": {"cfs": 5}})

    again = _start(client, patient)
    prefilled = client.get(_url("assessment_section", again, "function"))
    _save(client, again, "function", {**BARTHEL_14, "toilet": 0, "transfer": 1, "mobility": 1})
    _save(client, again, "frailty", {"cfs": 6})
    draft = client.get(_url("assessment", again))
    again.refresh_from_db()
    client.post(_url("assessment_complete", again), {"version": again.version})
    summary = client.get(_url("assessment", again))
    printed = client.get(_url("assessment_print", again))

    assert again.kind == "reassessment"
    assert 'value="2" id="id_bowels_2" checked' in prefilled.text
    assert "14 → 11 (\u22123)" in draft.text
    assert "5 → 6 (+1)" in summary.text
    assert "14 → 11 (\u22123)" in summary.text
    assert "That is 3 points lower than on" in printed.text
    assert "when it was 14" in printed.text


# --- Bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "answers", "field"),
    [
        ("frailty", {"cfs": 10}, "cfs"),
        ("function", {"bathing": 2}, "bathing"),
        ("mood", {"phq9_3": 4}, "phq9_3"),
    ],
)
def test_out_of_range_answers_are_refused_and_nothing_is_saved(
    client, matron, patient, section, answers, field
):
    client.force_login(matron)
    assessment = _start(client, patient)

    response = _save(client, assessment, section, answers)

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert 'class="nhsuk-error-summary"' in response.text
    assert f'href="#id_{field}_0"' in response.text
    assessment.refresh_from_db()
    assert assessment.answers == {} and assessment.version == 1


def test_out_of_range_answers_are_refused_by_autosave_too(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)

    response = client.post(
        _url("assessment_autosave", assessment, "frailty"),
        {"cfs": "10", "version": 1},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "Not saved: 1 answer needs correcting" in response.text
    assessment.refresh_from_db()
    assert assessment.answers == {}


def test_a_future_assessment_date_is_refused(client, matron, patient):
    client.force_login(matron)
    tomorrow = TODAY + dt.timedelta(days=1)

    started = client.post(
        reverse("careplans:assessment_start", args=[patient.pk]),
        _start_post(**_date("assessed_on", tomorrow)),
    )
    assessment = _start(client, patient)
    changed = client.post(
        _url("assessment_details", assessment),
        {**_start_post(**_date("assessed_on", tomorrow)), "version": 1},
    )

    assert "The assessment date cannot be in the future" in started.text
    assert "The assessment date cannot be in the future" in changed.text
    assert Assessment.objects.get().assessed_on == TODAY


def test_a_missing_year_gets_the_nhs_message(client, matron, patient):
    client.force_login(matron)

    response = client.post(
        reverse("careplans:assessment_start", args=[patient.pk]),
        _start_post(assessed_on_2=""),
    )

    assert "Date of the assessment must include a year" in response.text
    assert not Assessment.objects.exists()


def test_someone_with_no_open_episode_is_assessed_with_a_warning(client, matron, practice_a):
    person = PatientFactory(practice=practice_a)
    client.force_login(matron)

    form = client.get(reverse("careplans:assessment_start", args=[person.pk]))
    response = client.post(
        reverse("careplans:assessment_start", args=[person.pk]), _start_post(), follow=True
    )

    assert "Not on the register" in form.text
    assert "This person has no open referral or episode on the register" in response.text
    assert Assessment.objects.filter(patient=person).count() == 1


def test_the_start_page_points_to_a_draft_already_started(client, matron, patient):
    client.force_login(matron)
    draft = _start(client, patient)

    response = client.get(reverse("careplans:assessment_start", args=[patient.pk]))

    assert "This person already has an assessment in draft" in response.text
    assert _url("assessment", draft) in response.text


def test_the_details_are_changed_with_the_version(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    yesterday = TODAY - dt.timedelta(days=1)

    response = client.post(
        _url("assessment_details", assessment),
        {**_start_post(**_date("assessed_on", yesterday), setting="phone"), "version": 1},
    )

    assert response["Location"] == _url("assessment", assessment)
    assessment.refresh_from_db()
    assert (assessment.assessed_on, assessment.setting, assessment.version) == (
        yesterday,
        "phone",
        2,
    )


# --- Two people, one draft --------------------------------------------------------------


def test_a_stale_save_is_refused_with_what_changed_and_their_answers_kept(
    client, matron, navigator, patient
):
    client.force_login(matron)
    assessment = _start(client, patient)
    other = Client()
    other.force_login(navigator)
    # Both open the medicines page at version 1; the navigator saves first.
    _save(other, assessment, "medicines", {"medicines_count": 11}, version=1)

    response = _save(client, assessment, "medicines", {"medicines_count": 9}, version=1)

    assert response.status_code == 200
    assert "Someone else saved this assessment at" in response.text
    assert "Their answers differ from yours in: Number of regular medicines" in response.text
    # The form now shows their answer at their version; ours is listed, not lost.
    assert 'name="medicines_count" value="11"' in response.text
    assert 'name="version" value="2"' in response.text
    assert "Your answers that were not saved" in response.text
    unsaved = response.text.split("Your answers that were not saved")[1].split("</dl>")[0]
    assert "Number of regular medicines" in unsaved and ">9<" in unsaved.replace("\n", "").replace(
        " ", ""
    )
    assessment.refresh_from_db()
    assert assessment.answers["medicines"] == {"medicines_count": 11}
    assert assessment.version == 2


def test_after_a_stale_refusal_saving_again_is_deliberate_and_works(
    client, matron, navigator, patient
):
    client.force_login(matron)
    assessment = _start(client, patient)
    other = Client()
    other.force_login(navigator)
    _save(other, assessment, "medicines", {"medicines_count": 11}, version=1)
    _save(client, assessment, "medicines", {"medicines_count": 9}, version=1)

    again = _save(client, assessment, "medicines", {"medicines_count": 9}, version=2)

    assert again.status_code == 302
    assessment.refresh_from_db()
    assert assessment.answers["medicines"] == {"medicines_count": 9}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_saving_one_page_at_once_one_saves_and_one_is_told(matron, navigator, patient):
    assessment = services.assessment_start(by=matron, patient=patient).assessment
    both_ready = threading.Barrier(2)
    answers, failures = [], []

    def save(user, cfs):
        try:
            client = Client()
            client.force_login(user)
            both_ready.wait(timeout=10)
            opened = Assessment.objects.get(pk=assessment.pk)
            answers.append(_save(client, opened, "frailty", {"cfs": cfs}, version=1))
        except Exception as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(matron, 5)),
        threading.Thread(target=save, args=(navigator, 6)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert sorted(response.status_code for response in answers) == [200, 302]
    refused = next(response for response in answers if response.status_code == 200)
    assert "Their answers differ from yours in: Clinical Frailty Scale" in refused.text
    current = Assessment.objects.get(pk=assessment.pk)
    assert current.version == 2
    # The refused page shows the answer that was saved, checked.
    theirs = current.answers["frailty"]["cfs"]
    assert f'value="{theirs}" id="id_cfs_{theirs - 1}" checked' in refused.text


def test_a_stale_autosave_says_it_could_not_save_and_why(client, matron, navigator, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    other = Client()
    other.force_login(navigator)
    _save(other, assessment, "pain", {"has_pain": "yes"}, version=1)

    response = client.post(
        _url("assessment_autosave", assessment, "pain"),
        {"has_pain": "no", "version": 1},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "Not saved: someone else saved this assessment at" in response.text
    assert 'name="version"' not in response.text
    assessment.refresh_from_db()
    assert assessment.answers["pain"] == {"has_pain": "yes"}


def test_stale_details_show_the_saved_details(client, matron, navigator, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    other = Client()
    other.force_login(navigator)
    other.post(
        _url("assessment_details", assessment),
        {**_start_post(setting="clinic"), "version": 1},
    )

    response = client.post(
        _url("assessment_details", assessment), {**_start_post(setting="phone"), "version": 1}
    )

    assert "Someone else saved this assessment" in response.text
    assert 'value="clinic" id="id_setting_1" required checked' in response.text
    assert Assessment.objects.get().setting == "clinic"


# --- Autosave ---------------------------------------------------------------------------


def test_autosave_answers_saved_at_with_the_new_version_and_the_scores(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)

    response = client.post(
        _url("assessment_autosave", assessment, "function"),
        {**BARTHEL_14, "version": 1},
        HTTP_HX_REQUEST="true",
    )

    assessment.refresh_from_db()
    local = timezone.localtime(assessment.updated_at)
    assert response.status_code == 200
    assert f"Saved at {local:%H:%M}" in response.text
    assert '<input type="hidden" name="version" value="2" id="id_version" hx-swap-oob="true">' in (
        response.text
    )
    assert 'id="score-barthel" hx-swap-oob="true"' in response.text
    assert "14/20 (moderate dependency)" in response.text
    assert assessment.answers["function"] == BARTHEL_14


def test_autosave_with_nothing_new_writes_nothing(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    _save(client, assessment, "medicines", {"medicines_count": 4, "last_review_on": "01/02/2025"})

    response = client.post(
        _url("assessment_autosave", assessment, "medicines"),
        {"medicines_count": "4", "last_review_on": "01/02/2025", "version": 2},
        HTTP_HX_REQUEST="true",
    )

    assert "Saved at" in response.text
    assert Assessment.objects.get().version == 2


def test_the_section_form_is_wired_for_autosave_and_works_without_it(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)

    text = client.get(_url("assessment_section", assessment, "pain")).text

    assert f'hx-post="{_url("assessment_autosave", assessment, "pain")}"' in text
    assert 'method="post"' in text
    assert 'id="autosave-status" role="status" aria-live="polite"' in text
    assert 'name="version" value="1"' in text
    assert "js/assessment.js" in text
    assert "<script>" not in text


# --- The self-harm safety rule ------------------------------------------------------------


def test_phq9_item_9_above_zero_shows_the_warning_and_alerts_lead_and_navigator(
    client, matron, navigator, patient
):
    client.force_login(matron)
    assessment = _start(client, patient)
    blank = client.get(_url("assessment_section", assessment, "mood"))

    saved = _save(client, assessment, "mood", {**PHQ9_8, "phq9_9": 1}, then="continue")
    page = client.get(saved["Location"])

    # Pre-rendered but hidden, for the script to show at once.
    assert 'id="self-harm-warning" data-self-harm-warning role="alert" hidden' in blank.text
    # After the save, back on the same page with the warning shown.
    assert saved["Location"] == _url("assessment_section", assessment, "mood")
    assert 'id="self-harm-warning" data-self-harm-warning role="alert">' in page.text
    assert "call 999" in page.text
    alerts = Notification.objects.filter(kind=Notification.Kind.SELF_HARM_ALERT)
    assert {alert.recipient for alert in alerts} == {matron, navigator}
    assert all(alert.urgent for alert in alerts)
    assert "Thoughts of self-harm" in client.get(_url("assessment", assessment)).text


def test_saving_mood_again_does_not_stop_the_assessor_again(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    _save(client, assessment, "mood", {**PHQ9_8, "phq9_9": 1})

    again = _save(client, assessment, "mood", {**PHQ9_8, "phq9_9": 2}, then="continue")

    assert again["Location"] == _url("assessment_section", assessment, "frailty")
    assert Notification.objects.count() == 2  # once per assessment and recipient


def test_the_autosave_raises_the_alert_too(client, matron, navigator, patient):
    client.force_login(matron)
    assessment = _start(client, patient)

    client.post(
        _url("assessment_autosave", assessment, "mood"),
        {"phq9_9": 3, "version": 1},
        HTTP_HX_REQUEST="true",
    )

    assert Notification.objects.filter(recipient=navigator, urgent=True).exists()


# --- Signing ---------------------------------------------------------------------------


def test_an_incomplete_assessment_cannot_be_signed(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    _save(client, assessment, "physical_health", MARY["physical_health"])

    check = client.get(_url("assessment_check", assessment))
    response = client.post(_url("assessment_complete", assessment), {"version": 2})

    assert "Not ready to sign" in check.text
    assert response.status_code == 200
    assert "Complete these sections before signing: Medicines;" in response.text
    assert 'class="nhsuk-error-summary"' in response.text
    assert not Assessment.objects.get().is_signed


def test_a_second_complete_click_is_harmless(client, matron, patient):
    client.force_login(matron)
    assessment = _signed(client, patient)
    signed_at = assessment.signed_at

    response = client.post(_url("assessment_complete", assessment), {"version": 1}, follow=True)

    local = timezone.localtime(signed_at)
    assert response.redirect_chain[-1][0] == _url("assessment", assessment)
    assert f"This assessment was already signed at {local:%H:%M}" in response.text
    assert str(matron) in response.text
    assessment.refresh_from_db()
    assert assessment.signed_at == signed_at


def test_only_the_assessor_can_sign(client, matron, other_matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    _fill(client, assessment)
    assessment.refresh_from_db()
    client.force_login(other_matron)

    check = client.get(_url("assessment_check", assessment))
    response = client.post(_url("assessment_complete", assessment), {"version": assessment.version})

    assert f"Only the assessor, {matron}, can sign this assessment." in check.text
    assert "Sign and complete</button>" not in check.text
    assert response.status_code == 403
    assert not Assessment.objects.get().is_signed


def test_a_stale_sign_is_refused_and_the_check_page_is_current(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    _fill(client, assessment)
    assessment.refresh_from_db()

    response = client.post(
        _url("assessment_complete", assessment), {"version": assessment.version - 1}
    )

    assert "Someone else saved this assessment" in response.text
    assert f'name="version" value="{assessment.version}"' in response.text
    assert not Assessment.objects.get().is_signed


@pytest.mark.parametrize("page", ["section", "autosave", "details"])
def test_a_signed_assessment_cannot_be_changed_through_the_draft_pages(
    client, matron, patient, page
):
    client.force_login(matron)
    assessment = _signed(client, patient)
    version = assessment.version
    urls = {
        "section": _url("assessment_section", assessment, "frailty"),
        "autosave": _url("assessment_autosave", assessment, "frailty"),
        "details": _url("assessment_details", assessment),
    }
    data = {
        "cfs": 9,
        "version": version,
        **(_start_post(setting="video") if page == "details" else {}),
    }

    response = client.post(urls[page], data, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "This assessment has been signed and cannot be changed" in response.text
    assessment.refresh_from_db()
    assert assessment.answers["frailty"] == {"cfs": 6}
    assert (assessment.setting, assessment.version) == ("home", version)


def test_the_draft_pages_of_a_signed_assessment_lead_to_its_summary(client, matron, patient):
    client.force_login(matron)
    assessment = _signed(client, patient)

    section = client.get(_url("assessment_section", assessment, "frailty"))
    details = client.get(_url("assessment_details", assessment))
    check = client.get(_url("assessment_check", assessment))

    assert section["Location"] == details["Location"] == check["Location"]
    assert check["Location"] == _url("assessment", assessment)


# --- Amendments -------------------------------------------------------------------------


def test_an_amendment_needs_a_reason(client, matron, patient):
    client.force_login(matron)
    assessment = _signed(client, patient)

    response = client.post(
        _url("assessment_amend", assessment, "medicines"),
        {"medicines_count": 12, "amendment_reason": "  "},
    )

    assert response.status_code == 200
    assert "Enter the reason for the amendment" in response.text
    assert not AssessmentAmendment.objects.exists()


def test_an_amendment_is_shown_beside_the_original(client, matron, chair, patient):
    client.force_login(matron)
    assessment = _signed(client, patient)
    client.force_login(chair)

    form = client.get(_url("assessment_amend", assessment, "medicines"))
    response = client.post(
        _url("assessment_amend", assessment, "medicines"),
        {
            "medicines_count": 12,
            "last_review_on": "14/12/2024",
            "amendment_reason": "The blister pack has 12; one was missed",
        },
        follow=True,
    )

    assert 'name="medicines_count" value="11"' in form.text
    amendment = AssessmentAmendment.objects.get()
    assert (amendment.before["medicines_count"], amendment.after["medicines_count"]) == (11, 12)
    text = response.text
    assert "Reason: The blister pack has 12; one was missed" in text
    assert f"by {chair}" in text
    assert "Amended</strong>" in text
    assert "Medicines: the answers as signed" in text
    changed = text.split("What was changed")[1].split("</table>")[0]
    assert "Number of regular medicines" in changed and "11" in changed and "12" in changed
    assessment.refresh_from_db()
    assert assessment.answers["medicines"]["medicines_count"] == 11


def test_amending_a_draft_goes_to_its_section_page(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)

    response = client.get(_url("assessment_amend", assessment, "medicines"))

    assert response["Location"] == _url("assessment_section", assessment, "medicines")


# --- The summary printed for the person --------------------------------------------------


def test_the_printed_summary_is_plain_english_with_what_matters_first(client, matron, patient):
    client.force_login(matron)
    assessment = _signed(client, patient)

    response = client.get(_url("assessment_print", assessment))

    text = response.text
    assert "What matters to you" in text
    assert text.index("I want to stay in my own home") < text.index("What we found")
    assert "you scored 14 out of 20: you need some help with everyday tasks" in text
    assert "some signs of low mood" in text
    assert "You told us about 2 falls in the last 12 months." in text
    assert f"{matron}, community matron, talked with you at home on" in text
    assert "data-print-page hidden" in text
    assert "<script>" not in text
    for_the_person = text.split('<article class="mdt-person-summary">')[1].split("</article>")[0]
    for jargon in ("dependency", "MDT", "14/20", "draft"):
        assert jargon not in for_the_person


def test_a_draft_is_not_printed_for_the_person(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)

    response = client.get(_url("assessment_print", assessment))

    assert response["Location"] == _url("assessment", assessment)


def test_pages_link_a_print_stylesheet(client, matron, patient):
    client.force_login(matron)
    assessment = _signed(client, patient)

    text = client.get(_url("assessment_print", assessment)).text

    assert 'href="/static/css/print.css" media="print"' in text


# --- The list ---------------------------------------------------------------------------


def test_the_list_shows_my_drafts_and_what_was_signed_in_my_networks(
    client, matron, chair, patient, practice_a, practice_b
):
    client.force_login(matron)
    signed = _signed(client, patient)
    mine = _start(client, PatientFactory(practice=practice_a, family_name="Whitfield"))
    client.force_login(chair)
    _start(client, PatientFactory(practice=practice_a, family_name="Chairsdraft"))
    elsewhere = PatientFactory(practice=practice_b, family_name="Southerner")
    Assessment.objects.create(
        patient=elsewhere,
        kind="initial",
        assessor=chair,
        assessed_on=TODAY,
        status="completed",
        signed_by=chair,
        signed_at=timezone.now(),
    )
    client.force_login(matron)

    response = client.get(reverse("careplans:assessment_list"))

    text = response.text
    assert "WHITFIELD" in text and _url("assessment", mine) in text
    assert "CHAIRSDRAFT" not in text
    assert _url("assessment", signed) in text
    assert "SOUTHERNER" not in text
    event = AccessEvent.objects.filter(what="assessment.list").get()
    assert set(event.patients.values_list("patient_id", flat=True)) == {
        mine.patient_id,
        signed.patient_id,
    }


def test_the_list_says_what_to_do_when_empty(client, matron):
    client.force_login(matron)

    response = client.get(reverse("careplans:assessment_list"))

    assert "You have no assessments in draft" in response.text
    assert "No assessments have been signed in your networks yet" in response.text


# --- The gate, roles and the audit ---------------------------------------------------------

PAGES = [
    ("get", "assessment", ()),
    ("get", "assessment_details", ()),
    ("get", "assessment_section", ("mood",)),
    ("post", "assessment_autosave", ("mood",)),
    ("get", "assessment_check", ()),
    ("post", "assessment_complete", ()),
    ("get", "assessment_print", ()),
    ("get", "assessment_amend", ("mood",)),
]


@pytest.mark.parametrize(("method", "name", "args"), PAGES)
def test_the_outsider_gets_404_on_every_page(client, matron, outsider, patient, method, name, args):
    client.force_login(matron)
    assessment = _start(client, patient)
    client.force_login(outsider)
    before = AccessEvent.objects.count()

    response = getattr(client, method)(_url(name, assessment, *args), {"version": 1})

    assert response.status_code == 404
    assert "OKAFOR" not in response.text
    assert AccessEvent.objects.count() == before


def test_the_outsider_cannot_start_an_assessment_of_someone_else(client, outsider, patient):
    client.force_login(outsider)

    response = client.post(reverse("careplans:assessment_start", args=[patient.pk]), _start_post())

    assert response.status_code == 404
    assert not Assessment.objects.exists()


def test_a_user_with_no_role_in_the_network_gets_404(client, matron, patient, network_b):
    # A member of network B only (not the persona): the record's network is not theirs.
    stranger = UserFactory(username="stranger")
    MembershipFactory(user=stranger, network=network_b, role=Membership.Role.MATRON)
    client.force_login(matron)
    assessment = _start(client, patient)
    client.force_login(stranger)

    assert client.get(_url("assessment", assessment)).status_code == 404
    assert client.get(reverse("careplans:assessment_start", args=[patient.pk])).status_code == 404


def test_an_unknown_section_is_404(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)

    assert client.get(_url("assessment_section", assessment, "hobbies")).status_code == 404


@pytest.mark.parametrize(
    ("name", "args", "what"),
    [
        ("assessment", (), "assessment.view"),
        ("assessment_details", (), "assessment.details"),
        ("assessment_section", ("pain",), "assessment.section"),
        ("assessment_check", (), "assessment.check"),
    ],
)
def test_every_page_writes_one_access_event(client, matron, patient, name, args, what):
    client.force_login(matron)
    assessment = _start(client, patient)
    before = AccessEvent.objects.count()

    client.get(_url(name, assessment, *args))

    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.latest("at")
    assert event.what == what
    assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]
    assert event.reason == "member of North as Community matron"


def test_a_save_and_an_autosave_write_one_access_event_each(client, matron, patient):
    client.force_login(matron)
    assessment = _start(client, patient)
    before = AccessEvent.objects.count()

    _save(client, assessment, "pain", {"has_pain": "yes"})
    client.post(
        _url("assessment_autosave", assessment, "pain"),
        {"has_pain": "no", "version": 2},
        HTTP_HX_REQUEST="true",
    )

    whats = list(AccessEvent.objects.order_by("at")[before:].values_list("what", flat=True))
    assert whats == ["assessment.section", "assessment.autosave"]


# --- Query counts -------------------------------------------------------------------------


def _signed_assessment(patient, user, *, previous=None, day=None) -> Assessment:
    return Assessment.objects.create(
        patient=patient,
        kind="reassessment" if previous else "initial",
        previous=previous,
        assessor=user,
        assessed_on=day or TODAY,
        status="completed",
        answers={key: value for key, value in MARY.items() if key != "what_matters"}
        | {"what_matters": {"i_statements": ["I want to stay in my own home"]}},
        signed_by=user,
        signed_at=timezone.now(),
        created_by=user,
    )


@pytest.mark.parametrize("rows", [1, 50])
def test_the_list_query_count_does_not_grow(
    client, matron, practice_a, rows, django_assert_num_queries
):
    for person in PatientFactory.create_batch(rows, practice=practice_a):
        _signed_assessment(person, matron)
        Assessment.objects.create(
            patient=person, kind="initial", assessor=matron, assessed_on=TODAY
        )
    client.force_login(matron)
    client.get(reverse("home"))

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("careplans:assessment_list"))
    assert len(response.context["drafts"]) == rows


@pytest.mark.parametrize("rows", [1, 50])
def test_the_signed_summary_query_count_does_not_grow(
    client, matron, patient, rows, django_assert_num_queries
):
    first = _signed_assessment(patient, matron, day=TODAY - dt.timedelta(days=90))
    assessment = _signed_assessment(patient, matron, previous=first)
    for number in range(rows):
        for target in (first, assessment):
            AssessmentAmendment.objects.create(
                assessment=target,
                section="medicines",
                before={"medicines_count": 11 + number},
                after={"medicines_count": 12 + number},
                reason=f"Recounted ({number})",
                created_by=matron,
            )
    client.force_login(matron)
    client.get(reverse("home"))

    with django_assert_num_queries(SUMMARY_QUERIES):
        response = client.get(_url("assessment", assessment))
    assert response.text.count("Reason: Recounted") == rows


@pytest.mark.parametrize("rows", [1, 50])
def test_the_task_list_and_check_query_counts_do_not_grow(
    client, matron, patient, rows, django_assert_num_queries
):
    first = _signed_assessment(patient, matron, day=TODAY - dt.timedelta(days=90))
    for number in range(rows):
        AssessmentAmendment.objects.create(
            assessment=first,
            section="medicines",
            before={},
            after={"medicines_count": number},
            reason="Recounted",
            created_by=matron,
        )
    draft = services.assessment_start(by=matron, patient=patient).assessment
    client.force_login(matron)
    client.get(reverse("home"))

    with django_assert_num_queries(TASK_LIST_QUERIES):
        client.get(_url("assessment", draft))
    with django_assert_num_queries(TASK_LIST_QUERIES):
        client.get(_url("assessment_check", draft))


# Pinned: session, user, memberships (3); the access event and its patients in
# a savepoint (4); the session's renewed expiry in a savepoint (3); then, per page:
LIST_QUERIES = 10 + 3  # the drafts, the signed count and page
SUMMARY_QUERIES = 10 + 4  # the assessment, its amendments, the previous one's, the banner
TASK_LIST_QUERIES = 10 + 4  # the same; the answers are one document
