from django.core.paginator import Paginator
from django.shortcuts import render

from mdtcare.audit.services import access_record
from patients.selectors import patient_get_for_user, patient_list


def patient_list_view(request):
    search = request.GET.get("q", "")[:100]
    page = Paginator(patient_list(user=request.user, search=search), 25).get_page(
        request.GET.get("page")
    )
    access_record(
        request=request,
        what="patient.search" if search else "patient.list",
        patient_ids=[patient.pk for patient in page],
        network_ids={patient.practice.network_id for patient in page},
    )
    return render(request, "patients/patient_list.html", {"page": page, "search": search})


def patient_detail_view(request, patient_id):
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    access_record(
        request=request,
        what="patient.view",
        patient_ids=[patient.pk],
        network_ids={patient.practice.network_id},
    )
    return render(request, "patients/patient_detail.html", {"patient": patient})
