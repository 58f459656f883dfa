"""The FHIR R4 export of a care plan: a Bundle that HL7's R4 JSON schema
accepts, whose codes are in the R4 value sets, whose every reference
resolves inside the bundle, with the NHS number as the Patient's
identifier; for a plan in every status. And its endpoint."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft6Validator
from referencing import Registry
from referencing.jsonschema import DRAFT6
from rest_framework.test import APIClient

from careplans import plans
from careplans.fhir import careplan_bundle
from careplans.models import CarePlan, CarePlanGoal
from careplans.plan_selectors import plan_get_for_user
from mdtcare.accounts.models import Membership, Organisation
from mdtcare.audit.models import AccessEvent
from patients.models import Patient, RegisterEntry
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.factories_register import RegisterEntryFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()

# HL7's FHIR R4 JSON schema (tests/fhir_schema/README.md), loaded once. A
# Bundle is checked against its definition; the schema's own "#/definitions/…"
# references resolve against its id through the registry.
_SCHEMA = json.loads((Path(__file__).parents[1] / "fhir_schema" / "fhir.schema.json").read_text())
_REGISTRY = Registry().with_resource(_SCHEMA["id"], DRAFT6.create_resource(_SCHEMA))
BUNDLE_VALIDATOR = Draft6Validator(
    {"$ref": f"{_SCHEMA['id']}#/definitions/Bundle"}, registry=_REGISTRY
)

# The R4 value sets the codes must come from (hl7.org/fhir/R4/valueset-*.html).
REQUEST_STATUS = {
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
}
CARE_PLAN_INTENT = {"proposal", "plan", "order", "option"}
GOAL_STATUS = {
    "proposed",
    "planned",
    "accepted",
    "active",
    "on-hold",
    "completed",
    "cancelled",
    "entered-in-error",
    "rejected",
}
GOAL_ACHIEVEMENT = {
    "in-progress",
    "improving",
    "worsening",
    "no-change",
    "achieved",
    "sustaining",
    "not-achieved",
    "no-progress",
    "not-attainable",
}
TASK_STATUS = {
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
}
TASK_INTENT = {
    "unknown",
    "proposal",
    "plan",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
}
CARE_TEAM_STATUS = {"proposed", "active", "suspended", "inactive", "entered-in-error"}
ADMINISTRATIVE_GENDER = {"male", "female", "other", "unknown"}
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"

STATUSES = ["draft", "proposed", "ratified", "shared", "superseded", "closed"]


@pytest.fixture
def team(network_a):
    """The providers of the support agreed: a practitioner and a voluntary
    organisation."""
    ot = UserFactory(
        username="ot", first_name="Olu", last_name="Tade", profession="occupational_therapist"
    )
    MembershipFactory(user=ot, network=network_a, role=Membership.Role.MEMBER)
    age_well = Organisation.objects.create(
        name="Northshire Age Well", type=Organisation.Type.VOLUNTARY_ORGANISATION
    )
    return ot, age_well


@pytest.fixture
def episode(practice_a, matron, navigator):
    patient = PatientFactory(
        practice=practice_a,
        title="Mrs",
        given_name="Mary",
        family_name="Okafor",
        date_of_birth=dt.date(1941, 3, 2),
        sex=Patient.Sex.FEMALE,
        postcode="LS6 2QA",
    )
    return RegisterEntryFactory(
        patient=patient,
        status=RegisterEntry.Status.ACTIVE,
        clinical_lead=matron,
        navigator=navigator,
        primary_need=RegisterEntry.PrimaryNeed.FRAILTY,
    )


def _mary_draft(matron, episode, team) -> CarePlan:
    ot, age_well = team
    plan = plans.plan_create(by=matron, patient=episode.patient)
    plan = plans.plan_update(
        by=matron,
        plan=plan,
        expected_revision=plan.revision,
        self_management="Inhalers as the practice nurse showed; weigh each morning",
        contingency="Start the rescue pack; then the community rapid-response team; then 111",
    ).plan
    for words, support, provider in [
        ("I want to stay in my own home", "OT home assessment and grab rails", {"provider": ot}),
        (
            "I want to get to church on Sundays",
            "Befriending and transport",
            {"provider_organisation": age_well, "provider_name": "Befriending service"},
        ),
        ("I don't want to keep going back into hospital", "", {}),
    ]:
        plans.goal_save(
            by=matron,
            plan=plan,
            expected_revision=plan.revision,
            what_matters=words,
            support_agreed=support,
            target_on=TODAY + dt.timedelta(days=20),
            **provider,
        )
    plans.team_member_add(
        by=matron,
        plan=plan,
        expected_revision=plan.revision,
        role_in_plan="Befriending and transport",
        organisation=age_well,
    )
    plans.team_member_add(
        by=matron,
        plan=plan,
        expected_revision=plan.revision,
        role_in_plan="Main carer",
        name="Her daughter",
    )
    return plan


def plan_in(status, *, matron, chair, episode, team) -> CarePlan:
    """Mary's plan, taken through the services to ``status``."""
    plan = _mary_draft(matron, episode, team)
    if status == "draft":
        return plan
    plan = plans.plan_propose(by=matron, plan=plan)
    if status == "proposed":
        return plan
    plan = plans.plan_ratify(by=chair, plan=plan, note="Agreed at the MDT")
    if status == "ratified":
        return plan
    plan = plans.plan_share(by=matron, plan=plan, shared_on=TODAY, how="in_person")
    if status == "superseded":
        newer = plans.plan_new_version(by=matron, plan=plan)
        plans.plan_ratify(by=chair, plan=plans.plan_propose(by=matron, plan=newer))
    if status == "closed":
        # No service closes a plan yet: an episode's end would.
        CarePlan.objects.filter(pk=plan.pk).update(status=CarePlan.Status.CLOSED)
    return plan


