"""The service admin's home page: this month so far against last month,
for the figures people ask about first. Read from the monthly activity, so
the numbers are the report's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from mdtcare.accounts.models import Network
from mdtcare.reports.activity import FIGURES_BY_KEY, Figure, monthly_activity
from mdtcare.reports.months import Month

HEADLINES = (
    "meetings_held",
    "discussions",
    "new_patients",
    "referrals_received",
    "plans_ratified",
    "actions_completed",
    "actions_overdue",
)


@dataclass(frozen=True)
class Headline:
    figure: Figure
    this_month: int
    last_month: int


@dataclass(frozen=True)
class Dashboard:
    this_month: Month
    last_month: Month
    headlines: list[Headline]


def month_so_far(*, network: Network, now: dt.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    this = Month.of(timezone.localdate(now))
    report = monthly_activity(networks=[network], first=this.plus(-1), last=this, now=now)
    return Dashboard(
        this_month=this,
        last_month=this.plus(-1),
        headlines=[
            Headline(
                figure=FIGURES_BY_KEY[key],
                this_month=report.value(key, network.pk, this),
                last_month=report.value(key, network.pk, this.plus(-1)),
            )
            for key in HEADLINES
        ],
    )
