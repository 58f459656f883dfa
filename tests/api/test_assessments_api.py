"""The assessments API: started, saved section by section against a version,
signed and amended through the services; read through the gate with its
answers as amended and its scores computed (never written); the outsider
gets 404, and every read writes one access event."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from careplans import services
from careplans.models import Assessment, AssessmentAmendment
from mdtcare.audit.models import AccessEvent
from mdtcare.notifications.models import Notification
from patients.models import RegisterEntry
from tests.careplans.test_assessment_services import complete_answers, filled, signed, started
from tests.careplans.test_scoring import MARY_MOOD
from tests.factories import PatientFactory
from tests.patients.factories_register import RegisterEntryFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def patient(practice_a, matron, navigator):
    person = PatientFactory(practice=practice_a, given_name="Mary", family_name="Okafor")
    RegisterEntryFactory(
        patient=person,
        status=RegisterEntry.Status.ACTIVE,
        clinical_lead=matron,
        navigator=navigator,
    )
    return person


def _url(name, assessment, *args):
    return reverse(f"assessment-{name}", args=[assessment.pk, *args])


def _save(api, assessment, section, answers, version):
    return api.post(
        _url("section", assessment, section),
        {"answers": answers, "version": version},
        format="json",
    )


# --- starting ------------------------------------------------------------------------------


def test_an_assessment_is_started_and_reads_back(api, matron, patient):
    api.force_authenticate(matron)
    sent = {
        "patient": str(patient.pk),
        "assessed_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        "setting": "home",
        "people_present": "Her daughter",
    }

    created = api.post(reverse("assessment-list"), sent, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    for key, value in sent.items():
        assert body[key] == value
    assessment = Assessment.objects.get()
    assert body["id"] == str(assessment.pk)
    assert (body["kind"], body["status"], body["version"]) == ("initial", "draft", 1)
    assert (body["assessor"], body["previous"], body["signed_by"]) == (str(matron.pk), None, None)
    assert body["answers"] == {}
    assert body["amendments"] == []
    assert body["warnings"] == []
    assert body["changes"] is None
    assert body["scores"]["barthel"] == {
        "total": None,
        "maximum": 20,
        "band": "",
        "flags": [],
        "complete": False,
    }
    read = api.get(reverse("assessment-detail", args=[assessment.pk])).json()
    assert {key: read[key] for key in sent} == sent


def test_the_date_defaults_to_today(api, matron, patient):
    api.force_authenticate(matron)

    created = api.post(reverse("assessment-list"), {"patient": str(patient.pk)}, format="json")

    assert created.json()["assessed_on"] == TODAY.isoformat()
    assert created.json()["setting"] == "home"


def test_starting_for_someone_with_no_open_episode_warns(api, matron, practice_a):
    person = PatientFactory(practice=practice_a)
    api.force_authenticate(matron)

    created = api.post(reverse("assessment-list"), {"patient": str(person.pk)}, format="json")

    assert created.status_code == 201
    assert "no open referral or episode" in created.json()["warnings"][0]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"assessed_on": "2999-01-01"}, "assessed_on", "cannot be in the future"),
        ({"setting": "garden"}, "setting", "is not a valid choice"),
        ({"people_present": "x" * 301}, "people_present", "no more than 300 characters"),
    ],
)
def test_starting_with_bad_details_is_refused_naming_the_field(
    api, matron, patient, change, field, message
):
    api.force_authenticate(matron)

    response = api.post(
        reverse("assessment-list"), {"patient": str(patient.pk), **change}, format="json"
    )

    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Assessment.objects.exists()


def test_a_reassessment_starts_from_the_signed_answers_and_shows_the_changes(api, matron, patient):
    first = signed(by=matron, patient=patient, assessed_on=TODAY - dt.timedelta(days=60))
    api.force_authenticate(matron)

    created = api.post(reverse("assessment-list"), {"patient": str(patient.pk)}, format="json")
    again = Assessment.objects.get(pk=created.json()["id"])
    saved = _save(
        api,
        again,
        "function",
        {**complete_answers()["function"], "mobility": 1, "transfer": 1},
        version=1,
    )

    body = created.json()
    assert (body["kind"], body["previous"]) == ("reassessment", str(first.pk))
    assert body["answers"] == first.answers
    assert {change["key"]: change["change"] for change in body["changes"]}["barthel"] == 0
    barthel = next(change for change in saved.json()["changes"] if change["key"] == "barthel")
    assert barthel == {
        "key": "barthel",
        "name": "Barthel index",
        "previous": {
            "total": 14,
            "maximum": 20,
            "band": "moderate dependency",
            "flags": [],
            "complete": True,
        },
        "current": {
            "total": 12,
            "maximum": 20,
            "band": "moderate dependency",
            "flags": [],
            "complete": True,
        },
        "change": -2,
    }


# --- saving sections -----------------------------------------------------------------------


def test_a_section_is_saved_against_its_version_as_the_form_would_store_it(api, matron, patient):
    assessment = started(by=matron, patient=patient)
    api.force_authenticate(matron)

    falls = _save(
        api,
        assessment,
        "falls",
        {"fell_last_12_months": "yes", "falls_count": "2", "tug_seconds": 19, "falls_notes": ""},
        version=1,
    )
    matters = _save(
        api,
        assessment,
        "what_matters",
        {"i_statements": ["I want to stay in my own home", " ", "I want to get to church"]},
        version=2,
    )

    assert falls.status_code == 200, falls.json()
    assert falls.json()["version"] == 2
    assert falls.json()["answers"]["falls"] == {
        "fell_last_12_months": "yes",
        "falls_count": 2,
        "tug_seconds": "19",
    }
    assert falls.json()["scores"]["falls"]["flags"] == [
        "Timed Up and Go 19 s (over 12 s)",
        "2 falls in 12 months",
    ]
    assert matters.json()["answers"]["what_matters"] == {
        "i_statements": ["I want to stay in my own home", "I want to get to church"]
    }
    assert Assessment.objects.get().version == 3


def test_a_whole_assessment_scores_as_the_worked_example(api, matron, patient):
    assessment = started(by=matron, patient=patient)
    api.force_authenticate(matron)

    for version, (section, answers) in enumerate(complete_answers().items(), start=1):
        response = _save(api, assessment, section, answers, version)
        assert response.status_code == 200, response.json()

    scores = response.json()["scores"]
    assert {key: (score["total"], score["band"]) for key, score in scores.items()} == {
        "cfs": (6, "Living with moderate frailty"),
        "barthel": (14, "moderate dependency"),
        "phq9": (8, "mild"),
        "phq2": (2, "negative screen"),
        "gad7": (6, "mild"),
        "gad2": (2, "negative screen"),
        "falls": (2, "fallen"),
    }


@pytest.mark.parametrize(
    ("section", "answers", "item", "message"),
    [
        ("mood", {"phq9_9": 4}, "phq9_9", "4 is not one of the available choices"),
        ("function", {"bathing": 2}, "bathing", "2 is not one of the available choices"),
        ("frailty", {"cfs": 0}, "cfs", "0 is not one of the available choices"),
        ("pain", {"pain_score": 11}, "pain_score", "less than or equal to 10"),
        ("frailty", {"barthel": 20}, "barthel", "not a question of this section"),
    ],
)
def test_answers_outside_the_published_values_are_refused_naming_the_item(
    api, matron, patient, section, answers, item, message
):
    assessment = started(by=matron, patient=patient)
    api.force_authenticate(matron)

    response = _save(api, assessment, section, answers, version=1)

    assert response.status_code == 400
    assert list(response.json()) == ["answers"]
    assert message in response.json()["answers"][item][0]
    assessment.refresh_from_db()
    assert (assessment.version, assessment.answers) == (1, {})


def test_a_section_needs_a_version_and_an_object_of_answers(api, matron, patient):
    assessment = started(by=matron, patient=patient)
    api.force_authenticate(matron)

    response = api.post(_url("section", assessment, "mood"), {"answers": [1, 2]}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"answers", "version"}


def test_a_stale_version_is_a_conflict_naming_what_changed(api, matron, chair, patient):
    assessment = started(by=matron, patient=patient)
    api.force_authenticate(chair)
    _save(api, assessment, "pain", {"has_pain": "yes", "pain_score": 6}, version=1)
    api.force_authenticate(matron)

    response = _save(api, assessment, "pain", {"has_pain": "no"}, version=1)

    assert response.status_code == 409
    body = response.json()
    assert "Someone else saved this assessment" in body["detail"]
    assert body["changed"] == ["Any pain most days?", "How bad is it, from 0 (none) to 10 (worst)?"]
    assert body["version"] == 2
    assert Assessment.objects.get().answers == {"pain": {"has_pain": "yes", "pain_score": 6}}


def test_there_is_no_section_by_another_name(api, matron, patient):
    assessment = started(by=matron, patient=patient)
    api.force_authenticate(matron)

    response = _save(api, assessment, "scores", {"cfs": 1}, version=1)

    assert response.status_code == 404
    assert "There is no section" in response.json()["detail"]


def test_phq9_item_9_above_zero_through_the_api_alerts_the_lead_and_navigator(
    api, chair, matron, navigator, patient
):
    assessment = started(by=chair, patient=patient)
    api.force_authenticate(chair)

    _save(api, assessment, "mood", {**MARY_MOOD, "phq9_9": 1}, version=1)
    _save(api, assessment, "mood", {**MARY_MOOD, "phq9_9": 2}, version=2)

    alerts = Notification.objects.filter(kind=Notification.Kind.SELF_HARM_ALERT)
    assert set(alerts.values_list("recipient", flat=True)) == {matron.pk, navigator.pk}
    assert all(alert.urgent for alert in alerts)


# --- signing -------------------------------------------------------------------------------


def test_the_assessor_signs_and_a_second_complete_changes_nothing(api, matron, patient):
    assessment = filled(by=matron, assessment=started(by=matron, patient=patient))
    api.force_authenticate(matron)

    first = api.post(_url("complete", assessment), {"version": assessment.version}, format="json")
    second = api.post(_url("complete", assessment), {"version": assessment.version}, format="json")

    assert first.status_code == 200, first.json()
    body = first.json()
    assert (body["status"], body["signed_by"]) == ("completed", str(matron.pk))
    assert body["version"] == assessment.version + 1
    assert body["scores"]["barthel"]["total"] == 14
    assert second.status_code == 200
    assert (second.json()["signed_at"], second.json()["version"]) == (
        body["signed_at"],
        body["version"],
    )
    stored = Assessment.objects.get()
    assert stored.scores["phq9"]["total"] == 8


def test_only_the_assessor_signs(api, matron, chair, patient):
    assessment = filled(by=matron, assessment=started(by=matron, patient=patient))
    api.force_authenticate(chair)

    response = api.post(
        _url("complete", assessment), {"version": assessment.version}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Only the assessor can sign this assessment."}
    assert not Assessment.objects.get().is_signed


def test_signing_with_mandatory_sections_missing_is_refused_listing_them(api, matron, patient):
    answers = complete_answers()
    del answers["social"]
    assessment = filled(by=matron, assessment=started(by=matron, patient=patient), answers=answers)
    api.force_authenticate(matron)

    response = api.post(
        _url("complete", assessment), {"version": assessment.version}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": [
            "Complete these sections before signing: Social situation, carer and carer strain."
        ]
    }


def test_signing_a_stale_version_is_a_conflict(api, matron, patient):
    assessment = filled(by=matron, assessment=started(by=matron, patient=patient))
    api.force_authenticate(matron)

    response = api.post(_url("complete", assessment), {"version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["version"] == assessment.version


def test_a_signed_assessment_cannot_be_changed_only_amended(api, matron, patient):
    assessment = signed(by=matron, patient=patient)
    version = Assessment.objects.get().version
    api.force_authenticate(matron)

    changed = _save(api, assessment, "frailty", {"cfs": 3}, version=version)
    amended = api.post(
        _url("amend", assessment),
        {"section": "frailty", "answers": {"cfs": 5}, "reason": "Judged again at 2 weeks"},
        format="json",
    )

    assert changed.status_code == 400
    assert "has been signed and cannot be changed" in changed.json()["detail"][0]
    assert amended.status_code == 200, amended.json()
    body = amended.json()
    assert body["answers"]["frailty"] == {"cfs": 5}
    assert body["scores"]["cfs"]["total"] == 5
    [amendment] = body["amendments"]
    assert amendment["section"] == "frailty"
    assert amendment["reason"] == "Judged again at 2 weeks"
    assert amendment["by"] == str(matron.pk)
    assert (amendment["before"], amendment["after"]) == ({"cfs": 6}, {"cfs": 5})
    stored = Assessment.objects.get()
    assert stored.answers["frailty"] == {"cfs": 6}  # as signed
    assert stored.scores["cfs"]["total"] == 6  # frozen when signed
    assert stored.version == version


def test_an_amendment_needs_a_reason_and_a_signed_assessment(api, matron, patient):
    draft = started(by=matron, patient=patient, assessed_on=TODAY - dt.timedelta(days=1))
    api.force_authenticate(matron)
    assessment = signed(by=matron, patient=PatientFactory(practice=patient.practice))

    no_reason = api.post(
        _url("amend", assessment),
        {"section": "frailty", "answers": {"cfs": 5}},
        format="json",
    )
    not_signed = api.post(
        _url("amend", draft),
        {"section": "frailty", "answers": {"cfs": 5}, "reason": "x"},
        format="json",
    )
    bad_answer = api.post(
        _url("amend", assessment),
        {"section": "frailty", "answers": {"cfs": 10}, "reason": "x"},
        format="json",
    )

    assert no_reason.status_code == 400
    assert no_reason.json() == {"reason": ["Enter the reason for the amendment"]}
    assert not_signed.status_code == 400
    assert "amendments are for signed assessments" in not_signed.json()["detail"][0]
    assert bad_answer.status_code == 400
    assert "cfs" in bad_answer.json()["answers"]
    assert not AssessmentAmendment.objects.exists()


def test_scores_can_never_be_written(api, matron, patient):
    fake = {"barthel": {"total": 20, "maximum": 20, "band": "independent"}}
    api.force_authenticate(matron)

    created = api.post(
        reverse("assessment-list"),
        {"patient": str(patient.pk), "scores": fake, "status": "completed", "version": 9},
        format="json",
    )
    assessment = Assessment.objects.get()
    in_answers = _save(api, assessment, "function", {"scores": fake}, version=1)
    assessment = filled(by=matron, assessment=assessment)
    signed_response = api.post(
        _url("complete", assessment),
        {"version": assessment.version, "scores": fake},
        format="json",
    )

    assert created.status_code == 201
    assert (created.json()["status"], created.json()["version"]) == ("draft", 1)
    assert created.json()["scores"]["barthel"]["total"] is None
    assert in_answers.status_code == 400
    assert signed_response.json()["scores"]["barthel"]["total"] == 14
    assert Assessment.objects.get().scores["barthel"]["total"] == 14


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_an_assessment_is_never_replaced_edited_or_deleted_directly(api, matron, patient, method):
    assessment = started(by=matron, patient=patient)
    api.force_authenticate(matron)

    response = getattr(api, method)(
        reverse("assessment-detail", args=[assessment.pk]), {"status": "completed"}, format="json"
    )

    assert response.status_code == 405
    assert Assessment.objects.get().status == "draft"


# --- the gate ------------------------------------------------------------------------------


def test_the_outsider_gets_404_on_read_and_every_action(api, matron, outsider, patient):
    draft = started(by=matron, patient=patient)
    done = signed(by=matron, patient=PatientFactory(practice=patient.practice))
    api.force_authenticate(outsider)

    responses = {
        "read": api.get(reverse("assessment-detail", args=[draft.pk])),
        "section": _save(api, draft, "frailty", {"cfs": 3}, version=1),
        "complete": api.post(_url("complete", draft), {"version": 1}, format="json"),
        "amend": api.post(
            _url("amend", done),
            {"section": "frailty", "answers": {"cfs": 3}, "reason": "x"},
            format="json",
        ),
    }
    listed = api.get(reverse("assessment-list"))
    by_patient = api.get(reverse("assessment-list"), {"patient": str(patient.pk)})
    start = api.post(reverse("assessment-list"), {"patient": str(patient.pk)}, format="json")

    assert {name: response.status_code for name, response in responses.items()} == {
        "read": 404,
        "section": 404,
        "complete": 404,
        "amend": 404,
    }
    assert listed.json()["results"] == []
    assert by_patient.json()["results"] == []
    # The patient is a field of the body: the same answer as for an unknown id.
    assert start.status_code == 400
    assert "patient" in start.json()
    assert Assessment.objects.count() == 2
    assert Assessment.objects.get(pk=draft.pk).answers == {}
    assert not AssessmentAmendment.objects.exists()
    assert (
        not AccessEvent.objects.filter(what__startswith="api.assessments.")
        .exclude(what="api.assessments.list")
        .exists()
    )


@pytest.mark.parametrize(
    ("method", "name", "needs_id"),
    [
        ("get", "list", False),
        ("post", "list", False),
        ("get", "detail", True),
        ("post", "section", True),
        ("post", "complete", True),
        ("post", "amend", True),
    ],
)
def test_anonymous_requests_are_refused(api, matron, patient, method, name, needs_id):
    assessment = started(by=matron, patient=patient)
    args = [assessment.pk] if needs_id else []
    if name == "section":
        args.append("frailty")

    response = getattr(api, method)(reverse(f"assessment-{name}", args=args), {}, format="json")

    assert response.status_code in (401, 403)
    assert response.json() == {"detail": "Authentication credentials were not provided."}


# --- lists, filters and the audit ----------------------------------------------------------


def test_the_list_filters_by_patient_and_status(api, matron, patient, practice_a):
    other = PatientFactory(practice=practice_a)
    signed_one = signed(by=matron, patient=patient, assessed_on=TODAY - dt.timedelta(days=30))
    draft = started(by=matron, patient=patient)
    elsewhere = started(by=matron, patient=other)
    api.force_authenticate(matron)

    def ids(**query):
        return [row["id"] for row in api.get(reverse("assessment-list"), query).json()["results"]]

    # Latest first; on the same day, the latest started first.
    assert ids() == [str(elsewhere.pk), str(draft.pk), str(signed_one.pk)]
    assert set(ids(patient=str(patient.pk))) == {str(draft.pk), str(signed_one.pk)}
    assert ids(patient=str(patient.pk), status="completed") == [str(signed_one.pk)]
    assert set(ids(status="draft")) == {str(draft.pk), str(elsewhere.pk)}
    assert ids(kind="reassessment") == [str(draft.pk)]
    assert ids(patient="8a7b4f4e-0000-4000-8000-000000000000") == []


def test_every_read_writes_one_access_event_naming_the_patients(
    api, navigator, matron, patient, practice_a
):
    other = PatientFactory(practice=practice_a)
    assessment = started(by=matron, patient=patient)
    started(by=matron, patient=other)
    api.force_authenticate(navigator)

    api.get(reverse("assessment-list"))
    api.get(reverse("assessment-detail", args=[assessment.pk]))
    _save(api, assessment, "frailty", {"cfs": 5}, version=1)

    events = list(AccessEvent.objects.order_by("at", "id"))
    assert [event.what for event in events] == [
        "api.assessments.list",
        "api.assessments.read",
        "api.assessments.section",
    ]
    assert set(events[0].patients.values_list("patient_id", flat=True)) == {patient.pk, other.pk}
    for event in events[1:]:
        assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]
        assert event.reason == "member of North as Care navigator"


def test_starting_signing_and_amending_are_each_one_access_event(api, matron, patient):
    api.force_authenticate(matron)

    created = api.post(reverse("assessment-list"), {"patient": str(patient.pk)}, format="json")
    assessment = filled(by=matron, assessment=Assessment.objects.get(pk=created.json()["id"]))
    api.post(_url("complete", assessment), {"version": assessment.version}, format="json")
    api.post(
        _url("amend", assessment),
        {"section": "frailty", "answers": {"cfs": 5}, "reason": "x"},
        format="json",
    )

    assert list(AccessEvent.objects.order_by("at", "id").values_list("what", flat=True)) == [
        "api.assessments.start",
        "api.assessments.complete",
        "api.assessments.amend",
    ]


@pytest.mark.parametrize("rows", [1, 50])
def test_assessments_list_query_count_is_pinned(
    api, matron, navigator, practice_a, rows, django_assert_num_queries
):
    for person in PatientFactory.create_batch(rows, practice=practice_a):
        first = signed(by=matron, patient=person, assessed_on=TODAY - dt.timedelta(days=50))
        services.assessment_amend(
            by=matron, assessment=first, section="frailty", answers={"cfs": 7}, reason="x"
        )
        started(by=matron, patient=person)  # a re-assessment of it
    api.force_authenticate(navigator)

    # count, page (with patient, practice and previous), amendments, the
    # previous assessments' amendments, memberships, access event + patients (4)
    with django_assert_num_queries(9):
        response = api.get(reverse("assessment-list"))
    assert len(response.json()["results"]) == min(2 * rows, 25)