def export(plan, user) -> dict:
    return careplan_bundle(plan_get_for_user(user=user, plan_id=plan.pk))


def resources(bundle, kind) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _references(value):
    """Every ``reference`` string anywhere in the bundle."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


# --- valid FHIR, for a plan in every status --------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_the_bundle_is_valid_fhir_r4_for_a_plan_in_every_status(
    matron, chair, episode, team, status
):
    plan = plan_in(status, matron=matron, chair=chair, episode=episode, team=team)

    bundle = export(plan, matron)

    errors = sorted(BUNDLE_VALIDATOR.iter_errors(bundle), key=lambda e: list(e.absolute_path))
    assert not errors, [(list(e.absolute_path), e.message[:200]) for e in errors[:5]]
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    assert sorted(e["resource"]["resourceType"] for e in bundle["entry"]) == [
        "CarePlan",
        "CareTeam",
        "Goal",
        "Goal",
        "Goal",
        "Patient",
        "Task",
        "Task",  # the third goal has no support agreed yet
    ]
    [care_plan] = resources(bundle, "CarePlan")
    assert care_plan["status"] in REQUEST_STATUS
    assert care_plan["intent"] in CARE_PLAN_INTENT
    [care_team] = resources(bundle, "CareTeam")
    assert care_team["status"] in CARE_TEAM_STATUS
    for goal in resources(bundle, "Goal"):
        assert goal["lifecycleStatus"] in GOAL_STATUS
        for coding in goal.get("achievementStatus", {}).get("coding", []):
            assert coding["system"] == "http://terminology.hl7.org/CodeSystem/goal-achievement"
            assert coding["code"] in GOAL_ACHIEVEMENT
    for task in resources(bundle, "Task"):
        assert task["status"] in TASK_STATUS
        assert task["intent"] in TASK_INTENT
    [patient] = resources(bundle, "Patient")
    assert patient["gender"] in ADMINISTRATIVE_GENDER


@pytest.mark.parametrize("status", STATUSES)
def test_every_reference_resolves_to_an_entry_of_the_bundle(matron, chair, episode, team, status):
    plan = plan_in(status, matron=matron, chair=chair, episode=episode, team=team)

    bundle = export(plan, matron)

    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    references = list(_references(bundle))
    assert len(references) >= 15
    assert set(references) <= set(full_urls)
    # Each typed reference names the type of the resource it resolves to.
    types = {entry["fullUrl"]: entry["resource"]["resourceType"] for entry in bundle["entry"]}

    def typed(value):
        if isinstance(value, dict):
            if isinstance(value.get("reference"), str) and "type" in value:
                yield value
            for item in value.values():
                yield from typed(item)
        elif isinstance(value, list):
            for item in value:
                yield from typed(item)

    for reference in typed(bundle):
        assert types[reference["reference"]] == reference["type"]


def test_a_schema_violation_would_be_caught():
    """The validator really checks: a Bundle with a wrong type and a Patient
    with an unknown property are refused."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Patient", "id": "x"}}],
    }
    assert BUNDLE_VALIDATOR.is_valid(bundle)
    wrong_type = copy.deepcopy(bundle) | {"type": "pile"}
    unknown = copy.deepcopy(bundle)
    unknown["entry"][0]["resource"]["nhsNumber"] = "9434765919"

    assert not BUNDLE_VALIDATOR.is_valid(wrong_type)
    assert not BUNDLE_VALIDATOR.is_valid(unknown)


