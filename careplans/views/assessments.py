"""Holistic assessment pages (being written)."""

from django.http import Http404


def assessment_list(request):
    raise Http404


def assessment_start(request, patient_id):
    raise Http404


def assessment_view(request, assessment_id):
    raise Http404


def assessment_details(request, assessment_id):
    raise Http404


def assessment_section(request, assessment_id, section):
    raise Http404


def assessment_autosave(request, assessment_id, section):
    raise Http404


def assessment_check(request, assessment_id):
    raise Http404


def assessment_complete(request, assessment_id):
    raise Http404


def assessment_print(request, assessment_id):
    raise Http404


def assessment_amend(request, assessment_id, section):
    raise Http404
