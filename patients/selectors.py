"""Reading the register, always through the access gate."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q

from mdtcare.accounts.models import Membership, User
from mdtcare.core import nhs_number
from mdtcare.core.gate import get_visible_or_404
from patients.models import Consent, EntryStatusChange, Patient, RegisterEntry

_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d %m %Y", "%d.%m.%Y")


def _as_date(text: str) -> dt.date | None:
    for date_format in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def patient_search_filter(text: str) -> Q:
    """Name, NHS number (with or without spaces) or date of birth."""
    text = (text or "").strip()
    if not text:
        return Q()
    digits = nhs_number.normalise(text)
    if digits.isdigit() and len(digits) == 10:
        return Q(nhs_number=digits)
    date = _as_date(text)
    if date is not None:
        return Q(date_of_birth=date)
    query = Q()
    for word in text.split()[:4]:
        query &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    return query


def patient_list(*, user, search: str = ""):
    return (
        Patient.objects.visible_to(user)
        .filter(patient_search_filter(search))
        .select_related("practice", "practice__network")
        .order_by("family_name", "given_name", "id")
    )


def patient_get_for_user(*, user, patient_id) -> Patient:
    """One patient through the gate; 404 if outside it or unknown."""
    return get_visible_or_404(
        Patient.objects.select_related("practice", "practice__network"), user, pk=patient_id
    )


def patient_find_by_nhs_number(*, user, number: str) -> Patient | None:
    """The visible patient with this NHS number (typed with or without spaces)."""
    return Patient.objects.visible_to(user).filter(nhs_number=nhs_number.normalise(number)).first()


def patient_record(*, user, patient_id) -> Patient:
    """A patient with everything the record page shows, in a fixed number of queries."""
    entries = RegisterEntry.objects.select_related(
        "clinical_lead", "navigator", "referring_organisation", "created_by"
    ).prefetch_related(
        Prefetch(
            "status_changes",
            queryset=EntryStatusChange.objects.select_related("by").order_by("at", "id"),
        )
    )
    return get_visible_or_404(
        Patient.objects.select_related("practice", "practice__network").prefetch_related(
            Prefetch("entries", queryset=entries.order_by("-referred_on", "-created_at")),
            "conditions__condition",
            "carers",
            Prefetch("consents", queryset=Consent.objects.select_related("recorded_by")),
        ),
        user,
        pk=patient_id,
    )


def consents_in_force(patient: Patient) -> dict[str, Consent]:
    """The latest decision per topic, from the prefetched consents."""
    latest: dict[str, Consent] = {}
    for consent in patient.consents.all():  # ordered newest first
        latest.setdefault(consent.topic, consent)
    return latest


def open_entry(patient: Patient) -> RegisterEntry | None:
    """The open episode, from the prefetched entries."""
    return next((entry for entry in patient.entries.all() if entry.is_open), None)


def entry_get_for_user(*, user, entry_id) -> RegisterEntry:
    return get_visible_or_404(
        RegisterEntry.objects.select_related(
            "patient", "patient__practice", "clinical_lead", "navigator"
        ),
        user,
        pk=entry_id,
    )


def triage_queue(*, user):
    """Referrals waiting for a decision: urgent first, then oldest first."""
    return (
        RegisterEntry.objects.visible_to(user)
        .filter(status=RegisterEntry.Status.REFERRED)
        .select_related("patient", "patient__practice", "patient__practice__network")
        .order_by("-urgency", "referred_on", "created_at")
    )


def network_practitioners(*, network_id, roles: set[str] | None = None):
    """The members of a network who can be clinical lead or navigator."""
    members = Membership.objects.filter(network_id=network_id)
    if roles:
        members = members.filter(role__in=roles)
    return User.objects.filter(is_active=True, pk__in=members.values("user_id")).order_by(
        "last_name", "first_name"
    )
