"""The pre/post-MDT outcome evaluation: hospital use in the 12 months before
and the 12 months after each person's first MDT discussion.

The rules are written once, here; the page shows the definitions below word
for word, and the page and the CSV export show the same figures.

How it is counted (two queries, whatever the size of the cohort)
----------------------------------------------------------------
Month arithmetic in SQL differs between SQLite and PostgreSQL, so the
database does none: it only truncates dates to their month and groups.

1. **Cohort**: one grouped query over the people first discussed in the
   chosen months by the chosen networks. Each person's first discussion is a
   correlated subquery (their discussions, earliest meeting first); rows are
   grouped by (network of the first discussion, index month, month of death)
   and counted. That is at most networks x months x (1 + months with a
   death) rows, never a row per person.
2. **Activity**: one grouped query over ``HospitalActivity`` of the people in
   the cohort whose after-window is complete, limited to the months any
   window can reach, and to months up to and including the month of death,
   grouped by (network, index month, activity month) with the five counts
   summed. At most networks x index months x 25 rows.

Python then buckets each group into "before" or "after" with ``Month``
arithmetic, and works out person-time from the cohort groups. Memory is
bounded by the number of groups, not by people or activity rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, UUIDField
from django.db.models.functions import TruncMonth

from mdtcare.accounts.models import Network
from mdtcare.reports.months import Month
from meetings.models import Discussion
from patients.models import HospitalActivity, Patient

# How many calendar months each window holds.
WINDOW_MONTHS = 12


@dataclass(frozen=True)
class Measure:
    key: str  # the HospitalActivity field
    label: str
    definition: str


MEASURES: tuple[Measure, ...] = (
    Measure("ae_attendances", "A&E attendances", "Attendances at an emergency department."),
    Measure(
        "non_elective_admissions",
        "Non-elective admissions",
        "Unplanned (emergency) admissions to hospital.",
    ),
    Measure("elective_admissions", "Elective admissions", "Planned admissions to hospital."),
    Measure(
        "outpatient_attendances",
        "Outpatient attendances",
        "Outpatient appointments the person attended.",
    ),
    Measure("bed_days", "Bed days", "Days spent in a hospital bed, from all admissions."),
)

COHORT_DEFINITION = (
    "People whose first ever MDT discussion (the earliest meeting at which they were "
    "discussed, in any network) was in the chosen months and was held by one of the "
    "chosen networks. People first discussed by another network are not counted, "
    "even if a chosen network discussed them later."
)
INDEX_MONTH_DEFINITION = (
    "The index month is the calendar month of the first discussion. “Before” is the "
    f"{WINDOW_MONTHS} calendar months before the index month and “after” is the "
    f"{WINDOW_MONTHS} calendar months after it. The index month itself is in neither."
)
TOO_RECENT_DEFINITION = (
    f"People whose {WINDOW_MONTHS} months after have not all ended (the index month plus "
    f"{WINDOW_MONTHS} is after the last complete calendar month) are left out of the "
    "cohort, and counted."
)
DEATHS_DEFINITION = (
    f"People who died within {WINDOW_MONTHS} months of their first discussion are kept. "
    "They count in the after period only up to and including the month they died."
)
RATE_DEFINITION = (
    "Rate per person-year: the total divided by the years of person-time. Each person "
    f"gives {WINDOW_MONTHS} months before, and {WINDOW_MONTHS} months after unless they died."
)
CHANGE_DEFINITION = (
    "Change: the after rate compared with the before rate, as a percentage. Blank when "
    "the before rate is 0."
)
MISSING_ACTIVITY_DEFINITION = (
    "A month with no hospital activity record for a person counts as no activity."
)
DEFINITIONS: tuple[str, ...] = (
    COHORT_DEFINITION,
    INDEX_MONTH_DEFINITION,
    TOO_RECENT_DEFINITION,
    DEATHS_DEFINITION,
    RATE_DEFINITION,
    CHANGE_DEFINITION,
    MISSING_ACTIVITY_DEFINITION,
)

# "What this evaluation cannot tell you": (heading, plain English).
LIMITS: tuple[tuple[str, str], ...] = (
    (
        "There is no comparison group",
        "We cannot see what would have happened to the same people without an MDT. "
        "Their hospital use would have changed anyway, up or down.",
    ),
    (
        "Regression to the mean",
        "People are often referred when their hospital use is at a peak. Some fall "
        "afterwards is expected with or without the MDT.",
    ),
    (
        "Deaths",
        "People who die leave the after period early. Rates per person-year partly "
        "allow for this, but people near the end of life use hospitals differently.",
    ),
    (
        "The hospital data",
        "The figures are only as complete and up to date as the hospital activity "
        "extract. Recent months may be missing activity that has not yet been coded.",
    ),
    (
        "People moving away",
        "Someone who moves or registers with a practice outside the area may have "
        "hospital use that the extract does not include, which looks like a fall.",
    ),
)

_TWO_PLACES = Decimal("0.01")
_ONE_PLACE = Decimal("0.1")


def _rounded(value: Fraction, places: Decimal) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        places, rounding=ROUND_HALF_UP
    )


def last_complete_month(*, today: dt.date) -> Month:
    return Month.of(today).plus(-1)


def latest_index_month(*, today: dt.date) -> Month:
    """The latest index month whose after-window has ended."""
    return last_complete_month(today=today).plus(-WINDOW_MONTHS)


def default_months(*, today: dt.date) -> tuple[Month, Month]:
    """First discussions in the 12 months that ended 12 months before the
    last complete month: the latest year whose after-windows are all over."""
    last = latest_index_month(today=today)
    return last.plus(-(WINDOW_MONTHS - 1)), last


@dataclass
class MeasureTotals:
    before: int = 0
    after: int = 0


def _rate(total: int, person_months: int) -> Fraction | None:
    """Per person-year: total / (person-months / 12)."""
    return Fraction(total * 12, person_months) if person_months else None


@dataclass(frozen=True)
class MeasureRow:
    """One measure's line of a table (and of the export)."""

    measure: Measure
    total_before: int
    total_after: int
    rate_before: Decimal | None  # per person-year, to 2 places
    rate_after: Decimal | None
    change_percent: Decimal | None  # to 1 place; None when the before-rate is 0

    @classmethod
    def of(cls, measure: Measure, totals: MeasureTotals, months_before: int, months_after: int):
        before = _rate(totals.before, months_before)
        after = _rate(totals.after, months_after)
        # From the exact rates, not the rounded ones.
        change = (after - before) / before * 100 if before and after is not None else None
        return cls(
            measure=measure,
            total_before=totals.before,
            total_after=totals.after,
            rate_before=None if before is None else _rounded(before, _TWO_PLACES),
            rate_after=None if after is None else _rounded(after, _TWO_PLACES),
            change_percent=None if change is None else _rounded(change, _ONE_PLACE),
        )


