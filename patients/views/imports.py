"""Risk-stratification import and the case-finding list."""

from django.http import Http404


def risk_import_upload(request):
    raise Http404  # written next


def risk_import_review(request, import_id):
    raise Http404  # written next


def case_finding(request):
    raise Http404  # written next
