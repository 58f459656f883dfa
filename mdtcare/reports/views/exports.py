"""Report exports on the site: the actions detail export (the file at once
when small, else a background export), an export's status page with its
progress bar, its download, and "Your exports".

Parse, call ``mdtcare.reports.background``, render. Every page writes one
access event (no patient is ever shown: the networks only); a refusal (the
report gate's 404 and 403, someone else's export) writes none.
"""

from __future__ import annotations

import tempfile

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from mdtcare.audit.services import access_record
from mdtcare.core.exports import XLSX_CONTENT_TYPE, csv_response, xlsx_write
from mdtcare.reports import background
from mdtcare.reports.access import networks_chosen, report_networks
from mdtcare.reports.models import ReportExport

PAGE_SIZE = 25


class ActionsExportForm(forms.Form):
    """The choice behind the actions detail export, named as in the address
    (``network``, ``from``, ``to``, ``format``). The rules are
    ``background.export_params_parse``'s; the form only shows them."""

    network = forms.MultipleChoiceField(
        label="Networks",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means all of yours.",
    )
    format = forms.ChoiceField(
        label="File format",
        choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")],
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Choose the format CSV or Excel (XLSX)"},
    )

    def __init__(self, data=None, *, networks, initial=None):
        super().__init__(data, initial=initial)
        self.fields["network"].choices = [(network.code, network.name) for network in networks]
        # "from" is a Python keyword, so the months are added by name.
        for name, label, example in (
            ("from", "Created from month", "2026-01"),
            ("to", "Created to month", "2026-03"),
        ):
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                max_length=20,
                help_text=f"Year and month, for example {example}",
                widget=forms.TextInput(
                    attrs={"class": "nhsuk-input--width-10", "spellcheck": "false"}
                ),
            )
        self.order_fields(["network", "from", "to", "format"])

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["first"], cleaned["last"], cleaned["fmt"] = background.export_params_parse(
                from_text=cleaned.get("from"), to_text=cleaned.get("to"), fmt=cleaned.get("format")
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return cleaned


def _form_page(request, form, chosen, *, status):
    access_record(
        request=request,
        what="report.actions.export_form",
        network_ids={network.pk for network in chosen},
    )
    return render(
        request,
        "reports/export_actions.html",
        {"form": form, "keep_hours": _keep_hours()},
        status=status,
    )


def _keep_hours() -> int:
    return int(background.keep_for().total_seconds() // 3600)


@require_GET
def actions_export(request):
    """``?from=YYYY-MM&to=YYYY-MM&network=CODE&format=csv|xlsx``: the file
    itself when it is small, else a background export and its status page
    (302). Without months or format: the form. Bad months or format: the form with
    its error summary (400)."""
    allowed = report_networks(user=request.user)
    chosen = networks_chosen(
        user=request.user, codes=request.GET.getlist("network"), allowed=allowed
    )
    if not any(key in request.GET for key in ("from", "to", "format")):
        form = ActionsExportForm(
            networks=allowed,
            initial={"format": "csv", "network": [network.code for network in chosen]},
        )
        return _form_page(request, form, chosen, status=200)
    try:
        first, last, fmt = background.export_params_parse(
            from_text=request.GET.get("from"),
            to_text=request.GET.get("to"),
            fmt=request.GET.get("format"),
        )
    except ValidationError:
        # The same rules again, through the form, to show every message.
        form = ActionsExportForm(request.GET, networks=allowed)
        form.is_valid()
        return _form_page(request, form, chosen, status=400)
    decision = actions_export_ask(request, chosen=chosen, first=first, last=last, fmt=fmt)
    if decision.queued:
        return redirect("reports:export", decision.export.pk)
    return export_file_response(decision.detail, fmt)


def actions_export_ask(request, *, chosen, first, last, fmt) -> background.ExportDecision:
    """The actions export asked for (to send now or queued, as
    ``background.export_request`` decides) and its access event, together;
    for the site and the API."""
    with transaction.atomic():
        decision = background.export_request(
            by=request.user,
            kind=ReportExport.Kind.ACTIONS,
            fmt=fmt,
            networks=chosen,
            first=first,
            last=last,
        )
        # Activity only: no patient ids, the networks it covers.
        access_record(
            request=request,
            what="report.actions.export",
            network_ids={network.pk for network in chosen},
        )
    return decision


def export_file_response(detail, fmt: str):
    """The rows as a download now: CSV streamed as it is read; XLSX written
    to an anonymous temporary file first (a zip cannot be streamed), which
    disappears when the response is closed."""
    filename = f"{detail.name}.{fmt}"
    if fmt == ReportExport.Format.CSV:
        return csv_response(filename, detail.header, detail.rows())
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    try:
        xlsx_write(target, [(detail.title, detail.header, detail.rows())])
        target.seek(0)
    except BaseException:
        target.close()
        raise
    return FileResponse(
        target, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


def _own_export(request, export_id) -> ReportExport:
    export = background.export_get_for_user(user=request.user, export_id=export_id)
    if export is None:
        raise Http404("No such export")
    return export


def export_context(export: ReportExport) -> dict:
    """What the status page and its progress partial show."""
    total = max(export.rows_total, export.rows_done)
    again = {
        "from": export.params["from"],
        "to": export.params["to"],
        "network": export.params.get("network_codes", []),
        "format": export.format,
    }
    return {
        "export": export,
        "expired": background.export_is_expired(export),
        "rows_total": total,
        "percent": int(100 * export.rows_done / total) if total else 0,
        "networks": export.params.get("network_names", []),
        "keep_hours": _keep_hours(),
        # Asking again goes through the gate and counts afresh.
        "again_url": reverse("reports:actions_export") + "?" + urlencode(again, doseq=True),
    }


@require_GET
def export_status(request, export_id):
    """An export's status page; its progress part alone for htmx (polled
    every 2 seconds while the export is queued or running)."""
    export = _own_export(request, export_id)
    access_record(
        request=request,
        what="report.export.status",
        network_ids=background.export_network_ids(export),
    )
    context = export_context(export)
    if request.htmx:
        return render(request, "reports/_export_progress.html", context)
    return render(request, "reports/export.html", context)


@require_GET
def export_download(request, export_id):
    """The finished file, to the user who asked only (anyone else: 404),
    until it expires (then 410 with a page saying so)."""
    export = _own_export(request, export_id)
    if export.status != ReportExport.Status.READY:
        return redirect("reports:export", export.pk)
    try:
        if background.export_is_expired(export):
            raise FileNotFoundError(export.file_name)
        file = background.export_path(export).open("rb")
    except FileNotFoundError:
        # Expired, or deleted by the hourly job since this request began.
        return render(request, "reports/export_expired.html", export_context(export), status=410)
    access_record(
        request=request,
        what="report.export.download",
        network_ids=background.export_network_ids(export),
    )
    content_type = (
        XLSX_CONTENT_TYPE
        if export.format == ReportExport.Format.XLSX
        else "text/csv; charset=utf-8"
    )
    return FileResponse(
        file,
        as_attachment=True,
        filename=background.export_download_name(export),
        content_type=content_type,
    )


@require_GET
def export_list(request):
    """Your exports not yet expired (kept a day), newest first."""
    page = Paginator(background.exports_of(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    exports = list(page)
    access_record(
        request=request,
        what="report.export.list",
        network_ids={
            network_id for export in exports for network_id in background.export_network_ids(export)
        },
    )
    return render(
        request,
        "reports/export_list.html",
        {"page": page, "exports": exports, "keep_hours": _keep_hours()},
    )