# --- what each resource says -----------------------------------------------------------------


def test_the_patient_is_identified_by_nhs_number_with_name_birth_date_and_practice(
    matron, chair, episode, team, practice_a
):
    plan = plan_in("draft", matron=matron, chair=chair, episode=episode, team=team)

    [patient] = resources(export(plan, matron), "Patient")

    person = episode.patient
    assert patient["id"] == str(person.pk)
    assert patient["identifier"] == [{"system": NHS_NUMBER_SYSTEM, "value": person.nhs_number}]
    assert patient["name"] == [
        {"use": "official", "family": "Okafor", "given": ["Mary"], "prefix": ["Mrs"]}
    ]
    assert (patient["birthDate"], patient["gender"]) == ("1941-03-02", "female")
    assert patient["address"] == [{"use": "home", "postalCode": "LS6 2QA"}]
    assert patient["generalPractitioner"] == [
        {
            "display": practice_a.name,
            "identifier": {
                "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                "value": practice_a.ods_code,
            },
        }
    ]
    assert "deceasedDateTime" not in patient


@pytest.mark.parametrize(
    ("sex", "gender"),
    [("female", "female"), ("male", "male"), ("indeterminate", "other"), ("not_known", "unknown")],
)
def test_sex_is_mapped_to_the_administrative_gender(matron, chair, episode, team, sex, gender):
    Patient.objects.filter(pk=episode.patient_id).update(
        sex=sex, title="", date_of_death=TODAY - dt.timedelta(days=1)
    )
    plan = plan_in("draft", matron=matron, chair=chair, episode=episode, team=team)

    [patient] = resources(export(plan, matron), "Patient")

    assert patient["gender"] == gender
    assert patient["name"] == [{"use": "official", "family": "Okafor", "given": ["Mary"]}]
    assert patient["deceasedDateTime"] == (TODAY - dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("status", "fhir_status", "team_status"),
    [
        ("draft", "draft", "proposed"),
        ("proposed", "draft", "proposed"),
        ("ratified", "active", "active"),
        ("shared", "active", "active"),
        ("superseded", "revoked", "inactive"),
        ("closed", "completed", "inactive"),
    ],
)
def test_the_plans_status_is_mapped(matron, chair, episode, team, status, fhir_status, team_status):
    plan = plan_in(status, matron=matron, chair=chair, episode=episode, team=team)

    bundle = export(plan, matron)

    [care_plan] = resources(bundle, "CarePlan")
    [care_team] = resources(bundle, "CareTeam")
    assert CarePlan.objects.get(pk=plan.pk).status == status
    assert (care_plan["status"], care_team["status"]) == (fhir_status, team_status)


