"""The holistic assessment services: starting (initial or re-assessment),
saving a section against a version, the PHQ-9 item 9 alert, signing,
amending a signed assessment, and the change history they leave.

The helpers here (``complete_answers``, ``started``, ``signed``) are shared
with the API and record page tests."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from careplans import services
from careplans.models import Assessment, AssessmentAmendment
from careplans.scoring import assessment_scores, effective_answers
from careplans.sections import SECTIONS
from mdtcare.accounts.models import Membership
from mdtcare.audit.context import audit_context
from mdtcare.audit.selectors import change_history
from mdtcare.notifications.models import Notification
from patients.models import RegisterEntry
from tests.careplans.test_scoring import MARY_FUNCTION, MARY_MOOD
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.factories_register import RegisterEntryFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def complete_answers() -> dict:
    """Mary's answers (EXAMPLE.md) to every mandatory section, as the
    section forms store them."""
    return {
        "physical_health": {
            "health_in_own_words": "Breathless walking to the shop; my knees are bad",
            "admissions_last_12_months": 2,
        },
        "medicines": {"medicines_count": 11, "last_review_on": "2025-01-10"},
        "function": dict(MARY_FUNCTION),
        "falls": {"fell_last_12_months": "yes", "falls_count": 2, "tug_seconds": "19"},
        "mood": dict(MARY_MOOD),
        "frailty": {"cfs": 6},
        "social": {"lives_alone": "yes", "has_carer": "yes"},
        "what_matters": {
            "i_statements": [
                "I want to stay in my own home",
                "I want to get to church on Sundays",
                "I don't want to keep going back into hospital",
            ]
        },
    }


def started(*, by, patient, **kwargs) -> Assessment:
    return services.assessment_start(by=by, patient=patient, **kwargs).assessment


def filled(*, by, assessment: Assessment, answers: dict | None = None) -> Assessment:
    """Save each section of ``answers`` (default: every mandatory one) in turn."""
    for section, section_answers in (answers or complete_answers()).items():
        assessment = services.assessment_section_save(
            by=by,
            assessment=assessment,
            section=section,
            answers=section_answers,
            expected_version=assessment.version,
        )
    return assessment


def signed(*, by, patient, answers: dict | None = None, **kwargs) -> Assessment:
    """A completed and signed assessment by ``by``."""
    assessment = filled(
        by=by, assessment=started(by=by, patient=patient, **kwargs), answers=answers
    )
    return services.assessment_complete(
        by=by, assessment=assessment, expected_version=assessment.version
    )


@pytest.fixture
def patient(practice_a):
    return PatientFactory(practice=practice_a, given_name="Mary", family_name="Okafor")


@pytest.fixture
def episode(patient, matron, navigator):
    return RegisterEntryFactory(
        patient=patient,
        status=RegisterEntry.Status.ACTIVE,
        clinical_lead=matron,
        navigator=navigator,
    )


# --- starting ------------------------------------------------------------------------------


def test_the_first_assessment_is_an_initial_draft_by_whoever_starts_it(matron, patient, episode):
    result = services.assessment_start(
        by=matron,
        patient=patient,
        assessed_on=TODAY - dt.timedelta(days=1),
        setting=Assessment.Setting.HOME,
        people_present="  Her daughter  ",
    )

    assessment = result.assessment
    assert result.warnings == ()
    assert assessment.kind == Assessment.Kind.INITIAL
    assert assessment.previous is None
    assert assessment.status == Assessment.Status.DRAFT
    assert (assessment.assessor, assessment.created_by) == (matron, matron)
    assert assessment.assessed_on == TODAY - dt.timedelta(days=1)
    assert assessment.people_present == "Her daughter"
    assert (assessment.answers, assessment.version) == ({}, 1)


def test_the_date_defaults_to_today(matron, patient, episode):
    assert started(by=matron, patient=patient).assessed_on == TODAY


def test_a_reassessment_starts_from_the_latest_signed_answers_as_amended(
    matron, chair, patient, episode
):
    older = signed(by=matron, patient=patient, assessed_on=TODAY - dt.timedelta(days=120))
    latest = signed(by=matron, patient=patient, assessed_on=TODAY - dt.timedelta(days=60))
    services.assessment_amend(
        by=matron,
        assessment=latest,
        section="frailty",
        answers={"cfs": 7},
        reason="CFS recorded during a chest infection; judged again at 2 weeks",
    )
    started(by=chair, patient=patient)  # a draft is not a starting point

    again = started(by=chair, patient=patient)

    assert again.kind == Assessment.Kind.REASSESSMENT
    assert again.previous == latest != older
    assert again.answers["frailty"] == {"cfs": 7}
    assert again.answers["function"] == MARY_FUNCTION
    assert again.status == Assessment.Status.DRAFT
    latest.refresh_from_db()
    assert latest.answers["frailty"] == {"cfs": 6}  # the signed answers are untouched


def test_a_person_with_no_open_episode_is_assessed_with_a_warning(matron, patient):
    RegisterEntryFactory(patient=patient, status=RegisterEntry.Status.DISCHARGED)

    result = services.assessment_start(by=matron, patient=patient)

    assert result.assessment.pk
    assert len(result.warnings) == 1
    assert "no open referral or episode" in result.warnings[0]


def test_the_assessment_date_cannot_be_in_the_future(matron, patient, episode):
    with pytest.raises(ValidationError) as refused:
        started(by=matron, patient=patient, assessed_on=TODAY + dt.timedelta(days=1))

    assert refused.value.message_dict == {
        "assessed_on": ["The assessment date cannot be in the future"]
    }
    assert not Assessment.objects.exists()


def test_the_outsider_cannot_assess_someone_in_another_network(outsider, patient, episode):
    with pytest.raises(PermissionDenied):
        started(by=outsider, patient=patient)

    assert not Assessment.objects.exists()


# --- saving a section ----------------------------------------------------------------------


def test_saving_a_section_raises_the_version_and_keeps_the_other_sections(matron, patient, episode):
    assessment = started(by=matron, patient=patient)
    assessment = services.assessment_section_save(
        by=matron,
        assessment=assessment,
        section="frailty",
        answers={"cfs": 6},
        expected_version=1,
    )

    saved = services.assessment_section_save(
        by=matron,
        assessment=assessment,
        section="falls",
        answers={"fell_last_12_months": "yes"},  # partial answers are fine in a draft
        expected_version=2,
    )

    assert saved.version == 3
    assert saved.answers == {"frailty": {"cfs": 6}, "falls": {"fell_last_12_months": "yes"}}
    assert Assessment.objects.get(pk=assessment.pk).version == 3


def test_any_practitioner_of_the_network_may_add_to_a_draft(matron, navigator, patient, episode):
    assessment = started(by=matron, patient=patient)

    saved = services.assessment_section_save(
        by=navigator,
        assessment=assessment,
        section="social",
        answers={"lives_alone": "yes"},
        expected_version=1,
    )

    assert saved.answers["social"] == {"lives_alone": "yes"}


def test_a_save_based_on_a_stale_version_is_refused_naming_what_changed(
    matron, chair, patient, episode
):
    opened = started(by=matron, patient=patient)
    services.assessment_section_save(
        by=chair,
        assessment=opened,
        section="medicines",
        answers={"medicines_count": 11, "problems_taking": "yes"},
        expected_version=1,
    )

    with pytest.raises(services.StaleAssessment) as stale:
        services.assessment_section_save(
            by=matron,
            assessment=opened,
            section="medicines",
            answers={"medicines_count": 11, "concerns": "Too many tablets"},
            expected_version=1,
        )

    message = stale.value.messages[0]
    assert stale.value.changed == [
        "Concerns about medicines",
        "Any problems taking them (forgetting, swallowing, packaging)?",
    ]
    assert "Someone else saved this assessment at" in message
    assert "Concerns about medicines" in message
    assert "Your answers have not been saved" in message
    current = Assessment.objects.get(pk=opened.pk)
    assert current.version == 2
    assert current.answers == {"medicines": {"medicines_count": 11, "problems_taking": "yes"}}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_the_same_version_at_once_one_wins_one_is_told(
    matron, chair, patient, episode
):
    assessment = started(by=matron, patient=patient)
    both_loaded = threading.Barrier(2)
    saved, stale, failures = [], [], []

    def save(by, cfs):
        try:
            opened = Assessment.objects.get(pk=assessment.pk)
            both_loaded.wait(timeout=10)
            saved.append(
                services.assessment_section_save(
                    by=by,
                    assessment=opened,
                    section="frailty",
                    answers={"cfs": cfs},
                    expected_version=opened.version,
                )
            )
        except services.StaleAssessment as exc:
            stale.append(exc)
        except Exception as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(matron, 5)),
        threading.Thread(target=save, args=(chair, 6)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert (len(saved), len(stale)) == (1, 1)
    assert stale[0].changed == ["Clinical Frailty Scale"]
    current = Assessment.objects.get(pk=assessment.pk)
    assert current.version == 2
    assert current.answers == saved[0].answers


@pytest.mark.parametrize(
    ("section", "answers", "key"),
    [
        ("mood", {"phq9_1": 4}, "phq9_1"),
        ("mood", {"gad7_3": -1}, "gad7_3"),
        ("function", {"bathing": 2}, "bathing"),
        ("frailty", {"cfs": 10}, "cfs"),
        ("pain", {"pain_score": 11}, "pain_score"),
        ("falls", {"tug_seconds": "quick"}, "tug_seconds"),
    ],
)
def test_answers_outside_an_instruments_values_are_refused_and_nothing_is_saved(
    matron, patient, episode, section, answers, key
):
    assessment = started(by=matron, patient=patient)

    with pytest.raises(ValidationError) as refused:
        services.assessment_section_save(
            by=matron, assessment=assessment, section=section, answers=answers, expected_version=1
        )

    assert list(refused.value.message_dict) == [key]
    assessment.refresh_from_db()
    assert (assessment.version, assessment.answers) == (1, {})


def test_there_is_no_section_by_another_name(matron, patient, episode):
    assessment = started(by=matron, patient=patient)

    with pytest.raises(ValidationError, match="There is no section"):
        services.assessment_section_save(
            by=matron, assessment=assessment, section="scores", answers={}, expected_version=1
        )


def test_the_outsider_cannot_save_a_section(matron, outsider, patient, episode):
    assessment = started(by=matron, patient=patient)

    with pytest.raises(PermissionDenied):
        services.assessment_section_save(
            by=outsider,
            assessment=assessment,
            section="frailty",
            answers={"cfs": 3},
            expected_version=1,
        )


def test_a_signed_assessment_cannot_be_saved(matron, patient, episode):
    assessment = signed(by=matron, patient=patient)

    with pytest.raises(ValidationError, match="has been signed and cannot be changed") as refused:
        services.assessment_section_save(
            by=matron,
            assessment=assessment,
            section="frailty",
            answers={"cfs": 3},
            expected_version=assessment.version,
        )

    assert refused.value.code == "signed"
    assessment.refresh_from_db()
    assert assessment.answers["frailty"] == {"cfs": 6}


# --- the PHQ-9 item 9 alert ----------------------------------------------------------------


def _alerts():
    return Notification.objects.filter(kind=Notification.Kind.SELF_HARM_ALERT)


def _save_mood(by, assessment, item_9):
    return services.assessment_section_save(
        by=by,
        assessment=assessment,
        section="mood",
        answers={**MARY_MOOD, "phq9_9": item_9},
        expected_version=assessment.version,
    )


def test_item_9_above_zero_alerts_the_clinical_lead_and_navigator_urgently(
    matron, navigator, chair, patient, episode
):
    assessment = started(by=chair, patient=patient)

    _save_mood(chair, assessment, item_9=1)

    alerts = list(_alerts().order_by("recipient__username"))
    assert [alert.recipient for alert in alerts] == [matron, navigator]
    for alert in alerts:
        assert alert.urgent
        assert alert.patient_id == patient.pk
        assert alert.event_id == f"assessment:{assessment.pk}"
        assert alert.link == reverse("careplans:assessment", args=[assessment.pk])
        assert alert.sent_at is None  # the outbox sends it


def test_the_alert_is_raised_once_however_often_the_section_is_saved(matron, patient, episode):
    assessment = started(by=matron, patient=patient)

    assessment = _save_mood(matron, assessment, item_9=2)
    assessment = _save_mood(matron, assessment, item_9=3)

    assert _alerts().count() == 2  # the lead (who is also the assessor) and the navigator


def test_item_9_at_zero_raises_no_alert(matron, patient, episode):
    _save_mood(matron, started(by=matron, patient=patient), item_9=0)

    assert not _alerts().exists()


def test_without_a_lead_the_alert_goes_to_the_networks_navigators(
    matron, navigator, network_a, network_b, patient
):
    RegisterEntryFactory(patient=patient, status=RegisterEntry.Status.REFERRED)
    second_navigator = UserFactory(username="navigator2")
    MembershipFactory(user=second_navigator, network=network_a, role=Membership.Role.NAVIGATOR)
    elsewhere = UserFactory(username="south-navigator")
    MembershipFactory(user=elsewhere, network=network_b, role=Membership.Role.NAVIGATOR)

    _save_mood(matron, started(by=matron, patient=patient), item_9=1)

    assert set(_alerts().values_list("recipient__username", flat=True)) == {
        "navigator",
        "navigator2",
    }


def test_an_amendment_that_answers_item_9_above_zero_alerts_too(
    matron, navigator, patient, episode
):
    assessment = signed(by=matron, patient=patient)

    services.assessment_amend(
        by=matron,
        assessment=assessment,
        section="mood",
        answers={**MARY_MOOD, "phq9_9": 1},
        reason="She told the practice nurse the next day",
    )

    assert set(_alerts().values_list("recipient", flat=True)) == {matron.pk, navigator.pk}


# --- completing and signing ----------------------------------------------------------------


def test_only_the_assessor_can_sign(matron, chair, patient, episode):
    assessment = filled(by=matron, assessment=started(by=matron, patient=patient))

    with pytest.raises(PermissionDenied, match="Only the assessor"):
        services.assessment_complete(
            by=chair, assessment=assessment, expected_version=assessment.version
        )

    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.DRAFT


def test_signing_needs_every_mandatory_section_and_lists_those_missing(matron, patient, episode):
    answers = complete_answers()
    del answers["mood"]
    answers["function"].pop("stairs")  # one item short: in progress, not completed
    assessment = filled(by=matron, assessment=started(by=matron, patient=patient), answers=answers)

    with pytest.raises(ValidationError) as refused:
        services.assessment_complete(
            by=matron, assessment=assessment, expected_version=assessment.version
        )

    assert refused.value.code == "incomplete"
    assert refused.value.messages == [
        "Complete these sections before signing: Functional abilities (Barthel index); "
        "Memory and mood (PHQ-9, GAD-7)."
    ]
    assessment.refresh_from_db()
    assert (assessment.status, assessment.scores) == (Assessment.Status.DRAFT, {})


def test_the_optional_sections_are_not_needed_to_sign(matron, patient, episode):
    assert [section.key for section in SECTIONS if not section.mandatory] == [
        "continence",
        "nutrition",
        "pain",
        "behaviours",
    ]

    assert signed(by=matron, patient=patient).is_signed


def test_signing_freezes_the_scores_and_records_who_and_when(matron, patient, episode):
    assessment = filled(by=matron, assessment=started(by=matron, patient=patient))
    version = assessment.version

    signed_one = services.assessment_complete(
        by=matron, assessment=assessment, expected_version=version
    )

    stored = Assessment.objects.get(pk=assessment.pk)
    assert stored.status == Assessment.Status.COMPLETED
    assert stored.signed_by == matron
    assert stored.signed_at is not None
    assert stored.version == version + 1 == signed_one.version
    assert stored.scores["cfs"] == {
        "total": 6,
        "maximum": 9,
        "band": "Living with moderate frailty",
        "flags": [],
    }
    assert stored.scores["barthel"]["total"] == 14
    assert stored.scores["phq9"] == {"total": 8, "maximum": 27, "band": "mild", "flags": []}
    assert stored.scores["gad7"]["total"] == 6
    assert stored.scores["falls"]["flags"] == [
        "Timed Up and Go 19 s (over 12 s)",
        "2 falls in 12 months",
    ]


def test_an_amendment_does_not_change_the_scores_as_signed(matron, patient, episode):
    assessment = signed(by=matron, patient=patient)

    services.assessment_amend(
        by=matron,
        assessment=assessment,
        section="frailty",
        answers={"cfs": 7},
        reason="Judged again",
    )

    assessment.refresh_from_db()
    assert assessment.scores["cfs"]["total"] == 6
    assert assessment_scores(effective_answers(assessment))["cfs"].total == 7


def test_completing_twice_is_harmless(matron, chair, patient, episode):
    assessment = signed(by=matron, patient=patient)
    first = Assessment.objects.get(pk=assessment.pk)

    again = services.assessment_complete(by=matron, assessment=assessment, expected_version=1)
    by_someone_else = services.assessment_complete(
        by=chair, assessment=assessment, expected_version=first.version
    )

    for result in (again, by_someone_else):
        assert (result.version, result.signed_at, result.signed_by) == (
            first.version,
            first.signed_at,
            matron,
        )


def test_signing_a_stale_version_is_refused(matron, chair, patient, episode):
    assessment = filled(by=matron, assessment=started(by=matron, patient=patient))
    services.assessment_section_save(
        by=chair,
        assessment=assessment,
        section="pain",
        answers={"has_pain": "yes"},
        expected_version=assessment.version,
    )

    with pytest.raises(services.StaleAssessment):
        services.assessment_complete(
            by=matron, assessment=assessment, expected_version=assessment.version
        )

    assert not Assessment.objects.get(pk=assessment.pk).is_signed


# --- amending a signed assessment ----------------------------------------------------------


def test_an_amendment_needs_a_reason(matron, patient, episode):
    assessment = signed(by=matron, patient=patient)

    with pytest.raises(ValidationError) as refused:
        services.assessment_amend(
            by=matron, assessment=assessment, section="frailty", answers={"cfs": 7}, reason="  "
        )

    assert refused.value.message_dict == {"reason": ["Enter the reason for the amendment"]}
    assert not AssessmentAmendment.objects.exists()


def test_an_amendment_keeps_the_signed_answers_and_shows_in_the_effective_ones(
    matron, chair, patient, episode
):
    assessment = signed(by=matron, patient=patient)
    version = Assessment.objects.get(pk=assessment.pk).version

    first = services.assessment_amend(
        by=chair,
        assessment=assessment,
        section="medicines",
        answers={"medicines_count": 9, "last_review_on": "2025-01-10"},
        reason="  The pharmacist's review found 9 regular medicines  ",
    )
    second = services.assessment_amend(
        by=matron,
        assessment=assessment,
        section="medicines",
        answers={"medicines_count": 10, "last_review_on": "2025-01-10"},
        reason="One more started by the hospital",
    )

    stored = Assessment.objects.get(pk=assessment.pk)
    assert stored.answers["medicines"]["medicines_count"] == 11
    assert stored.version == version
    assert (first.before["medicines_count"], first.after["medicines_count"]) == (11, 9)
    assert (second.before["medicines_count"], second.after["medicines_count"]) == (9, 10)
    assert first.reason == "The pharmacist's review found 9 regular medicines"
    assert first.created_by == chair
    assert effective_answers(stored)["medicines"]["medicines_count"] == 10
    assert effective_answers(stored)["frailty"] == {"cfs": 6}


def test_a_draft_is_not_amended(matron, patient, episode):
    assessment = started(by=matron, patient=patient)

    with pytest.raises(ValidationError, match="amendments are for signed assessments"):
        services.assessment_amend(
            by=matron, assessment=assessment, section="frailty", answers={"cfs": 3}, reason="x"
        )


def test_an_amendment_gets_the_same_checks_as_a_section(matron, patient, episode):
    assessment = signed(by=matron, patient=patient)

    with pytest.raises(ValidationError) as refused:
        services.assessment_amend(
            by=matron, assessment=assessment, section="frailty", answers={"cfs": 0}, reason="x"
        )

    assert list(refused.value.message_dict) == ["cfs"]


def test_the_outsider_cannot_amend(matron, outsider, patient, episode):
    assessment = signed(by=matron, patient=patient)

    with pytest.raises(PermissionDenied):
        services.assessment_amend(
            by=outsider, assessment=assessment, section="frailty", answers={"cfs": 3}, reason="x"
        )


def test_amendments_are_append_only(matron, patient, episode):
    assessment = signed(by=matron, patient=patient)
    services.assessment_amend(
        by=matron, assessment=assessment, section="frailty", answers={"cfs": 7}, reason="x"
    )

    with pytest.raises(PermissionError):
        AssessmentAmendment.objects.update(reason="changed")
    with pytest.raises(PermissionError):
        AssessmentAmendment.objects.filter(assessment=assessment).delete()
    assert AssessmentAmendment.objects.get().reason == "x"


def test_an_amendment_cannot_be_changed_or_deleted_through_the_instance(matron, patient, episode):
    assessment = signed(by=matron, patient=patient)
    amendment = services.assessment_amend(
        by=matron, assessment=assessment, section="frailty", answers={"cfs": 7}, reason="x"
    )

    amendment.reason = "rewritten"
    with pytest.raises(PermissionError):
        amendment.save()
    with pytest.raises(PermissionError):
        amendment.delete()
    assert AssessmentAmendment.objects.filter(reason="x").exists()


# --- the change history --------------------------------------------------------------------


def test_every_write_to_an_assessment_is_in_its_change_history(matron, patient, episode):
    with audit_context(actor=matron, source="web"):
        assessment = started(by=matron, patient=patient)
        assessment = services.assessment_section_save(
            by=matron,
            assessment=assessment,
            section="frailty",
            answers={"cfs": 6},
            expected_version=1,
        )
        assessment = filled(by=matron, assessment=assessment)
        services.assessment_complete(
            by=matron, assessment=assessment, expected_version=assessment.version
        )

    history = list(change_history(instance=assessment))
    assert [event.operation for event in history] == ["insert"] + ["update"] * 10
    assert {event.actor for event in history} == {matron}
    first_save = history[1]
    assert (first_save.before["version"], first_save.after["version"]) == (1, 2)
    assert "answers" in first_save.after
    signing = history[-1]
    assert (signing.before["status"], signing.after["status"]) == ("draft", "completed")
    assert "scores" in signing.after
