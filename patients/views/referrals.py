"""Referral onto the register, the navigator's triage queue, and moving an
episode on."""

from django.http import Http404


def referral_start(request):
    raise Http404  # written next


def referral_create(request, patient_id):
    raise Http404  # written next


def triage_queue(request):
    raise Http404  # written next


def referral_accept(request, entry_id):
    raise Http404  # written next


def referral_decline(request, entry_id):
    raise Http404  # written next


def entry_status(request, entry_id):
    raise Http404  # written next


def entry_allocate(request, entry_id):
    raise Http404  # written next