def test_the_careplan_links_the_person_team_goals_and_tasks_with_its_notes(
    matron, chair, episode, team
):
    plan = plan_in("shared", matron=matron, chair=chair, episode=episode, team=team)

    bundle = export(plan, matron)

    [care_plan] = resources(bundle, "CarePlan")
    [patient] = resources(bundle, "Patient")
    [care_team] = resources(bundle, "CareTeam")
    goals, tasks = resources(bundle, "Goal"), resources(bundle, "Task")
    assert care_plan["id"] == str(plan.pk)
    assert care_plan["intent"] == "plan"
    assert care_plan["subject"] == {"reference": f"urn:uuid:{patient['id']}", "type": "Patient"}
    assert care_plan["period"] == {"start": plan.starts_on.isoformat()}
    assert care_plan["created"].startswith(timezone.localtime(plan.created_at).date().isoformat())
    assert care_plan["author"] == {"display": f"{matron.get_full_name()} (Community matron)"}
    assert care_plan["careTeam"] == [
        {"reference": f"urn:uuid:{care_team['id']}", "type": "CareTeam"}
    ]
    assert [g["reference"] for g in care_plan["goal"]] == [f"urn:uuid:{g['id']}" for g in goals]
    assert [a["reference"]["reference"] for a in care_plan["activity"]] == [
        f"urn:uuid:{t['id']}" for t in tasks
    ]
    assert {a["reference"]["type"] for a in care_plan["activity"]} == {"Task"}
    assert care_plan["note"] == [
        {"text": "Self-management plan: Inhalers as the practice nurse showed; weigh each morning"},
        {
            "text": "Contingency and escalation plan: Start the rescue pack; then the community "
            "rapid-response team; then 111"
        },
    ]
    assert "version 1: Shared with the person; ratified at the MDT on" in care_plan["description"]
    assert f"shared in person on {TODAY.day} {TODAY:%B %Y}" in care_plan["description"]
    assert "Primary need: frailty." in care_plan["description"]


def test_the_care_team_names_each_member_and_their_role(matron, navigator, chair, episode, team):
    plan = plan_in("ratified", matron=matron, chair=chair, episode=episode, team=team)

    [care_team] = resources(export(plan, matron), "CareTeam")

    assert care_team["subject"]["type"] == "Patient"
    assert [(p["role"][0]["text"], p["member"]["display"]) for p in care_team["participant"]] == [
        ("Clinical lead", f"{matron.get_full_name()} (Community matron)"),
        ("Care navigator", f"{navigator.get_full_name()} (Care navigator)"),
        ("Befriending and transport", "Northshire Age Well"),
        ("Main carer", "Her daughter"),
    ]
    # Members are display-only references: none is a link to a missing resource.
    assert not any("reference" in p["member"] for p in care_team["participant"])


def test_goals_are_in_the_persons_words_and_their_progress_is_mapped(matron, chair, episode, team):
    plan = plan_in("shared", matron=matron, chair=chair, episode=episode, team=team)
    goals = list(plan.goals.order_by("position"))
    for goal, progress in zip(goals, ["on_track", "achieved", "no_longer_relevant"], strict=True):
        CarePlanGoal.objects.filter(pk=goal.pk).update(progress=progress)

    bundle = export(plan, matron)

    exported = {g["id"]: g for g in resources(bundle, "Goal")}
    stay, church, hospital = (exported[str(goal.pk)] for goal in goals)
    patient_ref = {"reference": f"urn:uuid:{plan.patient_id}", "type": "Patient"}
    assert stay["description"] == {"text": "I want to stay in my own home"}
    assert stay["subject"] == stay["expressedBy"] == patient_ref
    assert stay["target"] == [{"dueDate": (TODAY + dt.timedelta(days=20)).isoformat()}]
    assert [g["lifecycleStatus"] for g in (stay, church, hospital)] == [
        "active",
        "completed",
        "cancelled",
    ]
    assert [
        g.get("achievementStatus", {}).get("coding", [{}])[0].get("code")
        for g in (stay, church, hospital)
    ] == [
        "in-progress",
        "achieved",
        None,
    ]
    tasks = {t["focus"]["reference"]: t for t in resources(bundle, "Task")}
    assert tasks[f"urn:uuid:{stay['id']}"]["status"] == "in-progress"
    assert tasks[f"urn:uuid:{church['id']}"]["status"] == "completed"


