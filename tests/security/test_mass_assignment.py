"""Mass assignment (issue 10, item 3): every API serializer's writable
fields are exactly those in the allow-list below, and fields a client may
not set, sent anyway through the real endpoints, change nothing in the
database.

A new serializer, or a new writable field on one, fails
``test_writable_fields_match_the_allow_list`` until it is added here, where
a reviewer sees it.
"""

import datetime as dt
import importlib
import pkgutil
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from careplans.models import Assessment, CarePlan, CarePlanGoal, CareTeamMember
from mdtcare.accounts.models import Organisation
from patients.models import Patient, RegisterEntry
from tests.factories import PatientFactory
from tests.patients.factories_register import RegisterEntryFactory

PROJECT_PACKAGES = ("mdtcare", "patients", "careplans", "meetings")
TODAY = timezone.localdate()
FOREIGN_ID = "7d0d5a8e-0000-4000-8000-000000000000"
LONG_AGO = "2001-01-01T00:00:00Z"

# Serializers that only ever render a response (never given ``data=``):
# their fields are not declared read-only, but nothing writes through them.
RESPONSE_ONLY = {
    "careplans.api.ScoreChangeSerializer": {"key", "name", "previous", "current", "change"},
    "careplans.api.ScoreSerializer": {"total", "maximum", "band", "flags", "complete"},
    "mdtcare.api.views.MeNetworkSerializer": {"id", "code", "name", "role"},
    "mdtcare.api.views.MeSerializer": {"username", "full_name", "profession", "networks"},
    "patients.api_imports.ImportProblemSerializer": {"line", "reason"},
}

WRITABLE_FIELDS = {
    **RESPONSE_ONLY,
    # --- the register
    "patients.api.PatientSerializer": {
        "nhs_number",  # refused on update unless unchanged (validate_nhs_number)
        "title",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "address",
        "postcode",
        "phone",
        "practice",
        "preferred_language",
        "interpreter_needed",
        "accessibility_needs",
        "date_of_death",
    },
    "patients.api.RegisterEntrySerializer": {
        "patient",
        "source",
        "referrer_name",
        "referring_organisation",
        "reason",
        "urgency",
        "referred_on",
        "submission_key",
    },
    "patients.api.AcceptSerializer": {
        "clinical_lead",
        "navigator",
        "tier",
        "primary_need",
        "expected",
    },
    "patients.api.ReasonSerializer": {"reason", "expected"},
    "patients.api_imports.ImportUploadSerializer": {"file"},
    "patients.api_imports.RiskImportSerializer": set(),
    "patients.api_imports.HospitalActivityImportSerializer": set(),
    # --- assessments
    "careplans.api.AssessmentSerializer": {"patient", "assessed_on", "setting", "people_present"},
    "careplans.api.AssessmentStartedSerializer": {
        "patient",
        "assessed_on",
        "setting",
        "people_present",
    },
    "careplans.api.AmendmentSerializer": set(),
    "careplans.api.SectionSaveSerializer": {"answers", "version"},
    "careplans.api.CompleteSerializer": {"version"},
    "careplans.api.AmendSerializer": {"section", "answers", "reason"},
    # --- care plans
    "careplans.plans_api.CarePlanSerializer": set(),
    "careplans.plans_api.CarePlanWrittenSerializer": set(),
    "careplans.plans_api.CarePlanGoalSerializer": set(),
    "careplans.plans_api.CareTeamMemberSerializer": set(),
    "careplans.plans_api.CarePlanCreateSerializer": {"patient", "from_assessment"},
    "careplans.plans_api.RevisionSerializer": {"revision"},
    "careplans.plans_api.CarePlanChangeSerializer": {
        "revision",
        "primary_need",
        "clinical_lead",
        "navigator",
        "self_management",
        "contingency",
        "carer_involvement",
        "review_interval_weeks",
        "starts_on",
        "next_review_on",
    },
    "careplans.plans_api.CarePlanGoalWriteSerializer": {
        "revision",
        "what_matters",
        "support_agreed",
        "provider",
        "provider_organisation",
        "provider_name",
        "target_on",
        "progress",
    },
    "careplans.plans_api.CareTeamMemberAddSerializer": {
        "revision",
        "role_in_plan",
        "practitioner",
        "organisation",
        "name",
    },
    "careplans.plans_api.RatifySerializer": {"note"},
    "careplans.plans_api.ShareSerializer": {"shared_on", "how"},
    # --- meetings and actions
    "meetings.api.MeetingSerializer": set(),
    "meetings.api.AgendaItemSerializer": set(),
    "meetings.api.DiscussionOutcomeSerializer": set(),
    "meetings.api.AttendanceSerializer": set(),
    "meetings.api.PatientReferenceSerializer": set(),
    "meetings.api.NetworkReferenceSerializer": set(),
    "meetings.api.UserReferenceSerializer": set(),
    "meetings.api.OrganisationReferenceSerializer": set(),
    "meetings.api.ActionSerializer": set(),
    "meetings.api.ActionChangeSerializer": {"expected_status", "expected_updated_at"},
    "meetings.api.ActionCompleteSerializer": {"expected_status", "expected_updated_at", "note"},
    "meetings.api.ActionReassignSerializer": {
        "expected_status",
        "expected_updated_at",
        "owner",
        "owner_organisation",
        "note",
    },
    "meetings.api.ActionCancelSerializer": {"expected_status", "expected_updated_at", "note"},
    # --- notifications and reports
    "mdtcare.notifications.api.NotificationSerializer": set(),
    "mdtcare.reports.api_exports.ReportExportSerializer": set(),
}


