"""The CSV imports (risk-stratification scores, hospital activity: upload,
review, confirm) and the case-finding list. Each view parses, calls one
service or selector of patients.imports, and renders; both imports' pages
work the same way, through ``_upload`` and ``_review``."""

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


def _file_field(*, help_text: str, required: str) -> forms.FileField:
    """The upload of a CSV file; every check of the file is the service's."""
    return forms.FileField(
        label="Upload a CSV file",
        help_text=f"{help_text} At most {imports.size_label(imports.max_upload_bytes())}.",
        # An empty file gets the service's message, not Django's.
        allow_empty_file=True,
        error_messages={"required": required},
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )


class RiskImportForm(forms.Form):
    """The upload. Lives here rather than in patients/forms.py because it
    belongs to this page alone."""

    file = _file_field(
        help_text=(
            "A CSV file with a header row and one person per row: NHS number, risk score "
            "(0 to 100), eFI category (optional) and score date, for example "
            "“999 000 0018,82.5,moderate,2026-03-02”."
        ),
        required="Select the CSV file with the risk scores",
    )


class HospitalActivityImportForm(forms.Form):
    file = _file_field(
        help_text=(
            "A CSV file with a header row and one row per person per month: NHS number, "
            "month, A&E attendances, non-elective admissions, elective admissions, "
            "outpatient attendances and bed days, for example "
            "“999 000 0018,2026-02,1,1,0,2,6”."
        ),
        required="Select the CSV file with the hospital activity",
    )


def _upload(request, *, form_class, validate, review_url: str, template: str, context: dict):
    """Choose a file; a readable one goes on to its report, an unreadable
    one is explained here so that another can be chosen at once."""
    # Bound on every POST: one without a file is "select a file", not a blank form.
    form = form_class(request.POST, request.FILES) if request.method == "POST" else form_class()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        # One byte over the limit is enough to know the file is too large.
        content = upload.read(imports.max_upload_bytes() + 1)
        an_import = validate(by=request.user, filename=upload.name, content=content)
        report = imports.import_report(an_import)
        if not report.file_errors:
            return redirect(review_url, import_id=an_import.pk)
        for message in report.file_errors:
            form.add_error("file", message)
    return render(request, template, {"form": form, **context})


def _review(request, an_import, *, apply, what: str, template: str, upload_url: str, stem: str):
    """The report of a checked file; ``action=apply`` imports its valid rows
    (``apply()``, with an access event naming whom it reached, in one
    transaction), ``action=discard`` throws it away. ``?download=errors`` is
    the whole report as CSV."""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "apply":
                # The access event is written in the same transaction as the change.
                with transaction.atomic():
                    an_import = apply()
                    access_record(
                        request=request,
                        what=what,
                        patient_ids=an_import.matched_patient_ids,
                        network_ids=an_import.matched_network_ids,
                    )
            elif action == "discard":
                imports.import_discard(by=request.user, an_import=an_import)
                messages.success(request, f"The file {an_import.filename} was discarded.")
                return redirect(upload_url)
            else:
                return HttpResponseBadRequest("Choose to import or to discard the file.")
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect(request.path)

    report = imports.import_report(an_import)
    if request.GET.get("download") == "errors":
        return _error_report_csv(an_import, report, stem=stem)
    return render(
        request,
        template,
        {
            "an_import": an_import,
            "report": report,
            "upload_url": upload_url,
            "errors_shown": report.row_errors[:ERRORS_SHOWN],
            "errors_not_shown": max(len(report.row_errors) - ERRORS_SHOWN, 0),
        },
    )


def _error_report_csv(an_import, report, *, stem: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # The uploaded name, reduced to characters that are safe in a header.
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", an_import.filename.rsplit(".", 1)[0])[:100]
    response["Content-Disposition"] = f'attachment; filename="{name or stem}-problems.csv"'
    # A byte-order mark, so that Excel opens the file as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["line", "problem"])
    for message in report.file_errors:
        writer.writerow(csv_safe([0, message]))
    for line, message in report.row_errors:
        writer.writerow(csv_safe([line, message]))
    return response


@require_http_methods(["GET", "POST"])
def risk_import_upload(request):
    imports.risk_import_require_role(user=request.user)
    return _upload(
        request,
        form_class=RiskImportForm,
        validate=imports.risk_import_validate,
        review_url="patients:risk_import_review",
        template="patients/risk_import.html",
        context={"columns": imports.RISK_FILE.columns},
    )


@require_http_methods(["GET", "POST"])
def risk_import_review(request, import_id):
    risk_import = imports.risk_import_get_for_user(user=request.user, import_id=import_id)
    return _review(
        request,
        risk_import,
        apply=lambda: imports.risk_import_apply(by=request.user, risk_import=risk_import),
        what="risk_import.apply",
        template="patients/risk_import_review.html",
        upload_url="patients:risk_import",
        stem="risk-scores",
    )


@require_http_methods(["GET", "POST"])
def hospital_activity_import_upload(request):
    imports.hospital_activity_import_require_role(user=request.user)
    return _upload(
        request,
        form_class=HospitalActivityImportForm,
        validate=imports.hospital_activity_import_validate,
        review_url="patients:hospital_activity_import_review",
        template="patients/hospital_activity_import.html",
        context={"columns": imports.ACTIVITY_FILE.columns},
    )


@require_http_methods(["GET", "POST"])
def hospital_activity_import_review(request, import_id):
    activity_import = imports.hospital_activity_import_get_for_user(
        user=request.user, import_id=import_id
    )
    return _review(
        request,
        activity_import,
        apply=lambda: imports.hospital_activity_import_apply(
            by=request.user, activity_import=activity_import
        ),
        what="hospital_activity_import.apply",
        template="patients/hospital_activity_import_review.html",
        upload_url="patients:hospital_activity_import",
        stem="hospital-activity",
    )


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
