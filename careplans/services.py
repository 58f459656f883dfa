"""Writes to holistic assessments. Each service is one transaction that
checks who may do it; the change triggers audit every row."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from careplans import instruments
from careplans.models import Assessment, AssessmentAmendment
from careplans.scoring import assessment_scores, effective_answers
from careplans.sections import SECTIONS, SECTIONS_BY_KEY, section_state
from mdtcare.accounts import permissions
from mdtcare.accounts.models import User
from mdtcare.notifications.models import Notification
from mdtcare.notifications.services import notifications_raise
from patients.models import Patient, RegisterEntry

logger = logging.getLogger(__name__)


class StaleAssessment(ValidationError):
    """Someone else saved the assessment since this page was opened."""

    def __init__(self, assessment: Assessment, changed: list[str]):
        self.assessment = assessment
        self.changed = changed
        when = timezone.localtime(assessment.updated_at).strftime("%H:%M")
        names = ", ".join(changed) if changed else "no answers you changed"
        super().__init__(
            f"Someone else saved this assessment at {when} while you were working on it. "
            f"Their answers differ from yours in: {names}. Your answers have not been saved: "
            "check theirs below, then make your changes again.",
            code="stale",
        )


@dataclass(frozen=True)
class Started:
    assessment: Assessment
    warnings: tuple[str, ...] = ()


def _require_assessor_role(*, user: User, patient: Patient, action: str) -> None:
    permissions.require_role(
        user=user,
        network_id=patient.practice.network_id,
        roles=permissions.ALL_ROLES,
        action=action,
    )


@transaction.atomic
def assessment_start(
    *,
    by: User,
    patient: Patient,
    assessed_on: dt.date | None = None,
    setting: str = Assessment.Setting.HOME,
    people_present: str = "",
) -> Started:
    """Start a holistic assessment as a draft with ``by`` as its assessor.

    When the person has a signed assessment already, this one is a
    re-assessment that starts from its (amended) answers. A person with no
    open episode may be assessed, with a warning."""
    _require_assessor_role(user=by, patient=patient, action="assess people in this network")
    draft = Assessment.objects.filter(patient=patient, status=Assessment.Status.DRAFT).first()
    if draft is not None:
        # One draft at a time: a second start (or a double click) resumes it.
        return Started(draft, ("This person has a draft assessment already: continue it.",))
    assessed_on = assessed_on or timezone.localdate()
    if assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": ["The assessment date cannot be in the future"]})
    previous = (
        Assessment.objects.filter(patient=patient, status=Assessment.Status.COMPLETED)
        .prefetch_related("amendments")
        .order_by("-assessed_on", "-signed_at")
        .first()
    )
    assessment = Assessment.objects.create(
        patient=patient,
        kind=Assessment.Kind.REASSESSMENT if previous else Assessment.Kind.INITIAL,
        previous=previous,
        assessor=by,
        assessed_on=assessed_on,
        setting=setting,
        people_present=people_present.strip()[:300],
        answers=effective_answers(previous) if previous else {},
        created_by=by,
    )
    warnings = ()
    if not RegisterEntry.objects.filter(patient=patient).open().exists():
        warnings = (
            "This person has no open referral or episode on the register. The assessment "
            "is saved, but refer them if the MDT should see it.",
        )
    return Started(assessment, warnings)


def _as_stored(answers: dict) -> dict:
    """Answers as the JSON field stores them (dates and decimals as text)."""
    return json.loads(json.dumps(answers, cls=DjangoJSONEncoder))


def _changed_questions(section_key: str, theirs: dict, yours: dict) -> list[str]:
    theirs, yours = _as_stored(theirs), _as_stored(yours)
    form = SECTIONS_BY_KEY[section_key].form()
    return [
        str(form.fields[key].label) if key in form.fields else key
        for key in sorted(set(theirs) | set(yours))
        if theirs.get(key) != yours.get(key)
    ]


@transaction.atomic
def assessment_section_save(
    *,
    by: User,
    assessment: Assessment,
    section: str,
    answers: dict,
    expected_version: int,
    details: dict | None = None,
) -> Assessment:
    """Save one section of a draft (partial answers are fine).

    Refused when the assessment is signed, and when someone saved it since
    ``expected_version`` (``StaleAssessment`` names what they changed). A
    PHQ-9 item 9 answer above zero raises an urgent alert to the clinical
    lead and navigator, once per assessment."""
    if section not in SECTIONS_BY_KEY and section != "details":
        raise ValidationError(f"There is no section “{section}”.")
    _require_assessor_role(
        user=by, patient=assessment.patient, action="record assessments in this network"
    )
    current = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if current.is_signed:
        raise ValidationError(
            "This assessment has been signed and cannot be changed: add an amendment.",
            code="signed",
        )
    if current.version != expected_version:
        theirs = current.answers.get(section, {}) if section != "details" else {}
        raise StaleAssessment(
            current,
            _changed_questions(section, theirs, answers)
            if section != "details"
            else ["the assessment details"],
        )
    fields = {"version": F("version") + 1, "updated_at": timezone.now()}
    if section == "details":
        details = details or {}
        if details.get("assessed_on") and details["assessed_on"] > timezone.localdate():
            raise ValidationError({"assessed_on": ["The assessment date cannot be in the future"]})
        if "setting" in details and details["setting"] not in Assessment.Setting.values:
            raise ValidationError({"setting": ["Choose where the assessment took place"]})
        fields.update(
            {
                key: value
                for key, value in details.items()
                if key in ("assessed_on", "setting", "people_present")
            }
        )
    else:
        _check_instrument_answers(section, answers)
        new_answers = dict(current.answers)
        new_answers[section] = answers
        fields["answers"] = new_answers
    Assessment.objects.filter(pk=current.pk, version=expected_version).update(**fields)
    current.refresh_from_db()
    if section == "mood" and instruments.phq9_self_harm_flag(answers):
        _raise_self_harm_alert(current)
    return current


def _check_instrument_answers(section: str, answers: dict) -> None:
    """Answers posted straight to the service (the API) get the same checks
    as the form: every instrument item takes only its published values."""
    # Lists (the "what matters" statements) are checked as the lines the form takes.
    data = {
        key: "\n".join(value) if isinstance(value, list) else value
        for key, value in answers.items()
    }
    form = SECTIONS_BY_KEY[section].form(data=data)
    if not form.is_valid():
        raise ValidationError(
            {key: [str(message) for message in messages] for key, messages in form.errors.items()}
        )


def _raise_self_harm_alert(assessment: Assessment) -> None:
    """Urgent: to the patient's clinical lead and navigator (or, when the
    episode has none yet, the network's navigators). Delivered by the
    notifications service; raised once per assessment."""
    entry = RegisterEntry.objects.filter(patient=assessment.patient).open().first()
    network_id = assessment.patient.practice.network_id
    recipients = [
        user
        for user in ((entry.clinical_lead, entry.navigator) if entry else ())
        if user is not None and user.is_active
    ]
    if entry is None or entry.navigator is None or not entry.navigator.is_active:
        # No navigator of their own: every navigator of the network hears.
        recipients += _active_in_role(network_id, permissions.Role.NAVIGATOR)
    if not recipients:
        recipients = _active_in_role(network_id, permissions.Role.ADMIN)
    if not recipients:
        logger.error("Self-harm alert for assessment %s has no one to go to", assessment.pk)
    notifications_raise(
        kind=Notification.Kind.SELF_HARM_ALERT,
        event_id=f"assessment:{assessment.pk}",
        recipients=recipients,
        urgent=True,
        patient_id=assessment.patient_id,
        link=reverse("careplans:assessment", args=[assessment.pk]),
    )


def _active_in_role(network_id, role) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, memberships__network_id=network_id, memberships__role=role
        )
    )


def sections_incomplete(assessment: Assessment) -> list[str]:
    """Titles of the mandatory sections not yet completed."""
    return [
        section.title
        for section in SECTIONS
        if section.mandatory and section_state(section, assessment.answers) != "completed"
    ]


@transaction.atomic
def assessment_complete(*, by: User, assessment: Assessment, expected_version: int) -> Assessment:
    """Sign and complete the assessment: only its assessor, only when every
    mandatory section is completed. The answers then never change (only
    amendments are added) and the scores are frozen as signed. Completing an
    assessment that is already signed changes nothing."""
    current = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if current.is_signed:
        return current
    if by.pk != current.assessor_id:
        raise PermissionDenied("Only the assessor can sign this assessment.")
    _require_assessor_role(
        user=by, patient=current.patient, action="sign assessments in this network"
    )
    if current.version != expected_version:
        raise StaleAssessment(current, [])
    missing = sections_incomplete(current)
    if missing:
        raise ValidationError(
            "Complete these sections before signing: " + "; ".join(missing) + ".",
            code="incomplete",
        )
    current.scores = {
        key: {
            "total": score.total,
            "maximum": score.maximum,
            "band": score.band,
            "flags": list(score.flags),
        }
        for key, score in assessment_scores(current.answers).items()
    }
    current.status = Assessment.Status.COMPLETED
    current.signed_by = by
    current.signed_at = timezone.now()
    current.version += 1
    current.save()
    return current


@transaction.atomic
def assessment_amend(
    *, by: User, assessment: Assessment, section: str, answers: dict, reason: str
) -> AssessmentAmendment:
    """Correct a section of a signed assessment, with the reason. The signed
    answers stay as they were; the amendment is kept beside them."""
    if section not in SECTIONS_BY_KEY:
        raise ValidationError(f"There is no section “{section}”.")
    _require_assessor_role(
        user=by, patient=assessment.patient, action="amend assessments in this network"
    )
    current = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if not current.is_signed:
        raise ValidationError("A draft is changed directly; amendments are for signed assessments.")
    if not reason.strip():
        raise ValidationError({"reason": ["Enter the reason for the amendment"]})
    _check_instrument_answers(section, answers)
    before = effective_answers(current).get(section, {})
    amendment = AssessmentAmendment.objects.create(
        assessment=current,
        section=section,
        before=before,
        after=answers,
        reason=reason.strip()[:500],
        created_by=by,
    )
    if section == "mood" and instruments.phq9_self_harm_flag(answers):
        _raise_self_harm_alert(current)
    return amendment