def _project_serializers() -> dict[str, type]:
    """Every serializer class of the project, after importing every module
    that may define one (``api*``, ``*_api``, ``serializers``)."""
    for package in PROJECT_PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            leaf = info.name.rsplit(".", 1)[-1]
            if "migrations" not in info.name and ("api" in leaf or "serializ" in leaf):
                importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = {}
    for cls in subclasses(serializers.BaseSerializer):
        if not cls.__module__.startswith(tuple(f"{p}." for p in PROJECT_PACKAGES)):
            continue
        meta = getattr(cls, "Meta", None)
        if issubclass(cls, serializers.ModelSerializer) and not hasattr(meta, "model"):
            continue  # an abstract base (patients.api_imports._ImportSerializer)
        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def writable_fields(cls) -> set[str]:
    return {name for name, field in cls().fields.items() if not field.read_only}


def test_writable_fields_match_the_allow_list():
    found = _project_serializers()

    assert set(found) == set(WRITABLE_FIELDS), "serializers added or gone: update the table"
    differences = {
        name: {"unexpected": writable - allowed, "missing": allowed - writable}
        for name, cls in sorted(found.items())
        if (writable := writable_fields(cls)) != (allowed := WRITABLE_FIELDS[name])
    }
    assert differences == {}


def test_server_owned_fields_are_never_writable():
    """Whatever the table says, these belong to the server."""
    owned = {"id", "created_by", "created_at", "updated_at", "updated_by", "network", "status"}
    for name, cls in _project_serializers().items():
        if name in RESPONSE_ONLY:
            continue
        assert not (writable_fields(cls) & owned), name


# --- through the real endpoints ---------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def episode(practice_a, matron, navigator):
    person = PatientFactory(practice=practice_a, given_name="Mary", family_name="Okafor")
    return RegisterEntryFactory(
        patient=person,
        status=RegisterEntry.Status.ACTIVE,
        clinical_lead=matron,
        navigator=navigator,
        primary_need=RegisterEntry.PrimaryNeed.FRAILTY,
        decided_on=TODAY - dt.timedelta(days=5),
    )


@pytest.fixture
def patient(episode):
    return episode.patient


def _row(obj) -> dict:
    """The row as stored, every column."""
    return type(obj).objects.filter(pk=obj.pk).values().get()


