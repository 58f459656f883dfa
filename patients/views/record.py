"""The patient record page: the banner, then tabs for the overview, the
parts later work fills (assessments, care plan, MDT discussions, actions)
and the timeline."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import render
from django.views.decorators.http import require_GET

from mdtcare.accounts import permissions
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
from patients import selectors
from patients.models import Consent, RegisterEntry
from patients.timeline import patient_timeline


@dataclass(frozen=True)
class RecordActions:
    """Which action links the page offers the user, by their role in the
    patient's network. The services check again: this only spares people
    links that would refuse them."""

    change_details: bool
    refer: bool
    triage: bool
    manage_episode: bool
    access_log: bool


def _actions(request, patient, current: RegisterEntry | None) -> RecordActions:
    role = next(
        (
            membership.role
            for membership in memberships_cached(request=request)
            if membership.network_id == patient.practice.network_id
        ),
        None,
    )
    is_open = current is not None and current.is_open
    user = request.user
    return RecordActions(
        change_details=role in permissions.ALL_ROLES,
        refer=role in permissions.ALL_ROLES and not is_open and not patient.date_of_death,
        triage=(
            role in permissions.TRIAGE_ROLES
            and is_open
            and current.status == RegisterEntry.Status.REFERRED
        ),
        manage_episode=role in permissions.REGISTER_KEEPERS and is_open,
        # The admin page of who accessed the record needs both; checking
        # is_staff first spares everyone else the permission queries.
        access_log=user.is_staff and user.has_perm("audit.view_accessevent"),
    )


@require_GET
def patient_record(request, patient_id):
    # Through the gate, with every sub-record the page shows: 404 if the
    # patient is outside the user's networks or unknown.
    patient = selectors.patient_record(user=request.user, patient_id=patient_id)
    access_record(
        request=request,
        what="patient.view",
        patient_ids=[patient.pk],
        network_ids={patient.practice.network_id},
    )
    episodes = list(patient.entries.all())  # newest first
    current = selectors.open_entry(patient) or (episodes[0] if episodes else None)
    in_force = selectors.consents_in_force(patient)
    # The score before the latest one, for the change since last time.
    history = list(patient.risk_scores.all())  # newest first
    previous_risk = history[1] if len(history) > 1 and patient.risk_score is not None else None
    return render(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "banner_entry": current,
            "current_entry": current,
            "episodes": episodes,
            "consents": [(label, in_force.get(topic)) for topic, label in Consent.Topic.choices],
            "conditions": list(patient.conditions.all()),
            "carers": list(patient.carers.all()),
            "risk_band": selectors.risk_band_of(patient.risk_score),
            "previous_risk": previous_risk,
            "risk_change": patient.risk_score - previous_risk.score if previous_risk else None,
            "timeline": patient_timeline(patient),
            "actions": _actions(request, patient, current),
        },
    )