@pytest.mark.parametrize(
    ("status", "goal", "task"), [("proposed", "proposed", "draft"), ("shared", "accepted", "ready")]
)
def test_a_goal_not_started_is_proposed_until_the_plan_is_ratified(
    matron, chair, episode, team, status, goal, task
):
    plan = plan_in(status, matron=matron, chair=chair, episode=episode, team=team)

    bundle = export(plan, matron)

    assert {g["lifecycleStatus"] for g in resources(bundle, "Goal")} == {goal}
    assert {t["status"] for t in resources(bundle, "Task")} == {task}


def test_each_task_is_the_support_agreed_by_whom_and_by_when(matron, chair, episode, team):
    plan = plan_in("ratified", matron=matron, chair=chair, episode=episode, team=team)

    bundle = export(plan, matron)

    stay, church = resources(bundle, "Task")
    goals = resources(bundle, "Goal")
    due = (TODAY + dt.timedelta(days=20)).isoformat()
    assert stay["description"] == "OT home assessment and grab rails"
    assert stay["owner"] == {"display": "Olu Tade (Occupational therapist)"}
    assert stay["restriction"] == {"period": {"end": due}}
    assert stay["basedOn"] == [{"reference": f"urn:uuid:{plan.pk}", "type": "CarePlan"}]
    assert stay["focus"] == {"reference": f"urn:uuid:{goals[0]['id']}", "type": "Goal"}
    assert stay["for"] == {"reference": f"urn:uuid:{plan.patient_id}", "type": "Patient"}
    assert (stay["intent"], church["intent"]) == ("plan", "plan")
    assert church["description"] == "Befriending and transport"
    assert church["owner"] == {"display": "Befriending service, Northshire Age Well"}


def test_the_export_runs_no_query_and_gives_the_same_ids_each_time(
    matron, chair, episode, team, django_assert_num_queries
):
    plan = plan_in("shared", matron=matron, chair=chair, episode=episode, team=team)
    fetched = plan_get_for_user(user=matron, plan_id=plan.pk)

    with django_assert_num_queries(0):
        first = careplan_bundle(fetched)

    assert export(plan, matron) == first


# --- the endpoint ----------------------------------------------------------------------------


def test_the_endpoint_answers_fhir_json_by_default_and_json_when_asked(
    matron, chair, episode, team
):
    plan = plan_in("shared", matron=matron, chair=chair, episode=episode, team=team)
    api = APIClient()
    api.force_authenticate(matron)
    url = reverse("careplan-fhir", args=[plan.pk])

    fhir = api.get(url, HTTP_ACCEPT="application/fhir+json")
    anything = api.get(url)
    plain = api.get(url, HTTP_ACCEPT="application/json")

    assert fhir.status_code == 200
    assert fhir["Content-Type"] == "application/fhir+json"
    assert anything["Content-Type"] == "application/fhir+json"
    assert plain["Content-Type"] == "application/json"
    bundle = json.loads(fhir.content)
    assert BUNDLE_VALIDATOR.is_valid(bundle)
    assert bundle == json.loads(plain.content) == export(plan, matron)
    assert "no-store" in fhir["Cache-Control"]
    events = AccessEvent.objects.filter(what="api.careplans.fhir")
    assert events.count() == 3  # one per request
    assert list(events.first().patients.values_list("patient_id", flat=True)) == [plan.patient_id]


def test_the_endpoint_is_404_outside_the_gate(matron, chair, outsider, episode, team):
    plan = plan_in("shared", matron=matron, chair=chair, episode=episode, team=team)
    api = APIClient()
    api.force_authenticate(outsider)

    response = api.get(reverse("careplan-fhir", args=[plan.pk]))

    assert response.status_code == 404
    assert episode.patient.nhs_number not in response.content.decode()
    assert not AccessEvent.objects.exists()
