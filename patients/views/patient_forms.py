"""Adding a person to the register and changing their details."""

from django.http import Http404


def patient_create(request):
    raise Http404  # written next


def patient_edit(request, patient_id):
    raise Http404  # written next


def conditions_edit(request, patient_id):
    raise Http404  # written next


def carer_add(request, patient_id):
    raise Http404  # written next


def carer_remove(request, patient_id, carer_id):
    raise Http404  # written next


def consent_add(request, patient_id):
    raise Http404  # written next
