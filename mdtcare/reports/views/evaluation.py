"""The outcome evaluation page and its CSV export: parse the cohort choice,
ask ``mdtcare.reports.evaluation`` for the figures, render them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from mdtcare.accounts.permissions import REPORT_ROLES
from mdtcare.accounts.selectors import memberships_cached
from mdtcare.audit.services import access_record
from mdtcare.core.exports import csv_response
from mdtcare.reports import evaluation as rules
from mdtcare.reports.access import networks_chosen
from mdtcare.reports.forms import MonthRangeForm
from mdtcare.reports.months import Month


def _report_networks(request):
    """The networks whose reports the user may see, by name (from the
    memberships the request has read already)."""
    networks = {
        m.network_id: m.network
        for m in memberships_cached(request=request)
        if m.role in REPORT_ROLES
    }
    return sorted(networks.values(), key=lambda network: network.name)


def _form_data(request, chosen, *, today) -> dict:
    """What the form shows and checks: the chosen networks ticked, and the
    months asked for, or the defaults (``to`` alone: the 12 months to it)."""
    default_first, default_last = rules.default_months(today=today)
    to_text = request.GET.get("to", "").strip() or str(default_last)
    from_text = request.GET.get("from", "").strip()
    if not from_text:
        try:
            from_text = str(Month.parse(to_text).plus(-(rules.WINDOW_MONTHS - 1)))
        except ValidationError:
            from_text = str(default_first)
    return {"network": [network.code for network in chosen], "from": from_text, "to": to_text}


def _chosen(request):
    """The networks asked for, through the reports gate (404 for a network
    the user is not in, 403 for one where they do not report)."""
    return networks_chosen(
        user=request.user, codes=request.GET.getlist("network"), allowed=_report_networks(request)
    )


def _cohort(request):
    """(chosen networks, the bound form, the evaluation or None when the
    form has errors)."""
    chosen = _chosen(request)
    today = timezone.localdate()
    form = MonthRangeForm(
        _form_data(request, chosen, today=today),
        networks=_report_networks(request),
        month_labels=("First discussed from", "First discussed to"),
    )
    evaluation = None
    if form.is_valid():
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
        evaluation = rules.outcome_evaluation(networks=chosen, first=first, last=last, today=today)
    return chosen, form, evaluation


def _chart_data(evaluation) -> dict:
    figures = evaluation.tables[-1]  # all chosen networks, or the only one
    rows = figures.rows
    return {
        "title": figures.name,
        "labels": [row.measure.label for row in rows],
        "before": [None if row.rate_before is None else float(row.rate_before) for row in rows],
        "after": [None if row.rate_after is None else float(row.rate_after) for row in rows],
    }


def _render_page(request, *, chosen, form, evaluation, status=200):
    context = {
        "form": form,
        "chosen": chosen,
        "evaluation": evaluation,
        "definitions": rules.DEFINITIONS,
        "measures": rules.MEASURES,
        "limits": rules.LIMITS,
        "window_months": rules.WINDOW_MONTHS,
    }
    if evaluation is not None:
        query = urlencode(
            {
                "network": [network.code for network in chosen],
                "from": str(evaluation.first),
                "to": str(evaluation.last),
            },
            doseq=True,
        )
        context["export_url"] = reverse("reports:evaluation_export") + "?" + query
        context["chart"] = _chart_data(evaluation)
    return render(request, "reports/evaluation.html", context, status=status)


@require_GET
def evaluation_page(request):
    chosen, form, evaluation = _cohort(request)
    # Totals only: no person is shown, so no patient ids.
    access_record(
        request=request,
        what="report.evaluation",
        network_ids={network.pk for network in chosen},
    )
    return _render_page(request, chosen=chosen, form=form, evaluation=evaluation)


EXPORT_COLUMNS = [
    "Network",
    "Network code",
    "First discussed from",
    "First discussed to",
    "People in cohort",
    "Discussed too recently to have 12 months after",
    "Died within 12 months",
    "Person-years before",
    "Person-years after",
    "Measure",
    "Total before",
    "Total after",
    "Rate per person-year before",
    "Rate per person-year after",
    "Change %",
]


def _blank_if_none(value):
    return "" if value is None else value


def export_lines(evaluation):
    """The export's rows after the header: one per table and measure, with
    the figures the page shows."""
    for figures in evaluation.tables:
        for row in figures.rows:
            yield (
                [
                    figures.name,
                    figures.network.code if figures.network else "",
                    str(evaluation.first),
                    str(evaluation.last),
                    figures.people,
                    figures.too_recent,
                    figures.died,
                    figures.person_years_before,
                    figures.person_years_after,
                    row.measure.label,
                    row.total_before,
                    row.total_after,
                    _blank_if_none(row.rate_before),
                    _blank_if_none(row.rate_after),
                    _blank_if_none(row.change_percent),
                ]
            )


@require_GET
def evaluation_export(request):
    """The page's figures as CSV. With bad months, the page with its error
    summary (400), as there is nothing to export."""
    chosen, form, evaluation = _cohort(request)
    network_ids = {network.pk for network in chosen}
    if evaluation is None:
        access_record(request=request, what="report.evaluation", network_ids=network_ids)
        return _render_page(request, chosen=chosen, form=form, evaluation=None, status=400)
    access_record(request=request, what="report.evaluation.export", network_ids=network_ids)
    filename = f"outcome-evaluation-{evaluation.first}-to-{evaluation.last}.csv"
    return csv_response(filename, EXPORT_COLUMNS, export_lines(evaluation))
