"""Adding a person to the register and changing their details."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mdtcare.audit.services import access_record
from mdtcare.core.forms_errors import add_service_errors
from patients import services
from patients.forms import CarerForm, ConditionsForm, ConsentForm, PatientForm
from patients.models import Carer, Patient
from patients.selectors import patient_get_for_user


def patient_for_page(request, patient_id, what: str) -> Patient:
    """The patient through the gate (404 outside it), with the access event
    this page writes."""
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    access_record(
        request=request,
        what=what,
        patient_ids=[patient.pk],
        network_ids={patient.practice.network_id},
    )
    return patient


def _warn(request, saved):
    for warning in saved.warnings:
        messages.warning(request, warning)


def patient_create(request):
    """Add a person to the register (then, usually, refer them)."""
    initial = {"nhs_number": request.GET.get("nhs_number", "")[:20]}
    form = PatientForm(request.POST or None, user=request.user, initial=initial)
    duplicate_of = duplicate_elsewhere = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            saved = services.patient_create(
                by=request.user,
                practice=data.pop("practice"),
                nhs_number=data.pop("nhs_number"),
                **data,
            )
        except services.DuplicatePatient as exc:
            add_service_errors(form, exc)
            if Patient.objects.visible_to(request.user).filter(pk=exc.existing.pk).exists():
                duplicate_of = exc.existing
                # The page names them and links to their record.
                access_record(
                    request=request,
                    what="patient.duplicate",
                    patient_ids=[duplicate_of.pk],
                    network_ids={duplicate_of.practice.network_id},
                )
            else:
                duplicate_elsewhere = True
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            _warn(request, saved)
            messages.success(request, f"{saved.patient} has been added to the register.")
            if request.GET.get("then") == "refer":
                return redirect("patients:refer", patient_id=saved.patient.pk)
            return redirect("patients:detail", patient_id=saved.patient.pk)
    return render(
        request,
        "patients/forms/patient_form.html",
        {
            "form": form,
            "duplicate_of": duplicate_of,
            "duplicate_elsewhere": duplicate_elsewhere,
            "editing": False,
        },
    )


def patient_edit(request, patient_id):
    patient = patient_for_page(request, patient_id, "patient.edit")
    initial = {field: getattr(patient, field) for field in PatientForm.base_fields}
    form = PatientForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            saved = services.patient_update(
                by=request.user, patient=patient, practice=data.pop("practice"), **data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            _warn(request, saved)
            messages.success(request, "The person's details have been saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/forms/patient_form.html",
        {"form": form, "patient": patient, "editing": True},
    )


def conditions_edit(request, patient_id):
    patient = patient_for_page(request, patient_id, "patient.conditions")
    current = list(patient.conditions.values_list("condition_id", flat=True))
    form = ConditionsForm(request.POST or None, initial={"conditions": current})
    if request.method == "POST" and form.is_valid():
        try:
            services.conditions_set(
                by=request.user, patient=patient, keys=form.cleaned_data["conditions"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Long-term conditions have been saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/forms/simple_form.html",
        {"form": form, "patient": patient, "heading": "Long-term conditions", "button": "Save"},
    )


def carer_add(request, patient_id):
    patient = patient_for_page(request, patient_id, "patient.carer_add")
    form = CarerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.carer_add(by=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The carer has been added.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/forms/simple_form.html",
        {"form": form, "patient": patient, "heading": "Add a carer", "button": "Add carer"},
    )


@require_POST
def carer_remove(request, patient_id, carer_id):
    patient = patient_for_page(request, patient_id, "patient.carer_remove")
    carer = get_object_or_404(Carer, pk=carer_id, patient=patient)
    services.carer_remove(by=request.user, carer=carer)
    messages.success(request, "The carer has been removed.")
    return redirect("patients:detail", patient_id=patient.pk)


def consent_add(request, patient_id):
    patient = patient_for_page(request, patient_id, "patient.consent")
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(by=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The consent decision has been recorded.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/forms/simple_form.html",
        {"form": form, "patient": patient, "heading": "Record consent", "button": "Save"},
    )
