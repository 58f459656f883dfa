"""Hospital activity for the demo data set (loaded by
``mdtcare.core.demo.demo_data_load`` after the meetings, whose first
discussions it follows), so that the outcome evaluation has figures to show.

Everyone the MDT has discussed has a row for every month from 24 months
before the month of their first discussion to the last month that has ended
(or the month they died): the commissioning support unit's extract, as if
imported month by month. About half of the people never discussed have the
last 24 months as well, at the lower use of people nobody has referred.

The counts are made up, in the shape of a case-managed cohort's:

- Most months are all zeros, and use is skewed: each person has their own
  level (a gamma-distributed multiplier with a mean of 1), so a few people
  account for much of it. A person's events of each kind fall evenly from a
  random start rather than at random, so that each person's use is their
  expected use to within one event and the cohort's rates land where they
  are set below, whatever the size of the register.
- In the 12 months before the first discussion, per person-year, about 2.4
  A&E attendances, 1.1 non-elective admissions, 0.4 elective admissions, 6
  outpatient attendances and 9 bed days, rising month by month towards the
  discussion (the crisis that often prompts a referral); the year before
  that at 60% of it.
- After the first discussion, A&E attendances and non-elective admissions
  (and so bed days) about 25% lower; elective and outpatient use the same.

Bed days come from the admissions: a non-elective stay lasts 8 days on
average, each person having their own usual length of stay (from a couple
of days to a few weeks); an elective admission is mostly a day case. Everything is decided
from a fixed seed and each person's NHS number, so loading again, or with
more people on the register, gives everyone the same months; a person who
has activity already is left alone.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random

from django.db.models import Min

from meetings.models import Discussion
from patients.models import HospitalActivity, Patient

SEED = 20260301
MONTHS_BEFORE = 24
# Per person-year in the 12 months before the first discussion (bed days follow
# from the admissions: 1.1 x 8 days + 0.4 x 0.75 days, about 9).
YEAR_BEFORE = {
    "ae_attendances": 2.4,
    "non_elective_admissions": 1.1,
    "elective_admissions": 0.4,
    "outpatient_attendances": 6.0,
}
# The year before that, as a share of the year before the discussion.
SECOND_YEAR_BEFORE = 0.6
# After the first discussion, as a share of the year before it.
AFTER = {
    "ae_attendances": 0.75,
    "non_elective_admissions": 0.75,
    "elective_admissions": 1.0,
    "outpatient_attendances": 1.0,
}
# Per person-year, for people the MDT has never discussed.
NEVER_DISCUSSED = {
    "ae_attendances": 0.8,
    "non_elective_admissions": 0.3,
    "elective_admissions": 0.3,
    "outpatient_attendances": 3.0,
}
NEVER_DISCUSSED_SHARE = 0.5
# Spread of people's own level of use: gamma with this shape and a mean of 1.
PERSON_SHAPE = 1.5
NON_ELECTIVE_STAY = 8  # days, on average
DAY_CASE_SHARE = 0.7  # of elective admissions; the rest stay 1 to 4 days


def hospital_activity_load(*, today: dt.date) -> int:
    """Give the demo's people their months of hospital activity (see the
    module's docstring), up to the last month that has ended before
    ``today``. Returns how many rows were made."""
    last_month = _plus_months(today.replace(day=1), -1)
    first_discussed = dict(
        Discussion.objects.values_list("item__patient_id")
        .annotate(first=Min("item__meeting__date"))
        .values_list("item__patient_id", "first")
    )
    people = (
        Patient.objects.filter(hospital_activity__isnull=True)
        .order_by("nhs_number")
        .values_list("pk", "nhs_number", "date_of_death")
    )
    rows = []
    for patient_id, number, died in people:
        rng = random.Random(f"{SEED}-activity-{number}")
        first = first_discussed.get(patient_id)
        if first is None and rng.random() >= NEVER_DISCUSSED_SHARE:
            continue
        rows += _person_months(
            rng, patient_id=patient_id, first=first, died=died, last_month=last_month
        )
    HospitalActivity.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _person_months(rng, *, patient_id, first, died, last_month) -> list[HospitalActivity]:
    """One person's months: from 24 months before the month of their first
    discussion (or, never discussed, the last 24 months) to ``last_month``
    or the month they died."""
    level = rng.gammavariate(PERSON_SHAPE, 1 / PERSON_SHAPE)
    usual_stay = 1 + rng.gammavariate(8, (NON_ELECTIVE_STAY - 1) / 8)
    if first is None:
        index, month = None, _plus_months(last_month, -(MONTHS_BEFORE - 1))
    else:
        index = first.replace(day=1)
        month = _plus_months(index, -MONTHS_BEFORE)
    end = min(last_month, died.replace(day=1)) if died else last_month
    carried = {key: rng.random() for key in YEAR_BEFORE}  # each kind's random start
    rows = []
    while month <= end:
        counts = {}
        for key, rate in _monthly_rates(month, index).items():
            carried[key] += level * rate
            counts[key] = int(carried[key])
            carried[key] -= counts[key]
        days = calendar.monthrange(month.year, month.month)[1]
        if died and (died.year, died.month) == (month.year, month.month):
            days = died.day
        counts["bed_days"] = min(days, _bed_days(rng, counts, usual_stay=usual_stay))
        rows.append(HospitalActivity(patient_id=patient_id, month=month, **counts))
        month = _plus_months(month, 1)
    return rows


def _monthly_rates(month: dt.date, index: dt.date | None) -> dict[str, float]:
    """Each count's expected number in ``month`` for an average person."""
    if index is None:
        return {key: rate / 12 for key, rate in NEVER_DISCUSSED.items()}
    before = (index.year - month.year) * 12 + index.month - month.month  # 1: the month before
    if before > 12:
        share = dict.fromkeys(YEAR_BEFORE, SECOND_YEAR_BEFORE)
    elif before >= 1:
        # From half the year's average a year before to one and a half times
        # it in the month before: the same year's total, rising.
        share = dict.fromkeys(YEAR_BEFORE, 0.5 + (12 - before) / 11)
    elif before == 0:
        share = dict.fromkeys(YEAR_BEFORE, 1.0)  # the month of the discussion
    else:
        share = AFTER
    return {key: rate / 12 * share[key] for key, rate in YEAR_BEFORE.items()}


def _bed_days(rng, counts: dict[str, int], *, usual_stay: float) -> int:
    days = 0
    for _ in range(counts["non_elective_admissions"]):
        days += max(1, round(usual_stay * rng.uniform(0.75, 1.25)))
    for _ in range(counts["elective_admissions"]):
        if rng.random() >= DAY_CASE_SHARE:
            days += rng.randint(1, 4)
    return days


def _plus_months(month: dt.date, months: int) -> dt.date:
    total = month.year * 12 + month.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)
