"""A care and support plan as a FHIR R4 Bundle (type ``collection``) for
integrators: the person (Patient), the plan (CarePlan), its care team
(CareTeam), each goal in the person's words (Goal) and the support agreed
for it (Task).

``careplan_bundle`` is pure: it reads only what ``plan_get_for_user``
fetched (the plan, its patient and practice, the people named on it, its
goals with their providers and its care team with theirs) and runs no query.
Every reference between the resources is a ``urn:uuid:`` that resolves to an
entry of the bundle; people and organisations that are not exported as
resources are display-only references (with their ODS code when they have
one), never dangling links.

Resource ids are the records' UUIDs. The CareTeam and the Tasks have no row
of their own, so their ids are derived from the plan's and the goals' (UUID
version 5): exporting the same plan again gives the same ids.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from careplans.models import CarePlan, CarePlanGoal, CareTeamMember
from patients.models import Patient

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
GOAL_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
FHIR_JSON = "application/fhir+json"

# The namespace of the ids derived for resources without a row of their own.
_DERIVED_IDS = uuid.UUID("6f1b9a52-3c1e-4f0e-9a51-0d3f3b1c7e21")

# CarePlan.status (R4 request-status). A proposal is still a draft to FHIR:
# it is not in force until the MDT ratifies it.
PLAN_STATUS = {
    CarePlan.Status.DRAFT: "draft",
    CarePlan.Status.PROPOSED: "draft",
    CarePlan.Status.RATIFIED: "active",
    CarePlan.Status.SHARED: "active",
    CarePlan.Status.SUPERSEDED: "revoked",
    CarePlan.Status.CLOSED: "completed",
}
# CareTeam.status (R4 care-team-status), following the plan's.
TEAM_STATUS = {
    CarePlan.Status.DRAFT: "proposed",
    CarePlan.Status.PROPOSED: "proposed",
    CarePlan.Status.RATIFIED: "active",
    CarePlan.Status.SHARED: "active",
    CarePlan.Status.SUPERSEDED: "inactive",
    CarePlan.Status.CLOSED: "inactive",
}
# Patient.gender (R4 administrative-gender).
GENDER = {
    Patient.Sex.FEMALE: "female",
    Patient.Sex.MALE: "male",
    Patient.Sex.INDETERMINATE: "other",
    Patient.Sex.NOT_KNOWN: "unknown",
}
Progress = CarePlanGoal.Progress
# Goal.lifecycleStatus (R4 goal-status). A goal not started is "proposed"
# while its plan is, "accepted" once the MDT has ratified the plan.
GOAL_LIFECYCLE = {
    Progress.ON_TRACK: "active",
    Progress.ACHIEVED: "completed",
    Progress.NO_LONGER_RELEVANT: "cancelled",
}
# Goal.achievementStatus (goal-achievement), where our progress says one.
GOAL_ACHIEVEMENT = {
    Progress.ON_TRACK: ("in-progress", "In Progress"),
    Progress.ACHIEVED: ("achieved", "Achieved"),
}
# Task.status (R4 task-status). Support not started is a "draft" while the
# plan is not agreed, "ready" once it is.
TASK_STATUS = {
    Progress.ON_TRACK: "in-progress",
    Progress.ACHIEVED: "completed",
    Progress.NO_LONGER_RELEVANT: "cancelled",
}


def _derived_id(kind: str, of: uuid.UUID) -> str:
    return str(uuid.uuid5(_DERIVED_IDS, f"{kind}:{of}"))


def _urn(resource_id) -> str:
    return f"urn:uuid:{resource_id}"


def _reference(resource: dict) -> dict:
    return {"reference": _urn(resource["id"]), "type": resource["resourceType"]}


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _instant(value: dt.datetime | None) -> str | None:
    """A FHIR dateTime: to the second, with the UTC offset of London."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _drop_empty(value):
    """FHIR has no empty strings, lists or objects: leave them out."""
    if isinstance(value, dict):
        cleaned = {key: _drop_empty(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned = [_drop_empty(item) for item in value]
        return [item for item in cleaned if item not in (None, "", [], {})]
    if isinstance(value, str):
        return value.strip()
    return value


def _person(user) -> dict | None:
    """A practitioner as a display-only reference: name and profession."""
    if user is None:
        return None
    name = user.get_full_name() or user.username
    profession = user.get_profession_display() if user.profession else ""
    return {"display": f"{name} ({profession})" if profession else name}


def _organisation(organisation) -> dict | None:
    if organisation is None:
        return None
    reference = {"display": organisation.name}
    if organisation.ods_code:
        reference["identifier"] = {"system": ODS_CODE_SYSTEM, "value": organisation.ods_code}
    return reference


def _member(member: CareTeamMember) -> dict:
    if member.practitioner is not None:
        return _person(member.practitioner)
    if member.organisation is not None:
        reference = _organisation(member.organisation)
        if member.name:
            reference["display"] = f"{member.name}, {member.organisation.name}"
        return reference
    return {"display": member.name}


def _provider(goal: CarePlanGoal) -> dict | None:
    """Who provides the support agreed: a practitioner, else an organisation
    (with the named team or person when there is one), else the name."""
    if goal.provider is not None:
        return _person(goal.provider)
    if goal.provider_organisation is not None:
        reference = _organisation(goal.provider_organisation)
        if goal.provider_name:
            reference["display"] = f"{goal.provider_name}, {goal.provider_organisation.name}"
        return reference
    if goal.provider_name:
        return {"display": goal.provider_name}
    return None


def _patient(patient: Patient) -> dict:
    practice = patient.practice
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": patient.nhs_number}],
        "name": [
            {
                "use": "official",
                "family": patient.family_name,
                "given": [patient.given_name],
                "prefix": [patient.title],
            }
        ],
        "gender": GENDER.get(patient.sex, "unknown"),
        "birthDate": _date(patient.date_of_birth),
        "address": [{"use": "home", "postalCode": patient.postcode}],
        "generalPractitioner": [_organisation(practice)],
    }
    if patient.date_of_death:
        resource["deceasedDateTime"] = _date(patient.date_of_death)
    return resource


def _care_team(plan: CarePlan, patient: dict) -> dict:
    return {
        "resourceType": "CareTeam",
        "id": _derived_id("care-team", plan.pk),
        "status": TEAM_STATUS[plan.status],
        "name": f"Care team of care and support plan version {plan.number}",
        "subject": _reference(patient),
        "period": {"start": _date(plan.starts_on)},
        "participant": [
            {"role": [{"text": member.role_in_plan}], "member": _member(member)}
            for member in plan.care_team.all()
        ],
    }


def _goal(goal: CarePlanGoal, plan: CarePlan, patient: dict) -> dict:
    if goal.progress == Progress.NOT_STARTED:
        lifecycle = "proposed" if plan.is_editable else "accepted"
    else:
        lifecycle = GOAL_LIFECYCLE[goal.progress]
    resource = {
        "resourceType": "Goal",
        "id": str(goal.pk),
        "lifecycleStatus": lifecycle,
        # The person's own words, as they said them.
        "description": {"text": goal.what_matters},
        "subject": _reference(patient),
        "expressedBy": _reference(patient),
        "target": [{"dueDate": _date(goal.target_on)}],
        "note": [{"text": f"Progress: {goal.get_progress_display().lower()}"}],
    }
    if goal.progress in GOAL_ACHIEVEMENT:
        code, display = GOAL_ACHIEVEMENT[goal.progress]
        resource["achievementStatus"] = {
            "coding": [{"system": GOAL_ACHIEVEMENT_SYSTEM, "code": code, "display": display}],
            "text": goal.get_progress_display(),
        }
    return resource


def _has_support(goal: CarePlanGoal) -> bool:
    return bool(goal.support_agreed.strip()) or _provider(goal) is not None


def _task(
    goal: CarePlanGoal, plan: CarePlan, patient: dict, care_plan_id: str, goal_resource: dict
) -> dict:
    if goal.progress == Progress.NOT_STARTED:
        status = "draft" if plan.is_editable else "ready"
    else:
        status = TASK_STATUS[goal.progress]
    return {
        "resourceType": "Task",
        "id": _derived_id("task", goal.pk),
        "status": status,
        "intent": "plan",
        "description": goal.support_agreed or f"Support for: {goal.what_matters}",
        "basedOn": [{"reference": _urn(care_plan_id), "type": "CarePlan"}],
        "focus": _reference(goal_resource),
        "for": _reference(patient),
        "authoredOn": _instant(goal.created_at),
        "owner": _provider(goal),
        # "By when": the period the support should be given in.
        "restriction": {"period": {"end": _date(goal.target_on)}},
    }


def _notes(plan: CarePlan) -> list[dict]:
    return [
        {"text": f"{heading}: {text.strip()}"}
        for heading, text in (
            ("Self-management plan", plan.self_management),
            ("Contingency and escalation plan", plan.contingency),
            ("Carer's involvement", plan.carer_involvement),
        )
        if text.strip()
    ]


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _description(plan: CarePlan) -> str:
    """The plan's state in a sentence or two, for a reader of the export."""
    status = plan.get_status_display()
    parts = [f"Integrated care and support plan, version {plan.number}: {status}"]
    if plan.ratified_at:
        parts.append(f"ratified at the MDT on {_day(timezone.localdate(plan.ratified_at))}")
    if plan.shared_on:
        how = f" {plan.get_shared_how_display().lower()}" if plan.shared_how else ""
        parts.append(f"shared{how} on {_day(plan.shared_on)}")
    text = "; ".join(parts) + "."
    if plan.primary_need:
        text += f" Primary need: {plan.get_primary_need_display().lower()}."
    interval = plan.get_review_interval_weeks_display()
    return text + f" Reviewed every {interval}; next review {_day(plan.next_review_on)}."


def careplan_bundle(plan: CarePlan) -> dict:
    """The plan as a FHIR R4 Bundle of type ``collection``: Patient, CarePlan,
    CareTeam, one Goal per goal and one Task per goal with support agreed,
    each entry with the ``urn:uuid:`` its references use."""
    patient = _patient(plan.patient)
    plan_id = str(plan.pk)
    team = _care_team(plan, patient)
    goals = list(plan.goals.all())
    goal_resources = [_goal(goal, plan, patient) for goal in goals]
    tasks = [
        _task(goal, plan, patient, plan_id, resource)
        for goal, resource in zip(goals, goal_resources, strict=True)
        if _has_support(goal)
    ]
    care_plan = {
        "resourceType": "CarePlan",
        "id": plan_id,
        "status": PLAN_STATUS[plan.status],
        "intent": "plan",
        "title": f"Integrated care and support plan (version {plan.number})",
        "description": _description(plan),
        "subject": _reference(patient),
        "period": {"start": _date(plan.starts_on)},
        "created": _instant(plan.created_at),
        # Who is responsible for the plan: its clinical lead.
        "author": _person(plan.clinical_lead),
        "contributor": [_person(plan.navigator), _person(plan.ratified_by)],
        "careTeam": [_reference(team)],
        "goal": [_reference(goal) for goal in goal_resources],
        "activity": [{"reference": _reference(task)} for task in tasks],
        "note": _notes(plan),
    }
    resources = [patient, care_plan, team, *goal_resources, *tasks]
    return _drop_empty(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": _urn(resource["id"]), "resource": resource} for resource in resources
            ],
        }
    )