@dataclass
class CohortFigures:
    """The figures of one network's cohort, or of all the chosen networks'
    together (``network`` None)."""

    network: Network | None
    people: int = 0
    too_recent: int = 0
    died: int = 0
    person_months_before: int = 0
    person_months_after: int = 0
    totals: dict[str, MeasureTotals] = field(
        default_factory=lambda: {measure.key: MeasureTotals() for measure in MEASURES}
    )

    @property
    def name(self) -> str:
        return self.network.name if self.network else "All chosen networks"

    @property
    def first_discussed(self) -> int:
        return self.people + self.too_recent

    @property
    def person_years_before(self) -> Decimal:
        return _rounded(Fraction(self.person_months_before, 12), _ONE_PLACE)

    @property
    def person_years_after(self) -> Decimal:
        return _rounded(Fraction(self.person_months_after, 12), _ONE_PLACE)

    @property
    def rows(self) -> list[MeasureRow]:
        return [
            MeasureRow.of(
                measure,
                self.totals[measure.key],
                self.person_months_before,
                self.person_months_after,
            )
            for measure in MEASURES
        ]

    def add(self, other: CohortFigures) -> None:
        self.people += other.people
        self.too_recent += other.too_recent
        self.died += other.died
        self.person_months_before += other.person_months_before
        self.person_months_after += other.person_months_after
        for key, totals in other.totals.items():
            self.totals[key].before += totals.before
            self.totals[key].after += totals.after


@dataclass
class Evaluation:
    first: Month  # first discussions from this month…
    last: Month  # …to this one, both included
    last_complete: Month
    latest_index: Month  # the latest index month with a complete after-window
    networks: list[CohortFigures]
    overall: CohortFigures

    @property
    def tables(self) -> list[CohortFigures]:
        """What the page and the export show: each network, and all of them
        together when there is more than one."""
        if len(self.networks) > 1:
            return [*self.networks, self.overall]
        return list(self.networks)

    @property
    def nobody(self) -> bool:
        return self.overall.first_discussed == 0

    @property
    def all_too_recent(self) -> bool:
        return self.overall.people == 0 and self.overall.too_recent > 0


def _first_discussions(patient_ref):
    """A person's discussions, the first one first (earliest meeting date,
    then start time; the agenda item breaks a tie)."""
    return Discussion.objects.filter(item__patient=patient_ref).order_by(
        "item__meeting__date", "item__meeting__starts_at", "item_id"
    )


