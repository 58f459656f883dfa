"""Reading the register, always through the access gate."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from mdtcare.core import nhs_number
from mdtcare.core.gate import get_visible_or_404
from patients.models import Patient

_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d %m %Y")


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
