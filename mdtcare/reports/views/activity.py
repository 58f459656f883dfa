"""The monthly activity report page and its CSV / XLSX / JSON exports."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from mdtcare.audit.services import access_record
from mdtcare.reports import activity_export
from mdtcare.reports.access import networks_chosen, report_networks
from mdtcare.reports.activity import FIGURES, SECTIONS, ActivityReport, monthly_activity
from mdtcare.reports.forms import MonthRangeForm
from mdtcare.reports.months import Month

# The figures drawn as lines over time, one line per network.
CHARTED = ("meetings_held", "discussions", "new_patients", "actions_overdue")


def _choice(request):
    """The networks asked for (404 / 403 by the access rules) and the form
    holding the months; the networks come first, so a network the user
    may not see is never hidden behind a month error."""
    allowed = report_networks(user=request.user)
    networks = networks_chosen(
        user=request.user, codes=request.GET.getlist("network"), allowed=allowed
    )
    form = MonthRangeForm(request.GET, networks=allowed)
    return networks, form


def monthly_activity_page(request):
    networks, form = _choice(request)
    context = {"form": form, "networks": networks}
    if form.is_valid():
        report = monthly_activity(
            networks=networks, first=form.cleaned_data["first"], last=form.cleaned_data["last"]
        )
        context.update(
            report=report,
            tables=_tables(report),
            chart=_chart(report),
            query=request.GET.urlencode(),
            period=_period(report),
            this_month=report.months[-1].label if report.months[-1] == Month.current() else "",
        )
    access_record(
        request=request,
        what="report.monthly_activity",
        network_ids=[network.pk for network in networks],
    )
    return render(request, "reports/monthly_activity.html", context)


def monthly_activity_export(request, fmt: str):
    if fmt not in activity_export.FORMATS:
        raise Http404("No such format")
    networks, form = _choice(request)
    if not form.is_valid():
        # The page shows what is wrong with the months.
        return monthly_activity_page(request)
    report = monthly_activity(
        networks=networks, first=form.cleaned_data["first"], last=form.cleaned_data["last"]
    )
    access_record(
        request=request,
        what=f"report.monthly_activity.export.{fmt}",
        network_ids=[network.pk for network in networks],
    )
    return activity_export.response(report, fmt)


def _period(report: ActivityReport) -> str:
    first, last = report.months[0], report.months[-1]
    return first.label if first == last else f"{first.label} to {last.label}"


def _tables(report: ActivityReport) -> list[dict]:
    """One table per network, and one for them all together when there
    are several: sections of figures down the side, months across."""
    scopes = [(network.name, network.pk) for network in report.networks]
    if len(scopes) > 1:
        scopes.insert(0, ("All chosen networks together", None))
    tables = []
    for title, network_id in scopes:
        sections = []
        for section in SECTIONS:
            figures = [figure for figure in FIGURES if figure.section == section]
            sections.append(
                {
                    "title": section,
                    "rows": [
                        {
                            "figure": figure,
                            "cells": [
                                report.value(figure.key, network_id, month)
                                for month in report.months
                            ],
                            "total": report.value(figure.key, network_id, None),
                        }
                        for figure in figures
                    ],
                }
            )
        tables.append({"title": title, "sections": sections})
    return tables


def _chart(report: ActivityReport) -> dict:
    by_key = {figure.key: figure for figure in FIGURES}
    return {
        "labels": [month.short_label for month in report.months],
        "charts": [
            {
                "key": key,
                "title": by_key[key].label,
                "series": [
                    {
                        "label": network.name,
                        "data": [report.value(key, network.pk, month) for month in report.months],
                    }
                    for network in report.networks
                ],
            }
            for key in CHARTED
        ],
        "generated": timezone.localtime().isoformat(timespec="minutes"),
    }
