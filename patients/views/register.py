"""The register: the list of the people in the user's networks, with its
filters, search and sort, and the CSV export of the same list."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
from mdtcare.core.exports import csv_response
from mdtcare.core.templatetags.nhsuk_dates import age_on
from patients.models import Patient
from patients.selectors import (
    REGISTER_STATUS_CHOICES,
    RISK_BANDS,
    RISK_NOT_SCORED,
    TIERS,
    RegisterFilters,
    register_filter_options,
    register_row,
    register_rows,
    register_sort,
    register_sort_link,
)

PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 100
# Rows fetched from the database at a time while an export streams.
EXPORT_CHUNK = 1000


@dataclass(frozen=True)
class SortableColumn:
    """A column header that sorts the table: its link, and the ``aria-sort``
    of the column the table is sorted by."""

    label: str
    href: str
    aria_sort: str  # "ascending", "descending" or "" when not sorted by it


def _search(request) -> str:
    return request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]


def _query_with(request, **changes) -> str:
    """The request's query string with some parameters changed (None drops
    one); the page number always goes, as a new order or filter starts at 1."""
    query: QueryDict = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return query.urlencode()


@require_GET
def register_list(request):
    search = _search(request)
    filters = RegisterFilters.from_query(request.GET)
    sort = register_sort(request.GET.get("sort"))
    rows = register_rows(user=request.user, search=search, filters=filters, sort=sort.key)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = [register_row(patient) for patient in page]
    access_record(
        request=request,
        what="patient.search" if search or filters.is_set() else "patient.list",
        patient_ids=[row.patient.pk for row in shown],
        network_ids={row.patient.practice.network_id for row in shown},
    )
    columns = {
        column: SortableColumn(
            label=label,
            href="?" + _query_with(request, sort=register_sort_link(column=column, current=sort)),
            aria_sort=(
                ("descending" if sort.descending else "ascending") if sort.column == column else ""
            ),
        )
        for column, label in [
            ("name", "Name"),
            ("age", "Age"),
            ("status", "Status"),
            ("risk", "Risk score"),
            ("referred", "Referred"),
        ]
    }
    return render(
        request,
        "patients/register_list.html",
        {
            "page": page,
            "rows": shown,
            "search": search,
            "filters": filters,
            "filtered": bool(search) or filters.is_set(),
            "sort": sort,
            "columns": columns,
            "options": register_filter_options(user=request.user),
            "networks": [m.network for m in memberships_cached(request=request)],
            "status_choices": REGISTER_STATUS_CHOICES,
            "tiers": TIERS,
            "risk_bands": RISK_BANDS,
            "risk_not_scored": RISK_NOT_SCORED,
            "export_query": _query_with(request),
        },
    )


EXPORT_COLUMNS = [
    "Family name",
    "Given name",
    "NHS number",
    "Date of birth",
    "Age",
    "Date of death",
    "Postcode",
    "Practice",
    "Practice ODS code",
    "Status",
    "Referred on",
    "Tier",
    "Risk score",
    "Risk band",
    "Clinical lead",
    "Navigator",
]


def _export_line(patient: Patient) -> list:
    row = register_row(patient)
    return [
        patient.family_name,
        patient.given_name,
        patient.nhs_number_display,
        patient.date_of_birth.isoformat(),
        # The age the page shows (at death, for someone who has died).
        age_on(patient.date_of_birth, patient.date_of_death),
        patient.date_of_death.isoformat() if patient.date_of_death else "",
        patient.postcode,
        patient.practice.name,
        patient.practice.ods_code or "",
        row.status_label,
        row.referred_on.isoformat() if row.referred_on else "",
        "" if row.tier is None else row.tier,
        "" if patient.risk_score is None else patient.risk_score,
        row.risk_band.label if row.risk_band else "",
        row.lead_name,
        row.navigator_name,
    ]


@require_GET
def register_export(request):
    """The whole filtered register (every page) as CSV, in the list's order.

    The access event naming every exported patient is written before the
    first row is sent; a patient who matched only after that moment (added
    while the file streams) is left out rather than exported unaudited."""
    rows = register_rows(
        user=request.user,
        search=_search(request),
        filters=RegisterFilters.from_query(request.GET),
        sort=register_sort(request.GET.get("sort")).key,
    )
    exported = dict(rows.order_by().values_list("pk", "practice__network_id"))
    access_record(
        request=request,
        what="patient.export",
        patient_ids=exported.keys(),
        network_ids=set(exported.values()),
    )

    def lines():
        for patient in rows.iterator(chunk_size=EXPORT_CHUNK):
            if patient.pk in exported:
                yield _export_line(patient)

    filename = f"register-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(filename, EXPORT_COLUMNS, lines())
