"""The hospital activity import: one row per person per month, for the
outcome evaluation; a person-month imported again replaces its counts. A
person not on the register of the uploader's networks is a bad row,
reported when the file is checked, in the same words whether the number is
unknown or another network's."""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from mdtcare.accounts.models import User
from patients.imports.common import (
    _WHOLE_NUMBER,
    _YEAR_MONTH,
    BATCH_SIZE,
    NHS_NUMBER,
    NOT_ON_REGISTER,
    Column,
    CsvLayout,
    RowCheck,
    _batches,
    _checked_file,
    _import_claim,
    _import_create,
    _import_get_for_user,
    _import_matched,
    _import_network_ids,
    _nhs_number,
    _parse_day,
    _shown,
    hospital_activity_import_require_role,
    import_discard,
)
from patients.models import (
    HospitalActivity,
    HospitalActivityImport,
    Patient,
)

# The counts of a person's month: HospitalActivity's fields and the file's columns.
ACTIVITY_COUNTS = (
    "ae_attendances",
    "non_elective_admissions",
    "elective_admissions",
    "outpatient_attendances",
    "bed_days",
)
_COUNT_HINT = "A whole number: 0 for none, and no more than the days in the month"

ACTIVITY_FILE = CsvLayout(
    columns=(
        NHS_NUMBER,
        Column(
            "month",
            "month",
            "Month",
            True,
            ("month", "activity month"),
            "The month the counts are for, like 2026-03 (or its first day, 2026-03-01), "
            "once it has ended",
        ),
        Column(
            "ae_attendances",
            "A&E attendances",
            "A&E attendances",
            True,
            ("A&E attendances", "ae_attendances", "A&E"),
            _COUNT_HINT,
        ),
        Column(
            "non_elective_admissions",
            "non-elective admissions",
            "Non-elective admissions",
            True,
            ("non-elective admissions", "non_elective_admissions", "emergency admissions"),
            _COUNT_HINT,
        ),
        Column(
            "elective_admissions",
            "elective admissions",
            "Elective admissions",
            True,
            ("elective admissions", "elective_admissions"),
            _COUNT_HINT,
        ),
        Column(
            "outpatient_attendances",
            "outpatient attendances",
            "Outpatient attendances",
            True,
            ("outpatient attendances", "outpatient_attendances"),
            _COUNT_HINT,
        ),
        Column(
            "bed_days",
            "bed days",
            "Bed days",
            True,
            ("bed days", "bed_days"),
            _COUNT_HINT,
        ),
    ),
    holds="the hospital activity",
    rows_of="monthly counts",
)


def _month(text: str, today: dt.date) -> tuple[dt.date | None, str]:
    """The first day of the month the row is for. A month is imported once it
    has ended: the current month's counts are not complete yet."""
    if not text:
        return None, "The month is missing"
    year_month = _YEAR_MONTH.match(text)
    try:
        if year_month:
            value = dt.date(int(year_month[1]), int(year_month[2]), 1)
        else:
            value = _parse_day(text)
    except ValueError:
        return None, f"The month “{_shown(text)}” is not a month: write it like 2026-03"
    if value.day != 1:
        return None, (
            f"The month “{_shown(text)}” is a day, not a month: write it like {value:%Y-%m}"
        )
    this_month = today.replace(day=1)
    if value > this_month:
        return None, f"The month {value:%B %Y} is in the future"
    if value == this_month:
        return None, f"The month {value:%B %Y} has not ended yet: import it once it has"
    return value, ""


def _count(text: str, label: str, month: dt.date | None) -> tuple[int | None, str]:
    """A count of the month: a whole number, and no more than one a day (bed
    days: no more than the days in the month), which catches a figure typed
    into the wrong column or a year's total."""
    if not text:
        return None, f"The {label} count is missing: write 0 for none"
    if not _WHOLE_NUMBER.match(text):
        return None, f"The {label} count “{_shown(text)}” is not a whole number"
    count = int(text)
    if count < 0:
        return None, f"The {label} count {count} is negative: it must be 0 or more"
    days = calendar.monthrange(month.year, month.month)[1] if month else 31
    if count > days:
        where = f"the {days} days of {month:%B %Y}" if month else "the days in a month"
        return None, f"The {label} count {count} is more than {where}: check it"
    return count, ""


def _activity_row_check(*, today: dt.date, numbers: list[tuple[int, str]]) -> RowCheck:
    """Each row's checks, with no database query; a person's month may be in
    a file once. Every well-formed NHS number is added to ``numbers`` with
    its line, to be looked up on the register afterwards, a batch at a time."""
    first_line_of: dict[tuple[str, dt.date], int] = {}
    columns = {column.key: column for column in ACTIVITY_FILE.columns}

    def check(value, line, separator):
        problems = []
        number, problem = _nhs_number(value("nhs_number"))
        problems += [problem] if problem else []
        month, problem = _month(value("month"), today)
        problems += [problem] if problem else []
        counts = []
        for key in ACTIVITY_COUNTS:
            count, problem = _count(value(key), columns[key].label, month)
            problems += [problem] if problem else []
            counts.append(count)
        if number is not None:
            numbers.append((line, number))
            if month is not None:
                if (number, month) in first_line_of:
                    problems.append(
                        f"This person's {month:%B %Y} is also on line "
                        f"{first_line_of[number, month]}: a person's month can be in the file "
                        "only once"
                    )
                else:
                    first_line_of[number, month] = line
        if problems:
            return None, problems
        return [line, number, month.isoformat(), *counts], []

    return check


