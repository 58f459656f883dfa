"""Emergency access ("break glass") pages: the reason form, the read-only
record while the access is in force, and ending it. The rules are in
patients/emergency.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from careplans.plan_selectors import review_state
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
from mdtcare.core.forms_errors import add_service_errors
from patients import emergency
from patients.forms import EmergencyAccessForm
from patients.models import Consent
from patients.views.record import assessment_summary


@never_cache
def emergency_access_start(request):
    """Give the reason and the NHS number; the practitioner's access in
    force is listed under the form."""
    emergency.require_practitioner(request.user, memberships_cached(request=request))
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access = emergency.emergency_access_start(by=request.user, **form.cleaned_data)
        except emergency.AlreadyInYourNetworks as exc:
            messages.info(
                request,
                f"{exc.patient} is in your networks: their record is open to you "
                "without emergency access.",
            )
            return redirect("patients:detail", patient_id=exc.patient.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("patients:emergency_record", access_id=access.pk)
    in_force = list(emergency.emergency_accesses_in_force(user=request.user))
    if in_force:
        access_record(
            request=request,
            what="patient.emergency_list",
            patient_ids=[access.patient_id for access in in_force],
            emergency=in_force,
        )
    return render(
        request,
        "patients/emergency/start.html",
        {
            "form": form,
            "in_force": in_force,
            "minutes": settings.EMERGENCY_ACCESS_MINUTES,
            "reason_min_length": emergency.REASON_MIN_LENGTH,
        },
    )


@require_GET
def emergency_record(request, access_id):
    """The person's record, read-only, while the access is in force; after
    that a page that says it has ended (and shows nothing of them)."""
    access = emergency.emergency_access_of(user=request.user, access_id=access_id)
    now = timezone.now()
    if not access.in_force_at(now):
        return render(request, "patients/emergency/ended.html", {"access": access}, status=410)
    record = emergency.emergency_record(access=access, now=now)
    access_record(
        request=request,
        what="patient.emergency_view",
        patient_ids=[access.patient_id],
        emergency=access,
    )
    return render(
        request,
        "patients/emergency/record.html",
        {
            "access": access,
            "record": record,
            "patient": record.patient,
            "banner_entry": record.entry,
            # Only an open episode has a review to come.
            "banner_review": (
                review_state(record.plan) if record.plan and record.entry.is_open else ""
            ),
            "summary": assessment_summary(record.assessment) if record.assessment else None,
            "consents": [
                (label, record.in_force.get(topic)) for topic, label in Consent.Topic.choices
            ],
            "today": timezone.localdate(),
        },
    )


@require_POST
def emergency_access_end(request, access_id):
    access = emergency.emergency_access_of(user=request.user, access_id=access_id)
    emergency.emergency_access_end(by=request.user, access=access)
    messages.success(request, "Your emergency access has ended.")
    return redirect("patients:emergency_access")