@pytest.mark.django_db
def test_creating_a_patient_ignores_server_owned_fields(api, matron, chair, practice_a):
    api.force_authenticate(matron)
    sent = {
        "nhs_number": "999 000 0018",
        "given_name": "Mary",
        "family_name": "Okafor",
        "date_of_birth": "1941-03-02",
        "sex": "female",
        "postcode": "LS1 4AP",
        "practice": practice_a.ods_code,
        # Not the client's to set:
        "id": FOREIGN_ID,
        "created_by": str(chair.pk),
        "created_at": LONG_AGO,
        "updated_at": LONG_AGO,
        "risk_score": "99.0",
        "risk_scored_on": "2001-01-01",
        "frailty_category": "severe",
        "conditions": ["copd"],
        "network": "south",
        "status": "active",
    }

    response = api.post(reverse("patient-list"), sent, format="json")

    assert response.status_code == 201, response.json()
    patient = Patient.objects.get()
    row = _row(patient)
    assert str(patient.pk) == response.json()["id"] != FOREIGN_ID
    assert row["created_by_id"] == matron.pk
    assert row["created_at"] > timezone.now() - dt.timedelta(minutes=5)
    assert row["risk_score"] is None
    assert row["risk_scored_on"] is None
    assert row["frailty_category"] in ("", None)
    assert not patient.conditions.exists()
    assert patient.practice == practice_a


@pytest.mark.django_db
def test_updating_a_patient_changes_only_what_may_change(
    api, matron, chair, patient, practice_b, outsider
):
    api.force_authenticate(matron)
    before = _row(patient)
    sent = {
        "nhs_number": "9990000026",
        "id": FOREIGN_ID,
        "created_by": str(chair.pk),
        "created_at": LONG_AGO,
        "risk_score": "99.0",
        "frailty_category": "severe",
        "network": "south",
    }

    refused = api.patch(reverse("patient-detail", args=[patient.pk]), sent, format="json")

    assert refused.status_code == 400
    assert "nhs_number" in refused.json()
    assert _row(patient) == before

    sent.pop("nhs_number")
    changed = api.patch(
        reverse("patient-detail", args=[patient.pk]), {**sent, "given_name": "Maria"}, format="json"
    )

    assert changed.status_code == 200, changed.json()
    after = _row(patient)
    assert after.pop("given_name") == "Maria"
    before.pop("given_name")
    after.pop("updated_at")
    before.pop("updated_at")
    assert after == before

    # A practice of a network the user is not in: refused, nothing moves.
    moved = api.patch(
        reverse("patient-detail", args=[patient.pk]),
        {"practice": practice_b.ods_code},
        format="json",
    )

    assert moved.status_code in (400, 403)
    assert Patient.objects.get(pk=patient.pk).practice_id == patient.practice_id


@pytest.mark.django_db
def test_a_referral_cannot_set_its_own_status_or_allocation(api, matron, navigator, practice_a):
    person = PatientFactory(practice=practice_a)
    api.force_authenticate(matron)
    sent = {
        "patient": str(person.pk),
        "source": "gp_practice",
        "referrer_name": "Dr Obi",
        "reason": "Two falls in a month.",
        "urgency": "routine",
        "referred_on": str(TODAY),
        # Not the client's to set:
        "id": FOREIGN_ID,
        "status": "active",
        "decided_on": str(TODAY),
        "tier": 3,
        "primary_need": "frailty",
        "clinical_lead": str(matron.pk),
        "navigator": str(navigator.pk),
        "closed_on": str(TODAY),
        "created_by": str(navigator.pk),
        "created_at": LONG_AGO,
    }

    response = api.post(reverse("register-entry-list"), sent, format="json")

    assert response.status_code == 201, response.json()
    entry = RegisterEntry.objects.get(patient=person)
    assert str(entry.pk) != FOREIGN_ID
    assert entry.status == RegisterEntry.Status.REFERRED
    assert entry.decided_on is None and entry.closed_on is None
    assert entry.tier is None
    assert entry.primary_need in ("", None)
    assert entry.clinical_lead_id is None and entry.navigator_id is None
    assert entry.created_by_id == matron.pk
    assert entry.created_at > timezone.now() - dt.timedelta(minutes=5)


@pytest.mark.django_db
def test_an_assessment_cannot_be_started_signed_or_for_someone_else(api, matron, chair, patient):
    api.force_authenticate(matron)
    sent = {
        "patient": str(patient.pk),
        "setting": "home",
        # Not the client's to set:
        "id": FOREIGN_ID,
        "status": "completed",
        "kind": "review",
        "assessor": str(chair.pk),
        "signed_by": str(chair.pk),
        "signed_at": LONG_AGO,
        "version": 42,
        "answers": {"what_matters": {"i_statements": ["pwned"]}},
        "created_by": str(chair.pk),
    }

    response = api.post(reverse("assessment-list"), sent, format="json")

    assert response.status_code == 201, response.json()
    assessment = Assessment.objects.get()
    assert str(assessment.pk) != FOREIGN_ID
    assert assessment.status == Assessment.Status.DRAFT
    assert assessment.kind == Assessment.Kind.INITIAL
    assert assessment.assessor_id == matron.pk
    assert assessment.signed_by_id is None and assessment.signed_at is None
    assert assessment.version == 1
    assert not assessment.answers
    assert assessment.created_by_id == matron.pk