def _people_for_import(by: User) -> QuerySet[Patient]:
    """The people whose records an import by ``by`` may reach: those they
    may see, in the networks where they may import."""
    return Patient.objects.visible_to(by).filter(practice__network_id__in=_import_network_ids(by))


def hospital_activity_import_validate(
    *, by: User, filename: str, content: bytes
) -> HospitalActivityImport:
    """Check a whole uploaded file of hospital activity and keep the result.

    Guarantees: only a navigator or admin may upload (PermissionDenied);
    no activity changes. Every bad row is kept by line with its reasons,
    among them an NHS number of no one on the register of the networks where
    the uploader may import, in the same words whether the number is unknown
    or another network's (no existence leak). People are looked up a
    thousand numbers a query, never a query per row. A file that cannot be
    read as a whole is stored with that one problem on line 0, no rows and a
    row count of 0."""
    hospital_activity_import_require_role(user=by)
    numbers: list[tuple[int, str]] = []
    checked = _checked_file(
        content,
        layout=ACTIVITY_FILE,
        check_row=_activity_row_check(today=timezone.localdate(), numbers=numbers),
    )
    people = _people_for_import(by)
    on_register: set[str] = set()
    for batch in _batches(sorted({number for _, number in numbers}), BATCH_SIZE):
        on_register.update(people.filter(nhs_number__in=batch).values_list("nhs_number", flat=True))
    unknown = {line for line, number in numbers if number not in on_register}
    if unknown:
        checked.valid_rows = [row for row in checked.valid_rows if row[0] not in unknown]
        # Sorted by line (a stable sort): the row's first reason is its NHS number's.
        checked.errors = sorted(
            [*([line, NOT_ON_REGISTER] for line in unknown), *checked.errors],
            key=lambda error: error[0],
        )
    return _import_create(HospitalActivityImport, by=by, filename=filename, checked=checked)


@transaction.atomic
def hospital_activity_import_apply(
    *, by: User, activity_import: HospitalActivityImport
) -> HospitalActivityImport:
    """Apply the valid rows of a checked file of hospital activity, once.

    Guarantees: only the uploader, still a navigator or admin, may apply
    (PermissionDenied); a second confirm returns the applied import and
    changes nothing; a discarded import is refused. Rows match only people
    the uploader may see, in the networks where they may import (checked
    again: someone may have moved since the file was checked). A person's
    month already in mdtcare gets the file's counts in place of its own.
    One transaction, two queries per thousand rows on PostgreSQL (a look-up
    and an upsert), never one per row.

    The returned import also carries ``matched_patient_ids`` and
    ``matched_network_ids`` for the caller's access event."""
    already = _import_claim(
        activity_import, by=by, require_role=hospital_activity_import_require_role
    )
    if already is not None:
        return already
    matched = 0
    patient_ids: dict = {}  # in the order of the file, once each
    network_ids = set()
    people = _people_for_import(by)
    for batch in _batches(activity_import.valid_rows, BATCH_SIZE):
        found = {
            number: (patient_id, network_id)
            for number, patient_id, network_id in people.filter(
                nhs_number__in={row[1] for row in batch}
            ).values_list("nhs_number", "pk", "practice__network_id")
        }
        months = []
        for _, number, month, *counts in batch:
            if number not in found:
                continue
            patient_id, network_id = found[number]
            months.append(
                HospitalActivity(
                    patient_id=patient_id,
                    month=dt.date.fromisoformat(month),
                    created_by=by,
                    **dict(zip(ACTIVITY_COUNTS, counts, strict=True)),
                )
            )
            patient_ids[patient_id] = None
            network_ids.add(network_id)
        HospitalActivity.objects.bulk_create(
            months,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["patient", "month"],
            update_fields=[*ACTIVITY_COUNTS, "updated_at"],
        )
        matched += len(months)
    _import_matched(
        activity_import, count=matched, patient_ids=list(patient_ids), network_ids=network_ids
    )
    return activity_import


def hospital_activity_import_discard(
    *, by: User, activity_import: HospitalActivityImport
) -> HospitalActivityImport:
    """As ``import_discard``."""
    return import_discard(by=by, an_import=activity_import)


def hospital_activity_import_get_for_user(*, user, import_id) -> HospitalActivityImport:
    return _import_get_for_user(HospitalActivityImport, user=user, import_id=import_id)
