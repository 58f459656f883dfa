"""The demo's hospital activity: every discussed person's months from two
years before their first MDT discussion, mostly zeros, at the rates the
outcome evaluation should find before and after; the same every time."""

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.db.models import Min

from meetings.models import Discussion
from patients.demo_activity import hospital_activity_load
from patients.imports import ACTIVITY_COUNTS
from patients.models import HospitalActivity, Patient
from tests.demo_snapshot import demo_restore

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 1)  # as in tests/core/test_demo_data.py
LAST_MONTH = dt.date(2026, 2, 1)


@pytest.fixture
def loaded():
    """The demo data set with its activity, whether or not demo_data_load
    already loads it."""
    demo_restore(TODAY)
    hospital_activity_load(today=TODAY)


def _first_discussed() -> dict:
    return dict(
        Discussion.objects.values_list("item__patient_id")
        .annotate(first=Min("item__meeting__date"))
        .values_list("item__patient_id", "first")
    )


def _offset(month: dt.date, index: dt.date) -> int:
    """Months from the month of the first discussion (-1: the month before)."""
    return (month.year - index.year) * 12 + month.month - index.month


def _rates(rows, people: set, window: range) -> dict[str, float]:
    """Per person-year over the months of ``window`` of the given people."""
    totals, months = Counter(), 0
    for row in rows:
        if row.patient_id in people and row.offset in window:
            months += 1
            totals.update({key: getattr(row, key) for key in ACTIVITY_COUNTS})
    return {key: totals[key] / months * 12 for key in ACTIVITY_COUNTS}


def test_each_discussed_person_has_every_month_from_two_years_before_mostly_zeros(loaded):
    first_discussed = _first_discussed()
    months = defaultdict(list)
    for patient_id, month in HospitalActivity.objects.values_list("patient_id", "month"):
        months[patient_id].append(month)
    died = dict(
        Patient.objects.filter(date_of_death__isnull=False).values_list("pk", "date_of_death")
    )

    assert len(first_discussed) > 300
    for patient_id, first in first_discussed.items():
        index = first.replace(day=1)
        end = min(LAST_MONTH, died[patient_id].replace(day=1)) if patient_id in died else LAST_MONTH
        have = sorted(months[patient_id])
        assert have[0] == dt.date(index.year - 2, index.month, 1)
        assert have[-1] == end
        assert len(have) == _offset(end, have[0]) + 1  # no month missing
    never = [patient_id for patient_id in months if patient_id not in first_discussed]
    assert 50 < len(never) < Patient.objects.count() - len(first_discussed)
    assert {len(months[patient_id]) for patient_id in never} == {24}

    # Most months are all zeros, and a few people use most.
    rows = list(HospitalActivity.objects.all())
    by_person = Counter()
    for row in rows:
        by_person[row.patient_id] += row.ae_attendances + row.non_elective_admissions

    empty = sum(all(getattr(row, key) == 0 for key in ACTIVITY_COUNTS) for row in rows)
    heaviest = sorted(by_person.values(), reverse=True)[: len(by_person) // 5]

    assert empty / len(rows) > 0.5
    assert sum(heaviest) > 0.4 * sum(by_person.values())  # the top fifth
    assert max(row.bed_days for row in rows) <= 31


def test_the_rates_before_and_after_the_first_discussion_are_as_the_evaluation_expects(loaded):
    first_discussed = _first_discussed()
    rows = list(HospitalActivity.objects.filter(patient_id__in=list(first_discussed)))
    for row in rows:
        row.offset = _offset(row.month, first_discussed[row.patient_id].replace(day=1))
    # The evaluation's cohort: people whose 12 months after have all ended.
    cohort = {
        patient_id
        for patient_id, first in first_discussed.items()
        if _offset(LAST_MONTH, first.replace(day=1)) >= 12
    }
    before = _rates(rows, cohort, range(-12, 0))
    after = _rates(rows, cohort, range(1, 13))
    earlier = _rates(rows, cohort, range(-24, -12))

    assert len(cohort) > 80
    assert 2.0 <= before["ae_attendances"] <= 2.8
    assert 0.9 <= before["non_elective_admissions"] <= 1.3
    assert 0.3 <= before["elective_admissions"] <= 0.5
    assert 5.0 <= before["outpatient_attendances"] <= 7.0
    assert 7.5 <= before["bed_days"] <= 10.5
    # About 25% lower. With some 125 people the figure moves by about 0.06
    # whenever the register or the meetings change: the bounds allow for it.
    for key in ("ae_attendances", "non_elective_admissions", "bed_days"):
        assert 0.6 <= after[key] / before[key] <= 0.9, key
    assert 0.9 <= after["outpatient_attendances"] / before["outpatient_attendances"] <= 1.1
    # Rising towards the discussion.
    for key in ("ae_attendances", "non_elective_admissions"):
        assert earlier[key] < before[key]
        assert _rates(rows, cohort, range(-12, -9))[key] < _rates(rows, cohort, range(-3, 0))[key]


def test_it_is_the_same_every_time_and_loading_again_makes_nothing(loaded):
    def everything():
        return sorted(
            HospitalActivity.objects.values_list("patient__nhs_number", "month", *ACTIVITY_COUNTS)
        )

    loaded_once = everything()

    again = hospital_activity_load(today=TODAY)
    HospitalActivity.objects.all().delete()
    remade = hospital_activity_load(today=TODAY)

    assert again == 0
    assert remade == len(loaded_once)
    assert everything() == loaded_once
