from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from mdtcare.audit.services import access_record
from patients.selectors import patient_list


def register_list(request):
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
    return render(request, "patients/register_list.html", {"page": page, "search": search})


def register_export(request):
    raise Http404  # written next
