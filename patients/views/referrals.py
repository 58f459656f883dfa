"""Referral onto the register, the navigator's triage queue, and moving an
episode on (accept, decline, activate, step down, discharge, died)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts import permissions
from mdtcare.audit.services import access_record
from mdtcare.core.forms_errors import add_service_errors
from patients import services
from patients.forms import AllocationForm, DeclineForm, FindPersonForm, ReferralForm, StatusForm
from patients.models import RegisterEntry
from patients.selectors import (
    entry_get_for_user,
    network_practitioners,
    patient_find_by_nhs_number,
)
from patients.selectors import (
    triage_queue as triage_queue_rows,
)
from patients.views.patient_forms import patient_for_page

RISK_REASON = "Identified by risk stratification"


def referral_start(request):
    """Refer someone: find them by NHS number, or add them first."""
    form = FindPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["nhs_number"]
        patient = patient_find_by_nhs_number(user=request.user, number=number)
        if patient is not None:
            return redirect("patients:refer", patient_id=patient.pk)
        return redirect(f"{reverse('patients:create')}?nhs_number={number}&then=refer")
    return render(request, "patients/referral_start.html", {"form": form})


def referral_create(request, patient_id):
    patient = patient_for_page(request, patient_id, "patient.refer")
    initial = {"referred_on": timezone.localdate()}
    if request.GET.get("source") == RegisterEntry.Source.RISK_STRATIFICATION:
        detail = ""
        if patient.risk_score is not None:
            detail = f" (risk score {patient.risk_score} on {patient.risk_scored_on:%d/%m/%Y})"
        initial.update(
            source=RegisterEntry.Source.RISK_STRATIFICATION,
            reason=RISK_REASON + detail + ".",
            referrer_name=request.user.get_full_name(),
        )
    form = ReferralForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.referral_create(by=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{patient} has been referred to the MDT register.")
            return redirect("patients:detail", patient_id=entry.patient_id)
    return render(request, "patients/referral_form.html", {"form": form, "patient": patient})


def triage_queue(request):
    """Referrals waiting for a decision, urgent first, then oldest first."""
    page = Paginator(triage_queue_rows(user=request.user), 25).get_page(request.GET.get("page"))
    access_record(
        request=request,
        what="referral.triage_queue",
        patient_ids=[entry.patient_id for entry in page],
        network_ids={entry.patient.practice.network_id for entry in page},
    )
    return render(request, "patients/triage.html", {"page": page})


def _entry_for_page(request, entry_id, what, *, roles=None, action=""):
    """The episode through the gate (404 outside it); with ``roles``, 403 for
    a role the page's service would refuse, before anything is shown."""
    entry = entry_get_for_user(user=request.user, entry_id=entry_id)
    if roles is not None:
        permissions.require_page_role(
            request=request,
            network_id=entry.patient.practice.network_id,
            roles=roles,
            action=action,
        )
    access_record(
        request=request,
        what=what,
        patient_ids=[entry.patient_id],
        network_ids={entry.patient.practice.network_id},
    )
    return entry


def _practitioners(entry):
    return network_practitioners(network_id=entry.patient.practice.network_id)


def referral_accept(request, entry_id):
    """Accept a referral and allocate its clinical lead and navigator."""
    entry = _entry_for_page(request, entry_id, "referral.accept")
    permissions.require_role(
        user=request.user,
        network_id=entry.patient.practice.network_id,
        roles=permissions.TRIAGE_ROLES,
        action="accept referrals",
    )
    initial = {"expected": entry.status, "navigator": request.user.pk}
    form = AllocationForm(
        request.POST or None, practitioners=_practitioners(entry), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_accept(by=request.user, entry=entry, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"The referral of {entry.patient} has been accepted.")
            return redirect("patients:triage")
    return render(
        request,
        "patients/entry_form.html",
        {
            "form": form,
            "entry": entry,
            "patient": entry.patient,
            "heading": "Accept the referral",
            "button": "Accept referral",
        },
    )


def referral_decline(request, entry_id):
    entry = _entry_for_page(request, entry_id, "referral.decline")
    permissions.require_role(
        user=request.user,
        network_id=entry.patient.practice.network_id,
        roles=permissions.TRIAGE_ROLES,
        action="decline referrals",
    )
    form = DeclineForm(request.POST or None, initial={"expected": entry.status})
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_decline(by=request.user, entry=entry, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"The referral of {entry.patient} has been declined.")
            return redirect("patients:triage")
    return render(
        request,
        "patients/entry_form.html",
        {
            "form": form,
            "entry": entry,
            "patient": entry.patient,
            "heading": "Decline the referral",
            "button": "Decline referral",
            "warning": True,
        },
    )


def entry_status(request, entry_id):
    """Activate, step down, discharge, or record that the person died."""
    entry = _entry_for_page(request, entry_id, "episode.status")
    form = StatusForm(
        request.POST or None, current=entry.status, initial={"expected": entry.status}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.entry_status_change(
                by=request.user,
                entry=entry,
                to_status=data["to_status"],
                reason=data["reason"],
                expected=data["expected"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The episode's status has been changed.")
            return redirect("patients:detail", patient_id=entry.patient_id)
    return render(
        request,
        "patients/entry_form.html",
        {
            "form": form,
            "entry": entry,
            "patient": entry.patient,
            "heading": "Change the episode's status",
            "button": "Change status",
        },
    )


def entry_allocate(request, entry_id):
    entry = _entry_for_page(
        request,
        entry_id,
        "episode.allocate",
        roles=permissions.REGISTER_KEEPERS,
        action="change the allocation",
    )
    initial = {
        "clinical_lead": entry.clinical_lead_id,
        "navigator": entry.navigator_id,
        "tier": entry.tier,
        "primary_need": entry.primary_need,
    }
    form = AllocationForm(
        request.POST or None, practitioners=_practitioners(entry), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("expected", None)
        try:
            services.entry_allocate(by=request.user, entry=entry, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The allocation has been saved.")
            return redirect("patients:detail", patient_id=entry.patient_id)
    return render(
        request,
        "patients/entry_form.html",
        {
            "form": form,
            "entry": entry,
            "patient": entry.patient,
            "heading": "Change the allocation",
            "button": "Save",
        },
    )
