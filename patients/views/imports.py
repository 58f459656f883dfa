"""Risk-stratification import (upload, review, confirm) and the case-finding
list. Each view parses, calls one service or selector of patients.imports,
and renders."""

from __future__ import annotations

import csv
import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mdtcare.audit.services import access_record
from mdtcare.core.exports import csv_safe
from patients import imports

# The review page lists this many problems; the CSV download has them all.
ERRORS_SHOWN = 500


class RiskImportForm(forms.Form):
    """The upload. Lives here rather than in patients/forms.py because it
    belongs to this page alone; every check of the file is the service's."""

    file = forms.FileField(
        label="Upload a CSV file",
        help_text=(
            "A CSV file with a header row and one person per row: NHS number, risk score "
            "(0 to 100), eFI category (optional) and score date, for example "
            "“485 777 3456,82.5,moderate,2026-03-02”. "
            f"At most {imports.size_label(imports.max_upload_bytes())}."
        ),
        # An empty file gets the service's message, not Django's.
        allow_empty_file=True,
        error_messages={"required": "Select the CSV file with the risk scores"},
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )


@require_http_methods(["GET", "POST"])
def risk_import_upload(request):
    """Choose a file; a readable one goes on to its report, an unreadable
    one is explained here so that another can be chosen at once."""
    imports.risk_import_require_role(user=request.user)
    # Bound on every POST: one without a file is "select a file", not a blank form.
    if request.method == "POST":
        form = RiskImportForm(request.POST, request.FILES)
    else:
        form = RiskImportForm()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        # One byte over the limit is enough to know the file is too large.
        content = upload.read(imports.max_upload_bytes() + 1)
        risk_import = imports.risk_import_validate(
            by=request.user, filename=upload.name, content=content
        )
        report = imports.risk_import_report(risk_import)
        if not report.file_errors:
            return redirect("patients:risk_import_review", import_id=risk_import.pk)
        for message in report.file_errors:
            form.add_error("file", message)
    return render(
        request,
        "patients/risk_import.html",
        {"form": form, "columns": imports.COLUMNS},
    )


@require_http_methods(["GET", "POST"])
def risk_import_review(request, import_id):
    """The report of a checked file; ``action=apply`` imports its valid rows,
    ``action=discard`` throws it away. ``?download=errors`` is the whole
    report as CSV."""
    risk_import = imports.risk_import_get_for_user(user=request.user, import_id=import_id)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "apply":
                # The access event is written in the same transaction as the change.
                with transaction.atomic():
                    risk_import = imports.risk_import_apply(
                        by=request.user, risk_import=risk_import
                    )
                    access_record(
                        request=request,
                        what="risk_import.apply",
                        patient_ids=risk_import.matched_patient_ids,
                        network_ids=risk_import.matched_network_ids,
                    )
            elif action == "discard":
                imports.risk_import_discard(by=request.user, risk_import=risk_import)
                messages.success(request, f"The file {risk_import.filename} was discarded.")
                return redirect("patients:risk_import")
            else:
                return HttpResponseBadRequest("Choose to import or to discard the file.")
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("patients:risk_import_review", import_id=risk_import.pk)

    report = imports.risk_import_report(risk_import)
    if request.GET.get("download") == "errors":
        return _error_report_csv(risk_import, report)
    return render(
        request,
        "patients/risk_import_review.html",
        {
            "risk_import": risk_import,
            "report": report,
            "errors_shown": report.row_errors[:ERRORS_SHOWN],
            "errors_not_shown": max(len(report.row_errors) - ERRORS_SHOWN, 0),
        },
    )


def _error_report_csv(risk_import, report) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # The uploaded name, reduced to characters that are safe in a header.
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", risk_import.filename.rsplit(".", 1)[0])[:100]
    response["Content-Disposition"] = f'attachment; filename="{stem or "risk-scores"}-problems.csv"'
    # A byte-order mark, so that Excel opens the file as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["line", "problem"])
    for message in report.file_errors:
        writer.writerow(csv_safe([0, message]))
    for line, message in report.row_errors:
        writer.writerow(csv_safe([line, message]))
    return response


class CaseFindingForm(forms.Form):
    top = forms.IntegerField(
        label="Show the top percent of each network instead",
        help_text="A whole number from 1 to 50, for example 5 for the top 5%",
        min_value=imports.TOP_PERCENT_RANGE[0],
        max_value=imports.TOP_PERCENT_RANGE[1],
        required=False,
        error_messages={
            "invalid": "Enter the top percent as a whole number, like 5",
            "min_value": "Enter a top percent from 1 to 50",
            "max_value": "Enter a top percent from 1 to 50",
        },
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-3", "inputmode": "numeric"}),
    )


@require_http_methods(["GET"])
def case_finding(request):
    """People of the user's networks at high risk and not on the register,
    highest score first, each with a link that starts their referral."""
    form = CaseFindingForm(request.GET if "top" in request.GET else None)
    top = form.cleaned_data["top"] if form.is_bound and form.is_valid() else None
    page = Paginator(imports.case_finding_list(user=request.user, top_percent=top), 25).get_page(
        request.GET.get("page")
    )
    access_record(
        request=request,
        what="patient.case_finding",
        patient_ids=[patient.pk for patient in page],
        network_ids={patient.practice.network_id for patient in page},
    )
    return render(
        request,
        "patients/case_finding.html",
        {
            "form": form,
            "page": page,
            "top": top,
            "threshold": settings.CASE_FINDING_THRESHOLD,
        },
    )
