"""The patient record page."""

from django.shortcuts import render

from mdtcare.audit.services import access_record
from patients.selectors import patient_get_for_user


def patient_record(request, patient_id):
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    access_record(
        request=request,
        what="patient.view",
        patient_ids=[patient.pk],
        network_ids={patient.practice.network_id},
    )
    return render(request, "patients/patient_detail.html", {"patient": patient})
