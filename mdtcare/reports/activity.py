"""Monthly activity: the figures a network reports to its commissioners,
each defined once here. The report page shows these definitions under
each figure, and the CSV, XLSX and JSON exports carry the same keys.

Months are calendar months in Europe/London time (the service's
TIME_ZONE): a moment such as a signature or a completion belongs to the
month it fell in on a London clock, and dates (meetings, referrals, due
dates) to the month they name. A month still running counts what has
happened so far, and "at month end" means now.

Meetings, discussions and attendance belong to the network whose MDT
held the meeting; referrals, assessments, plans, reviews and actions to
the network of the person's practice. The whole report costs the same
fixed number of queries, however many months, networks or records: each
figure is one grouped query over the range (see ``QUERIES``).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from careplans.models import Assessment, CarePlan
from mdtcare.accounts.models import Network, Profession
from mdtcare.reports.months import Month, months_between
from meetings.models import Action, Attendance, AttendanceStatus, Discussion, Meeting
from patients.models import EntryStatus, ReferralSource, RegisterEntry

# How a figure adds up over several months (the "All months" column):
SUM = "sum"  # the months added together
DISTINCT = "distinct"  # people counted once however many months
LAST = "last"  # a position at a moment: the last month's value
MEDIAN = "median"  # the median of all the values behind the months

# What a meeting must be for its discussions and attendance to count.
HELD = (Meeting.Status.IN_PROGRESS, Meeting.Status.CLOSED)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    definition: str
    section: str
    total: str = SUM


MEETINGS = "MDT meetings and discussions"
REFERRALS = "Referrals"
PLANS = "Assessments, care plans and reviews"
ACTIONS = "Actions"
ATTENDANCE = "Attendance at MDT meetings"

FIGURES: tuple[Figure, ...] = (
    Figure(
        "meetings_held",
        "MDT meetings held",
        "Meetings of the network dated in the month that took place (started or closed). "
        "Cancelled meetings, and meetings not yet held, are not counted.",
        MEETINGS,
    ),
    Figure(
        "discussions",
        "Patient discussions",
        "Outcomes recorded at those meetings: one for each person discussed at each meeting. "
        "Someone on the agenda who was not reached was not discussed.",
        MEETINGS,
    ),
    Figure(
        "patients_discussed",
        "Distinct patients discussed",
        "People discussed at least once; someone discussed at two meetings counts once.",
        MEETINGS,
        DISTINCT,
    ),
    Figure(
        "new_patients",
        "New patients",
        "People whose first ever MDT discussion, at any network, was in the month.",
        MEETINGS,
    ),
    Figure(
        "median_days_to_first_discussion",
        "Median days from referral to first discussion",
        "For the new patients: the days from their referral (the latest received on or before "
        "the discussion) to their first discussion; the middle value, or the mean of the two "
        "middle values. Blank when there were no new patients.",
        MEETINGS,
        MEDIAN,
    ),
    Figure(
        "referrals_received",
        "Referrals received",
        "Referrals with a referral date in the month, from any source.",
        REFERRALS,
    ),
    *(
        Figure(
            f"referrals_from_{source.value}",
            f"Referrals from: {source.label}",
            f"Referrals received in the month from: {source.label}.",
            REFERRALS,
        )
        for source in ReferralSource
    ),
    Figure(
        "referrals_accepted",
        "Referrals accepted",
        "Referrals accepted onto the caseload in the month (the decision date), whatever "
        "has happened to them since.",
        REFERRALS,
    ),
    Figure(
        "referrals_declined",
        "Referrals declined",
        "Referrals declined in the month (the decision date).",
        REFERRALS,
    ),
    Figure(
        "assessments_initial",
        "Initial assessments completed",
        "First holistic assessments signed in the month.",
        PLANS,
    ),
    Figure(
        "assessments_reassessment",
        "Re-assessments completed",
        "Holistic re-assessments signed in the month.",
        PLANS,
    ),
    Figure(
        "plans_ratified",
        "Care plans ratified",
        "Care plan versions ratified (by the MDT, or its chair) in the month.",
        PLANS,
    ),
    Figure(
        "plans_shared",
        "Care plans shared",
        "Ratified care plan versions shared with the person in the month.",
        PLANS,
    ),
    Figure(
        "reviews_due",
        "Reviews due",
        "Ratified care plan versions whose review date fell in the month, unless the "
        "person's episode ended before that date.",
        PLANS,
    ),
    Figure(
        "reviews_on_time",
        "Reviews done on time",
        "Of the reviews due, those where after the plan was ratified and by its review date "
        "the person was discussed at an MDT, re-assessed, or a new version of the plan was "
        "ratified.",
        PLANS,
    ),
    Figure(
        "actions_created",
        "Actions created",
        "Actions added in the month, from meetings, plans, reviews or elsewhere.",
        ACTIONS,
    ),
    Figure(
        "actions_completed",
        "Actions completed",
        "Actions marked done in the month, whenever they were created.",
        ACTIONS,
    ),
    Figure(
        "actions_overdue",
        "Actions open and overdue at month end",
        "Actions not done or cancelled by midnight at the end of the month whose due date "
        "was before the month's last day (now, for the month still running). An action due "
        "on the last day is not yet overdue.",
        ACTIONS,
        LAST,
    ),
    *(
        Figure(
            f"attended_{profession.value}",
            f"Attended: {profession.label}",
            f"Attendances at the month's meetings recorded as present, by people whose "
            f"profession is: {profession.label}.",
            ATTENDANCE,
        )
        for profession in Profession
    ),
    Figure(
        "attended_other",
        "Attended: other or not recorded",
        "Attendances recorded as present by guests whose profession is another one, or "
        "was not recorded.",
        ATTENDANCE,
    ),
)

FIGURES_BY_KEY = {figure.key: figure for figure in FIGURES}
SECTIONS = tuple(dict.fromkeys(figure.section for figure in FIGURES))
_PROFESSION_KEYS = {profession.label.lower(): profession.value for profession in Profession}


@dataclass
class ActivityReport:
    """The figures for each (network, month). A network of ``None`` is all
    the chosen networks together and a month of ``None`` all the months."""

    months: list[Month]
    networks: list[Network]
    values: dict[tuple, dict[str, int | float | None]] = field(default_factory=dict)

    def value(self, key: str, network_id=None, month: Month | None = None):
        return self.values.get((network_id, month), {}).get(key)

    def rows(self) -> Iterable[tuple[Network, Month, dict]]:
        """One row per network and month, networks by name then months in
        order: what the exports hold."""
        for network in self.networks:
            for month in self.months:
                yield network, month, self.values[(network.pk, month)]


def monthly_activity(
    *, networks: Sequence[Network], first: Month, last: Month, now: dt.datetime | None = None
) -> ActivityReport:
    """The monthly activity of ``networks`` from ``first`` to ``last``."""
    now = now or timezone.now()
    months = months_between(first, last)
    report = ActivityReport(months=months, networks=list(networks))
    scope = _Scope(report, now)
    for query in QUERIES:
        query(scope)
    scope.finish()
    return report


class _Scope:
    """The range being counted and the tallies as the queries fill them."""

    def __init__(self, report: ActivityReport, now: dt.datetime):
        self.report = report
        self.now = now
        self.network_ids = [network.pk for network in report.networks]
        self.first, self.last = report.months[0], report.months[-1]
        self.starts_at = self.first.starts_at()
        self.ends_at = min(self.last.ends_at(), now)
        self.counts: dict[tuple, dict[str, int | float | None]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.waits: dict[tuple, list[int]] = defaultdict(list)

    def in_range(self, month: Month) -> bool:
        return self.first <= month <= self.last

    def add(self, network_id, month: Month, key: str, count: int) -> None:
        """Add to the (network, month) cell and the totals it rolls into.
        Used by SUM figures; DISTINCT and LAST ones are set directly."""
        if not self.in_range(month):
            return
        for cell in ((network_id, month), (None, month), (network_id, None), (None, None)):
            self.counts[cell][key] += count

    def set(self, network_id, month: Month | None, key: str, value) -> None:
        self.counts[(network_id, month)][key] = value

    def finish(self) -> None:
        cells = [
            (network_id, month)
            for network_id in [*self.network_ids, None]
            for month in [*self.report.months, None]
        ]
        for cell in cells:
            found = self.counts.get(cell, {})
            values = {}
            for figure in FIGURES:
                if figure.total == MEDIAN:
                    waits = self.waits.get(cell)
                    values[figure.key] = _median(waits) if waits else None
                else:
                    values[figure.key] = found.get(figure.key, 0)
            self.report.values[cell] = values


def _median(values: list[int]) -> float | int:
    middle = statistics.median(values)
    return int(middle) if middle == int(middle) else round(middle, 1)


def _month_of(value) -> Month:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return Month.of(value.date())
    return Month.of(value)


def _grouped(queryset, network: str, month_field: str, *extra: str, local_time: bool = False):
    """``(network id, month, *extra values, count)`` rows of ``queryset``:
    months of a date as they are, of a moment on a London clock."""
    if local_time:
        month = TruncMonth(month_field, tzinfo=timezone.get_current_timezone())
    else:
        month = TruncMonth(month_field)
    return (
        queryset.annotate(_month=month)
        .values(network, "_month", *extra)
        .annotate(_count=Count("pk"))
        .order_by()
        .values_list(network, "_month", *extra, "_count")
    )


# The queries, one per group of figures.


def _meetings(scope: _Scope) -> None:
    meetings = Meeting.objects.filter(
        network_id__in=scope.network_ids,
        status__in=HELD,
        date__range=(scope.first.first_day, scope.last.last_day),
    )
    for network_id, month, count in _grouped(meetings, "network_id", "date"):
        scope.add(network_id, _month_of(month), "meetings_held", count)


def _held_discussions(scope: _Scope):
    return Discussion.objects.filter(
        item__meeting__network_id__in=scope.network_ids,
        item__meeting__status__in=HELD,
        item__meeting__date__range=(scope.first.first_day, scope.last.last_day),
    )


def _discussions(scope: _Scope) -> None:
    discussions = _held_discussions(scope)
    rows = (
        discussions.annotate(_month=TruncMonth("item__meeting__date"))
        .values("item__meeting__network_id", "_month")
        .annotate(count=Count("pk"), people=Count("item__patient_id", distinct=True))
        .order_by()
        .values_list("item__meeting__network_id", "_month", "count", "people")
    )
    for network_id, month, count, people in rows:
        month = _month_of(month)
        scope.add(network_id, month, "discussions", count)
        scope.set(network_id, month, "patients_discussed", people)


def _people_across_networks(scope: _Scope) -> None:
    """Distinct people discussed per month over all the chosen networks."""
    rows = (
        _held_discussions(scope)
        .annotate(_month=TruncMonth("item__meeting__date"))
        .values("_month")
        .annotate(people=Count("item__patient_id", distinct=True))
        .order_by()
        .values_list("_month", "people")
    )
    for month, people in rows:
        scope.set(None, _month_of(month), "patients_discussed", people)


def _people_across_months(scope: _Scope) -> None:
    """Distinct people discussed over the whole range, per network."""
    rows = (
        _held_discussions(scope)
        .values("item__meeting__network_id")
        .annotate(people=Count("item__patient_id", distinct=True))
        .order_by()
        .values_list("item__meeting__network_id", "people")
    )
    for network_id, people in rows:
        scope.set(network_id, None, "patients_discussed", people)


def _people_overall(scope: _Scope) -> None:
    people = _held_discussions(scope).aggregate(people=Count("item__patient_id", distinct=True))[
        "people"
    ]
    scope.set(None, None, "patients_discussed", people)


def _new_patients(scope: _Scope) -> None:
    """First ever discussions in the range, and the wait from referral."""
    earlier = Discussion.objects.filter(
        item__patient_id=OuterRef("item__patient_id"),
        item__meeting__date__lt=OuterRef("item__meeting__date"),
    )
    referral = (
        RegisterEntry.objects.filter(
            patient_id=OuterRef("item__patient_id"),
            referred_on__lte=OuterRef("item__meeting__date"),
        )
        .order_by("-referred_on")
        .values("referred_on")[:1]
    )
    firsts = (
        _held_discussions(scope)
        .filter(~Exists(earlier))
        .annotate(referred_on=Subquery(referral))
        .order_by("item__meeting__date")
        .values_list(
            "item__meeting__network_id", "item__meeting__date", "item__patient_id", "referred_on"
        )
    )
    seen = set()
    for network_id, day, patient_id, referred_on in firsts:
        if patient_id in seen:  # discussed twice on the same first day
            continue
        seen.add(patient_id)
        month = Month.of(day)
        scope.add(network_id, month, "new_patients", 1)
        if referred_on is not None:
            wait = (day - referred_on).days
            for cell in ((network_id, month), (None, month), (network_id, None), (None, None)):
                scope.waits[cell].append(wait)


_PRACTICE_NETWORK = "patient__practice__network_id"


def _referrals(scope: _Scope) -> None:
    received = RegisterEntry.objects.filter(
        patient__practice__network_id__in=scope.network_ids,
        referred_on__range=(scope.first.first_day, scope.last.last_day),
    )
    for network_id, month, source, count in _grouped(
        received, _PRACTICE_NETWORK, "referred_on", "source"
    ):
        month = _month_of(month)
        scope.add(network_id, month, "referrals_received", count)
        scope.add(network_id, month, f"referrals_from_{source}", count)
    decided = RegisterEntry.objects.filter(
        patient__practice__network_id__in=scope.network_ids,
        decided_on__range=(scope.first.first_day, scope.last.last_day),
    )
    for network_id, month, status, count in _grouped(
        decided, _PRACTICE_NETWORK, "decided_on", "status"
    ):
        key = "referrals_declined" if status == EntryStatus.DECLINED else "referrals_accepted"
        scope.add(network_id, _month_of(month), key, count)


def _assessments(scope: _Scope) -> None:
    signed = Assessment.objects.filter(
        patient__practice__network_id__in=scope.network_ids,
        status=Assessment.Status.COMPLETED,
        signed_at__gte=scope.starts_at,
        signed_at__lt=scope.ends_at,
    )
    for network_id, month, kind, count in _grouped(
        signed, _PRACTICE_NETWORK, "signed_at", "kind", local_time=True
    ):
        scope.add(network_id, _month_of(month), f"assessments_{kind}", count)


def _plans(scope: _Scope) -> None:
    ratified = CarePlan.objects.filter(
        patient__practice__network_id__in=scope.network_ids,
        ratified_at__gte=scope.starts_at,
        ratified_at__lt=scope.ends_at,
    )
    for network_id, month, count in _grouped(
        ratified, _PRACTICE_NETWORK, "ratified_at", local_time=True
    ):
        scope.add(network_id, _month_of(month), "plans_ratified", count)
    shared = CarePlan.objects.filter(
        patient__practice__network_id__in=scope.network_ids,
        shared_on__range=(scope.first.first_day, scope.last.last_day),
    )
    for network_id, month, count in _grouped(shared, _PRACTICE_NETWORK, "shared_on"):
        scope.add(network_id, _month_of(month), "plans_shared", count)


def _reviews(scope: _Scope) -> None:
    """Reviews due in the range, and whether each was done by its date."""
    discussed = Discussion.objects.filter(
        item__patient_id=OuterRef("patient_id"),
        item__meeting__date__gt=OuterRef("ratified_on"),
        item__meeting__date__lte=OuterRef("next_review_on"),
    )
    reassessed = Assessment.objects.filter(
        patient_id=OuterRef("patient_id"),
        kind=Assessment.Kind.REASSESSMENT,
        status=Assessment.Status.COMPLETED,
        assessed_on__gt=OuterRef("ratified_on"),
        assessed_on__lte=OuterRef("next_review_on"),
    )
    replaced = CarePlan.objects.annotate(ratified_on=TruncDate("ratified_at")).filter(
        previous_id=OuterRef("pk"), ratified_on__lte=OuterRef("next_review_on")
    )
    due = (
        CarePlan.objects.filter(
            patient__practice__network_id__in=scope.network_ids,
            ratified_at__isnull=False,
            next_review_on__range=(scope.first.first_day, scope.last.last_day),
        )
        .exclude(entry__closed_on__lt=F("next_review_on"))
        .annotate(ratified_on=TruncDate("ratified_at"))
        # Cheapest and most often true first: PostgreSQL stops at the first.
        .annotate(done=Exists(reassessed) | Exists(replaced) | Exists(discussed))
        .annotate(_month=TruncMonth("next_review_on"))
        .values(_PRACTICE_NETWORK, "_month")
        .annotate(due=Count("pk"), on_time=Count("pk", filter=Q(done=True)))
        .order_by()
        .values_list(_PRACTICE_NETWORK, "_month", "due", "on_time")
    )
    for network_id, month, count, on_time in due:
        month = _month_of(month)
        scope.add(network_id, month, "reviews_due", count)
        scope.add(network_id, month, "reviews_on_time", on_time)


def _actions(scope: _Scope) -> None:
    created = Action.objects.filter(
        patient__practice__network_id__in=scope.network_ids,
        created_at__gte=scope.starts_at,
        created_at__lt=scope.ends_at,
    )
    for network_id, month, count in _grouped(
        created, _PRACTICE_NETWORK, "created_at", local_time=True
    ):
        scope.add(network_id, _month_of(month), "actions_created", count)
    completed = Action.objects.filter(
        patient__practice__network_id__in=scope.network_ids,
        status=Action.Status.DONE,
        completed_at__gte=scope.starts_at,
        completed_at__lt=scope.ends_at,
    )
    for network_id, month, count in _grouped(
        completed, _PRACTICE_NETWORK, "completed_at", local_time=True
    ):
        scope.add(network_id, _month_of(month), "actions_completed", count)


def _overdue_at(month: Month, now: dt.datetime) -> Q:
    """Open and overdue at the end of ``month`` (or now, for this month):
    created by then, due before that day, not done or cancelled by then."""
    end = min(month.ends_at(), now)
    day = min(month.last_day, timezone.localdate(now))
    return (
        Q(created_at__lt=end, due_on__lt=day) & ~Q(completed_at__lt=end) & ~Q(cancelled_at__lt=end)
    )


def _actions_overdue(scope: _Scope) -> None:
    """One query: a filtered count per month end, grouped by network."""
    months = scope.report.months
    counts = {
        f"m{index}": Count("pk", filter=_overdue_at(month, scope.now))
        for index, month in enumerate(months)
    }
    rows = (
        Action.objects.filter(
            patient__practice__network_id__in=scope.network_ids,
            created_at__lt=scope.ends_at,
            due_on__lt=scope.last.last_day,
        )
        .exclude(completed_at__lt=scope.starts_at)
        .exclude(cancelled_at__lt=scope.starts_at)
        .values(_PRACTICE_NETWORK)
        .annotate(**counts)
        .order_by()
    )
    for row in rows:
        network_id = row[_PRACTICE_NETWORK]
        for index, month in enumerate(months):
            count = row[f"m{index}"]
            scope.set(network_id, month, "actions_overdue", count)
            scope.counts[(None, month)]["actions_overdue"] += count
            if month == scope.last:
                scope.set(network_id, None, "actions_overdue", count)
                scope.counts[(None, None)]["actions_overdue"] += count


def _attendance(scope: _Scope) -> None:
    present = Attendance.objects.filter(
        meeting__network_id__in=scope.network_ids,
        meeting__status__in=HELD,
        meeting__date__range=(scope.first.first_day, scope.last.last_day),
        status=AttendanceStatus.PRESENT,
    )
    for network_id, month, profession, count in _grouped(
        present, "meeting__network_id", "meeting__date", "profession"
    ):
        key = _PROFESSION_KEYS.get((profession or "").strip().lower(), "other")
        scope.add(network_id, _month_of(month), f"attended_{key}", count)


QUERIES = (
    _meetings,
    _discussions,
    _people_across_networks,
    _people_across_months,
    _people_overall,
    _new_patients,
    _referrals,
    _assessments,
    _plans,
    _reviews,
    _actions,
    _actions_overdue,
    _attendance,
)