@pytest.mark.django_db
def test_a_care_plan_cannot_be_created_or_changed_into_ratified(
    api, matron, chair, patient, practice_b
):
    api.force_authenticate(matron)
    created = api.post(
        reverse("careplan-list"),
        {
            "patient": str(patient.pk),
            "id": FOREIGN_ID,
            "status": "ratified",
            "number": 7,
            "revision": 9,
            "ratified_by": str(chair.pk),
            "ratified_at": LONG_AGO,
            "created_by": str(chair.pk),
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    plan = CarePlan.objects.get()
    before = _row(plan)
    assert str(plan.pk) != FOREIGN_ID
    assert plan.status == CarePlan.Status.DRAFT
    assert (plan.number, plan.revision) == (1, 1)
    assert plan.ratified_by_id is None and plan.ratified_at is None
    assert plan.created_by_id == matron.pk

    changed = api.patch(
        reverse("careplan-detail", args=[plan.pk]),
        {
            "revision": plan.revision,
            "contingency": "Call the frailty team.",
            "status": "ratified",
            "patient": str(PatientFactory(practice=patient.practice).pk),
            "entry": FOREIGN_ID,
            "number": 3,
            "ratified_by": str(chair.pk),
            "shared_on": str(TODAY),
            "created_by": str(chair.pk),
        },
        format="json",
    )

    assert changed.status_code == 200, changed.json()
    after = _row(plan)
    assert after["contingency"] == "Call the frailty team."
    for column in ("status", "patient_id", "entry_id", "number", "ratified_by_id", "shared_on"):
        assert after[column] == before[column], column
    assert after["created_by_id"] == matron.pk


@pytest.mark.django_db
def test_a_goal_or_team_member_cannot_name_another_networks_organisation(
    api, matron, patient, practice_b
):
    """The page offers the plan's network's organisations (and those of no
    network); the API may not reach further."""
    api.force_authenticate(matron)
    plan = CarePlan.objects.get(
        pk=api.post(reverse("careplan-list"), {"patient": str(patient.pk)}, format="json").json()[
            "id"
        ]
    )
    other_networks = Organisation.objects.get(pk=practice_b.pk)

    goal = api.post(
        reverse("careplan-goals", args=[plan.pk]),
        {
            "revision": plan.revision,
            "what_matters": "To stay at home",
            "provider_organisation": str(other_networks.pk),
        },
        format="json",
    )
    team = api.post(
        reverse("careplan-team", args=[plan.pk]),
        {
            "revision": plan.revision,
            "role_in_plan": "Support",
            "organisation": str(other_networks.pk),
        },
        format="json",
    )

    assert goal.status_code == 400, goal.json()
    assert team.status_code == 400, team.json()
    assert not CarePlanGoal.objects.filter(provider_organisation=other_networks).exists()
    assert not CareTeamMember.objects.filter(organisation=other_networks).exists()


@pytest.mark.django_db
def test_a_goal_cannot_be_given_an_id_or_position(api, matron, patient):
    api.force_authenticate(matron)
    plan_id = api.post(
        reverse("careplan-list"), {"patient": str(patient.pk)}, format="json"
    ).json()["id"]
    plan = CarePlan.objects.get(pk=plan_id)
    chosen = uuid.uuid4()

    response = api.post(
        reverse("careplan-goals", args=[plan.pk]),
        {
            "revision": plan.revision,
            "what_matters": "To stay at home",
            "id": str(chosen),
            "position": 99,
            "plan": FOREIGN_ID,
            "created_by": FOREIGN_ID,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    goal = CarePlanGoal.objects.get(plan=plan)
    assert goal.pk != chosen
    assert goal.position != 99
    assert goal.created_by_id == matron.pk