def _discussed_in(networks: Sequence[Network], first: Month, last: Month):
    """Ids of people with any discussion in these networks and months: the
    only people whose first discussion can qualify (keeps the correlated
    subqueries to them)."""
    return Discussion.objects.filter(
        item__meeting__network__in=[network.pk for network in networks],
        item__meeting__date__gte=first.first_day,
        item__meeting__date__lte=last.last_day,
    ).values("item__patient_id")


def _alive_months(window_first: Month, window_last: Month, died: Month | None) -> int:
    """Months of the window (both ends included) up to and including the
    month of death."""
    end = window_last if died is None else min(window_last, died)
    return max(0, (end.year - window_first.year) * 12 + end.month - window_first.month + 1)


def outcome_evaluation(
    *, networks: Sequence[Network], first: Month, last: Month, today: dt.date
) -> Evaluation:
    """The evaluation of the people first discussed from ``first`` to
    ``last`` (months, both included) by ``networks``, as of ``today``.
    Two queries; see the module docstring."""
    network_ids = [network.pk for network in networks]
    latest_index = latest_index_month(today=today)
    by_network = {network.pk: CohortFigures(network) for network in networks}

    first_ref = _first_discussions(OuterRef("pk"))
    cohort = (
        Patient.objects.filter(pk__in=_discussed_in(networks, first, last))
        .annotate(
            first_on=Subquery(first_ref.values("item__meeting__date")[:1]),
            first_network=Subquery(
                first_ref.values("item__meeting__network_id")[:1], output_field=UUIDField()
            ),
        )
        .filter(
            first_on__gte=first.first_day,
            first_on__lte=last.last_day,
            first_network__in=network_ids,
        )
        .order_by()
        .values(
            "first_network",
            index_month=TruncMonth("first_on"),
            death_month=TruncMonth("date_of_death"),
        )
        .annotate(people=Count("pk"))
    )
    for group in cohort:
        figures = by_network[group["first_network"]]
        index = Month.of(group["index_month"])
        died = Month.of(group["death_month"]) if group["death_month"] else None
        people = group["people"]
        if index > latest_index:
            figures.too_recent += people
            continue
        figures.people += people
        if died is not None and died <= index.plus(WINDOW_MONTHS):
            figures.died += people
        figures.person_months_before += people * _alive_months(
            index.plus(-WINDOW_MONTHS), index.plus(-1), died
        )
        figures.person_months_after += people * _alive_months(
            index.plus(1), index.plus(WINDOW_MONTHS), died
        )

    # Only people whose after-window is complete; activity in months any of
    # their windows reaches, and none after the month of death.
    eligible_last = min(last, latest_index)
    activity_ref = _first_discussions(OuterRef("patient_id"))
    activity = (
        HospitalActivity.objects.filter(
            patient_id__in=_discussed_in(networks, first, eligible_last),
            month__gte=first.plus(-WINDOW_MONTHS).first_day,
            month__lte=eligible_last.plus(WINDOW_MONTHS).first_day,
        )
        .filter(Q(patient__date_of_death__isnull=True) | Q(month__lte=F("patient__date_of_death")))
        .annotate(
            first_on=Subquery(activity_ref.values("item__meeting__date")[:1]),
            first_network=Subquery(
                activity_ref.values("item__meeting__network_id")[:1], output_field=UUIDField()
            ),
        )
        .filter(
            first_on__gte=first.first_day,
            first_on__lte=eligible_last.last_day,
            first_network__in=network_ids,
        )
        .order_by()
        .values("first_network", "month", index_month=TruncMonth("first_on"))
        .annotate(**{measure.key + "_sum": Sum(measure.key) for measure in MEASURES})
    )
    for group in activity:
        index = Month.of(group["index_month"])
        month = Month.of(group["month"])
        offset = (month.year - index.year) * 12 + month.month - index.month
        if -WINDOW_MONTHS <= offset <= -1:
            before = True
        elif 1 <= offset <= WINDOW_MONTHS:
            before = False
        else:  # the index month itself, or outside this person's windows
            continue
        totals = by_network[group["first_network"]].totals
        for measure in MEASURES:
            count = group[measure.key + "_sum"] or 0
            if before:
                totals[measure.key].before += count
            else:
                totals[measure.key].after += count

    overall = CohortFigures(None)
    for figures in by_network.values():
        overall.add(figures)
    return Evaluation(
        first=first,
        last=last,
        last_complete=last_complete_month(today=today),
        latest_index=latest_index,
        networks=list(by_network.values()),
        overall=overall,
    )
