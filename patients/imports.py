"""CSV imports (risk-stratification scores and hospital activity) and the
case-finding list.

Both imports work the same way, by the rules written once here. A file is
checked whole first (``*_validate``): every bad row is reported with its
line number, and nothing on the register changes. Only when the person who
uploaded it confirms (``*_apply``) are its valid rows applied, in one
transaction. Matching goes through the access gate, so a file only ever
reaches the people of the networks where the uploader may import.

- Risk scores: each valid row becomes a ``RiskScore`` (the history) and,
  when it is the person's latest, is copied onto the patient.
- Hospital activity: one row per person per month, for the outcome
  evaluation; a person-month imported again replaces its counts. A person
  not on the register of the uploader's networks is a bad row, reported
  when the file is checked (their counts would be of no use), in the same
  words whether the number is unknown or another network's.

The case-finding list (``case_finding_list``) reads the copied scores: people
at or above the threshold, or in the top N% of their network, who are not on
the register yet.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, partial
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import Rank
from django.http import Http404
from django.utils import timezone

from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership, User
from mdtcare.core import nhs_number as nhs
from patients.models import (
    FrailtyCategory,
    HospitalActivity,
    HospitalActivityImport,
    Patient,
    RegisterEntry,
    RiskImport,
    RiskScore,
)

# Rows looked up, inserted and updated per query when a file is applied: the
# number of queries grows by three per thousand rows, never per row.
BATCH_SIZE = 1000
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
TOP_PERCENT_RANGE = (1, 50)

SAVE_AS_CSV = (
    "In Excel, choose File, Save As, then “CSV UTF-8 (Comma delimited) (*.csv)”, "
    "and upload that file."
)

Import = RiskImport | HospitalActivityImport
Status = RiskImport.Status  # both imports' life cycle


# --- the kinds of file ------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column mdtcare reads, and the header names it is known by. Names
    match whatever their case, surrounding spaces, and ``_`` written as a space."""

    key: str
    label: str  # in a sentence: "has no score date column"
    heading: str  # on its own, on the upload page
    required: bool
    names: tuple[str, ...]
    hint: str = ""  # what to write, on the upload page


def _header_key(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


@dataclass(frozen=True)
class CsvLayout:
    """One kind of import file: the columns mdtcare reads, and the words its
    messages use for what the file holds."""

    columns: tuple[Column, ...]
    holds: str  # "Choose the CSV file with the risk scores."
    rows_of: str  # "The file has a header row but no rows of scores below it."

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        return {_header_key(name): column for column in self.columns for name in column.names}

    def column_named(self, name: str) -> Column | None:
        return self._by_name.get(_header_key(name))

    @property
    def columns_sentence(self) -> str:
        """``NHS number, risk score, score date, and optionally eFI category``."""
        required = [column.label for column in self.columns if column.required]
        optional = [column.label for column in self.columns if not column.required]
        return ", ".join(required) + (", and optionally " + _and_list(optional) if optional else "")


NHS_NUMBER = Column(
    "nhs_number",
    "NHS number",
    "NHS number",
    True,
    ("NHS number", "nhs_number"),
    "10 digits, with or without spaces",
)

RISK_FILE = CsvLayout(
    columns=(
        NHS_NUMBER,
        Column(
            "risk_score",
            "risk score",
            "Risk score",
            True,
            ("risk score", "risk_score", "score"),
            "A number from 0 to 100, with at most one decimal place",
        ),
        Column(
            "frailty_category",
            "eFI category",
            "eFI category",
            False,
            ("eFI category", "efi", "frailty_category"),
            "Fit, mild, moderate or severe, or leave it empty",
        ),
        Column(
            "score_date",
            "score date",
            "Score date",
            True,
            ("score date", "score_date", "scored_on", "date"),
            "The date of the result, like 2026-03-02 or 02/03/2026, not in the future",
        ),
    ),
    holds="the risk scores",
    rows_of="scores",
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

# "fit" and "Fit", "mild" and "Mild frailty": eFI exports use either.
_CATEGORIES = {value: value for value in FrailtyCategory.values} | {
    label.casefold(): value for value, label in FrailtyCategory.choices
}
_NUMBER = re.compile(r"^[+-]?\d+(?:\.(\d+))?$")
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_SEPARATOR_NAMES = {",": "commas", ";": "semicolons"}
NOT_ON_REGISTER = "This NHS number is not on the register of your networks"


class _FileProblem(Exception):
    """The file as a whole cannot be read: reported on line 0, no rows kept."""


@dataclass
class _Checked:
    row_count: int = 0
    valid_rows: list | None = None
    errors: list | None = None
    ignored_columns: tuple[str, ...] = ()
    header_line: int = 1


# A row's check: given the row's values (by column key), its line and the
# file's separator, the row to keep, or None and the reasons it cannot be.
RowCheck = Callable[[Callable[[str], str], int, str], tuple[list | None, list[str]]]


def max_upload_bytes() -> int:
    """The largest file any import accepts (setting ``RISK_IMPORT_MAX_BYTES``,
    named when risk scores were the only import)."""
    return getattr(settings, "RISK_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def size_label(size: int) -> str:
    """``5 MB``, ``500 KB``: how the limit is named to people."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            amount = size / factor
            return f"{amount:.0f} {unit}" if amount == int(amount) else f"{amount:.1f} {unit}"
    return f"{size} bytes"


# --- who may import -------------------------------------------------------------


def _import_network_ids(user):
    """The networks where the user may import (a subquery, no query of its own)."""
    return Membership.objects.filter(user_id=user.pk, role__in=permissions.IMPORT_ROLES).values(
        "network_id"
    )


def _import_require_role(*, user, action: str) -> None:
    """PermissionDenied unless the user is a navigator or admin of at least
    one network: a file spans networks, so no one record names the network
    to check."""
    network_id = (
        Membership.objects.filter(user_id=user.pk, role__in=permissions.IMPORT_ROLES)
        .values_list("network_id", flat=True)
        .first()
    )
    permissions.require_role(
        user=user, network_id=network_id, roles=permissions.IMPORT_ROLES, action=action
    )


def risk_import_require_role(*, user) -> None:
    _import_require_role(user=user, action="import risk-stratification scores")


def hospital_activity_import_require_role(*, user) -> None:
    _import_require_role(user=user, action="import hospital activity")


# --- reading a file ---------------------------------------------------------------


def _decode(content: bytes, layout: CsvLayout) -> str:
    """The file's text, or a _FileProblem that says how to save it properly."""
    if not content.strip():
        raise _FileProblem(f"The file is empty. Choose the CSV file with {layout.holds}.")
    limit = max_upload_bytes()
    if len(content) > limit:
        raise _FileProblem(
            f"The file is larger than {size_label(limit)}. Split it into files of "
            f"{size_label(limit)} or less and upload each of them."
        )
    if content.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise _FileProblem(
            "This is an Excel workbook (or another kind of file), not a CSV file. " + SAVE_AS_CSV
        )
    if content.startswith(b"%PDF"):
        raise _FileProblem("This is a PDF, not a CSV file. " + SAVE_AS_CSV)
    # UTF-16 ("Unicode text" in Excel) starts with a byte-order mark, or has a
    # zero byte beside every letter; no CSV UTF-8 file has zero bytes at all.
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:4096]:
        raise _FileProblem(
            "The file is saved as Unicode (UTF-16) text or is not a text file, so mdtcare "
            "cannot read it. " + SAVE_AS_CSV
        )
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark; others don't.
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Windows-1252 and Latin-1 files are usually valid UTF-8 until the first
        # accented letter or pound sign; name its line so it can be checked.
        line = content[: exc.start].count(b"\n") + 1
        raise _FileProblem(
            f"Line {line} has a character that is not UTF-8: the file is saved in another "
            "encoding (such as Windows “ANSI” or Latin-1). " + SAVE_AS_CSV
        ) from exc


def _separator(header_line: str) -> str:
    """The separator the header row uses: a comma or, as European versions
    of Excel save CSV, a semicolon. Both at once is refused."""
    by_comma = next(csv.reader([header_line], delimiter=","))
    by_semicolon = next(csv.reader([header_line], delimiter=";"))
    if len(by_comma) > 1 and len(by_semicolon) > 1:
        raise _FileProblem(
            "The header row mixes commas and semicolons as separators. Use one of them "
            "throughout: " + SAVE_AS_CSV
        )
    return ";" if len(by_semicolon) > 1 else ","


def _columns(
    header: list[str], line: int, separator: str, layout: CsvLayout
) -> tuple[dict[str, int], list[str]]:
    """Where each column mdtcare reads is (by key), and the names of the others."""
    positions: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored = []
    for index, name in enumerate(header):
        column = layout.column_named(name)
        if column is None:
            ignored.append(name.strip() or f"column {index + 1} (no heading)")
            continue
        if column.key in positions:
            raise _FileProblem(
                f"Two columns are both read as the {column.label}: “{names[column.key]}” and "
                f"“{name.strip()}”. Remove one of them."
            )
        positions[column.key] = index
        names[column.key] = name.strip()
    missing = [
        column.label for column in layout.columns if column.required and column.key not in positions
    ]
    if missing:
        message = (
            f"The header row (line {line}) has no {_and_list(missing)} column. The first row "
            f"must name the columns: {layout.columns_sentence}."
        )
        if header and nhs.normalise(header[0].strip()).isdigit():
            message += f" This file seems to start with {layout.rows_of}: add the header row."
        elif "\t" in header[0]:
            message += " This file is separated by tabs: " + SAVE_AS_CSV
        elif len(header) == 1 and separator == ",":
            message += " Separate the columns with commas: " + SAVE_AS_CSV
        raise _FileProblem(message)
    return positions, ignored


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _shown(text: str) -> str:
    """A value from the file, quoted in a reason: short, whatever was typed."""
    return text if len(text) <= 30 else text[:29] + "…"


def _cell(record: list[str], positions: dict[str, int], key: str) -> str:
    """The value of a column in a row; blank when the row stops short of it."""
    index = positions.get(key)
    return record[index].strip() if index is not None and index < len(record) else ""


def _read_rows(text: str, *, layout: CsvLayout, check_row: RowCheck) -> _Checked:
    """Every row checked against the layout's columns by ``check_row``, in
    the order of the file."""
    lines = io.StringIO(text, newline="")
    first = next((line for line in lines if line.strip()), "")
    separator = _separator(first.rstrip("\r\n"))
    other = ";" if separator == "," else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header: list[str] | None = None
    header_line = 0
    positions: dict[str, int] = {}
    ignored: list[str] = []
    checked = _Checked(valid_rows=[], errors=[])
    last_line = 0
    try:
        for record in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and Excel's rows of empty cells
            if header is None:
                header, header_line = record, line
                positions, ignored = _columns(header, line, separator, layout)
                continue
            if len(header) > 1 and len(record) == 1 and other in record[0]:
                raise _FileProblem(
                    f"The file mixes commas and semicolons as separators: line {header_line} "
                    f"uses {_SEPARATOR_NAMES[separator]} and line {line} uses "
                    f"{_SEPARATOR_NAMES[other]}. Use one of them throughout: " + SAVE_AS_CSV
                )
            checked.row_count += 1
            if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
                checked.errors.append(
                    [
                        line,
                        f"This row has {len(record)} values but the header row has {len(header)}",
                    ]
                )
                continue
            row, problems = check_row(partial(_cell, record, positions), line, separator)
            if problems:
                checked.errors.extend([line, problem] for problem in problems)
            else:
                checked.valid_rows.append(row)
    except csv.Error as exc:
        raise _FileProblem(
            f"Line {last_line + 1} cannot be read as CSV ({exc}). " + SAVE_AS_CSV
        ) from exc
    if header is None:
        raise _FileProblem(f"The file is empty. Choose the CSV file with {layout.holds}.")
    if checked.row_count == 0:
        raise _FileProblem(f"The file has a header row but no rows of {layout.rows_of} below it.")
    checked.ignored_columns, checked.header_line = tuple(ignored), header_line
    return checked


def _checked_file(content: bytes, *, layout: CsvLayout, check_row: RowCheck) -> _Checked:
    """The whole file checked; one that cannot be read as a whole (too large,
    empty, not UTF-8 CSV, mixed separators, missing columns) has that one
    problem on line 0, no rows and a row count of 0."""
    try:
        return _read_rows(_decode(content, layout), layout=layout, check_row=check_row)
    except _FileProblem as problem:
        return _Checked(valid_rows=[], errors=[[0, str(problem)]])


def _nhs_number(text: str) -> tuple[str | None, str]:
    if not text:
        return None, "The NHS number is missing"
    try:
        return nhs.validate(text), ""
    except ValidationError as exc:
        return None, exc.messages[0]


def _date(text: str, today: dt.date, name: str = "score date") -> tuple[dt.date | None, str]:
    if not text:
        return None, f"The {name} is missing"
    iso, uk = _ISO_DATE.match(text), _UK_DATE.match(text)
    try:
        if iso:
            value = dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif uk:
            value = dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
        else:
            raise ValueError(text)
    except ValueError:
        return None, (
            f"The {name} “{_shown(text)}” is not a date: write it like 2026-03-02 or 02/03/2026"
        )
    if value > today:
        return None, f"The {name} {value.day} {value:%B %Y} is in the future"
    return value, ""


def _import_create(model, *, by: User, filename: str, checked: _Checked) -> Import:
    return model.objects.create(
        filename=PurePath(filename or "upload.csv").name[:255],
        row_count=checked.row_count,
        valid_rows=checked.valid_rows,
        errors=checked.errors,
        ignored_columns=list(checked.ignored_columns),
        created_by=by,
    )


def _batches(rows: list, size: int) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# --- confirming, discarding and reading an import ------------------------------------


def _import_claim(an_import: Import, *, by: User, require_role) -> Import | None:
    """Mark a checked import applied before its rows are, in the caller's
    transaction. Returns None when this call claimed it; when it had been
    applied already (a double submit), that import, with no one matched.

    Refuses anyone but the uploader, still a navigator or admin
    (PermissionDenied), an import without valid rows and a discarded one
    (ValidationError)."""
    if an_import.created_by_id != by.pk:
        raise PermissionDenied("Only the person who uploaded this file can import it.")
    an_import.matched_patient_ids, an_import.matched_network_ids = [], set()
    if an_import.status == Status.VALIDATED and not an_import.valid_rows:
        raise ValidationError(
            "This file has no valid rows to import. Correct it and upload it again.",
            code="no_rows",
        )
    require_role(user=by)
    model = type(an_import)
    now = timezone.now()
    # Of two confirms at once, one updates the row and the other (waiting on
    # its lock, on PostgreSQL) finds it applied.
    claimed = model.objects.filter(pk=an_import.pk, status=Status.VALIDATED).update(
        status=Status.APPLIED, applied_at=now, updated_at=now
    )
    if claimed:
        an_import.status, an_import.applied_at = Status.APPLIED, now
        return None
    current = model.objects.get(pk=an_import.pk)
    if current.status == Status.APPLIED:
        current.matched_patient_ids, current.matched_network_ids = [], set()
        return current
    raise ValidationError(
        "This file was discarded. Upload it again to import it.", code="discarded"
    )


def _import_matched(an_import: Import, *, count: int, patient_ids: list, network_ids: set) -> None:
    """Keep how many rows matched; tell the caller whom (for its access event)."""
    type(an_import).objects.filter(pk=an_import.pk).update(matched_count=count)
    an_import.matched_count = count
    an_import.matched_patient_ids, an_import.matched_network_ids = patient_ids, network_ids


@transaction.atomic
def import_discard(*, by: User, an_import: Import) -> Import:
    """Throw away a checked import, of either kind, without applying it.

    Guarantees: only the uploader may discard (PermissionDenied); the NHS
    numbers it held are removed (the report of problems stays); discarding
    twice is harmless; an applied import cannot be discarded."""
    if an_import.created_by_id != by.pk:
        raise PermissionDenied("Only the person who uploaded this file can discard it.")
    model = type(an_import)
    discarded = model.objects.filter(pk=an_import.pk, status=Status.VALIDATED).update(
        status=Status.DISCARDED, valid_rows=[], updated_at=timezone.now()
    )
    current = model.objects.get(pk=an_import.pk)
    if not discarded and current.status == Status.APPLIED:
        raise ValidationError(
            "This file has already been imported: it cannot be discarded.", code="applied"
        )
    return current


def _import_get_for_user(model, *, user, import_id) -> Import:
    """One of the user's own imports; anyone else's, or an unknown id, is a 404."""
    if user is None or not user.is_authenticated:
        raise Http404
    try:
        return model.objects.get(pk=import_id, created_by_id=user.pk)
    except (model.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class ImportReport:
    """What the review page and the API show of an import."""

    file_errors: list[str]
    row_errors: list[tuple[int, str]]
    ignored_columns: list[str]
    valid_count: int
    rows_with_errors: int
    not_found_count: int | None


def import_report(an_import: Import) -> ImportReport:
    """The import's problems split into the file's, the rows' (by line) and
    the columns ignored; and how many valid rows matched no one."""
    file_errors, row_errors = [], []
    for line, reason in an_import.errors:
        if line == 0:
            file_errors.append(reason)
        else:
            row_errors.append((line, reason))
    valid_count = (
        len(an_import.valid_rows)
        if an_import.status != Status.DISCARDED
        else an_import.row_count - len({line for line, _ in row_errors})
    )
    return ImportReport(
        file_errors=file_errors,
        row_errors=row_errors,
        ignored_columns=list(an_import.ignored_columns),
        valid_count=valid_count,
        rows_with_errors=len({line for line, _ in row_errors}),
        not_found_count=(
            valid_count - an_import.matched_count if an_import.matched_count is not None else None
        ),
    )


# --- risk scores ---------------------------------------------------------------------


def _score(text: str, separator: str) -> tuple[Decimal | None, str]:
    if separator == ";":
        # A semicolon file comes from a locale that writes 85,5 for 85.5.
        text = text.replace(",", ".")
    if not text:
        return None, "The risk score is missing"
    match = _NUMBER.match(text)
    if match is None:
        return None, f"The risk score “{_shown(text)}” is not a number"
    score = Decimal(text)
    if not 0 <= score <= 100:
        return None, f"The risk score {text} is out of range: it must be from 0 to 100"
    if len((match.group(1) or "").rstrip("0")) > 1:
        # Rounding would move people across the threshold unseen: ask instead.
        return None, f"The risk score {text} has more than one decimal place: round it to one"
    return score.quantize(Decimal("0.1")).copy_abs(), ""  # "-0" is 0.0


def _risk_row_check(*, today: dt.date) -> RowCheck:
    """Each row's checks, with no database query; a person may be in a file once."""
    first_line_of: dict[str, int] = {}

    def check(value, line, separator):
        problems = []
        number, problem = _nhs_number(value("nhs_number"))
        problems += [problem] if problem else []
        score, problem = _score(value("risk_score"), separator)
        problems += [problem] if problem else []
        category_text = " ".join(value("frailty_category").split()).casefold()
        category = _CATEGORIES.get(category_text, "") if category_text else ""
        if category_text and not category:
            problems.append(
                f"The eFI category “{_shown(value('frailty_category'))}” is not one of fit, "
                "mild, moderate or severe"
            )
        scored_on, problem = _date(value("score_date"), today)
        problems += [problem] if problem else []
        if number is not None:
            if number in first_line_of:
                problems.append(
                    f"This NHS number is also on line {first_line_of[number]}: "
                    "a person can be in the file only once"
                )
            else:
                first_line_of[number] = line
        if problems:
            return None, problems
        return [line, number, str(score), category, scored_on.isoformat()], []

    return check


def risk_import_validate(*, by: User, filename: str, content: bytes) -> RiskImport:
    """Check a whole uploaded file of risk scores and keep the result.

    Guarantees: only a navigator or admin may upload (PermissionDenied);
    nothing on the register changes; no query per row (the file is checked
    without looking anyone up). The import is stored as ``validated`` with
    every valid row and every problem by line number. A file that cannot be
    read as a whole (too large, empty, not UTF-8 CSV, mixed separators,
    missing columns) is stored with that one problem on line 0, no rows and
    a row count of 0."""
    risk_import_require_role(user=by)
    checked = _checked_file(
        content, layout=RISK_FILE, check_row=_risk_row_check(today=timezone.localdate())
    )
    return _import_create(RiskImport, by=by, filename=filename, checked=checked)


@transaction.atomic
def risk_import_apply(*, by: User, risk_import: RiskImport) -> RiskImport:
    """Apply the valid rows of a checked import, once.

    Guarantees: only the uploader, still a navigator or admin, may apply
    (PermissionDenied); a second confirm (a double submit) returns the
    already-applied import and changes nothing; a discarded import is
    refused. Rows match only people the uploader may see, in the networks
    where they may import, so no other network's record is touched. Every
    matched row is kept as a RiskScore; the patient's latest score, its date
    and eFI category change only when the row's date is the same as or later
    than the patient's (a blank category keeps the one they had). One
    transaction, with a number of queries that grows per thousand rows, not
    per row.

    The returned import also carries ``matched_patient_ids`` and
    ``matched_network_ids``: whom this call reached (empty when it had
    already been applied), for the caller's access event."""
    already = _import_claim(risk_import, by=by, require_role=risk_import_require_role)
    if already is not None:
        return already
    now = risk_import.applied_at
    matched_ids, network_ids = [], set()
    people = (
        Patient.objects.visible_to(by)
        .filter(practice__network_id__in=_import_network_ids(by))
        .only("pk", "nhs_number", "risk_score", "risk_scored_on", "frailty_category")
        .annotate(network_id=F("practice__network_id"))
    )
    for batch in _batches(risk_import.valid_rows, BATCH_SIZE):
        row_of = {row[1]: row for row in batch}
        scores, changed = [], []
        for patient in people.filter(nhs_number__in=list(row_of)):
            _, _, score_text, category, scored_on_text = row_of[patient.nhs_number]
            score, scored_on = Decimal(score_text), dt.date.fromisoformat(scored_on_text)
            scores.append(
                RiskScore(
                    patient_id=patient.pk,
                    score=score,
                    frailty_category=category,
                    scored_on=scored_on,
                    imported_by=by,
                )
            )
            # An older result goes into the history only: the patient keeps
            # their newer one.
            if patient.risk_scored_on is None or scored_on >= patient.risk_scored_on:
                patient.risk_score, patient.risk_scored_on = score, scored_on
                patient.frailty_category = category or patient.frailty_category
                patient.updated_at = now
                changed.append(patient)
            matched_ids.append(patient.pk)
            network_ids.add(patient.network_id)
        RiskScore.objects.bulk_create(scores, batch_size=BATCH_SIZE)
        if changed:
            Patient.objects.bulk_update(
                changed,
                ["risk_score", "risk_scored_on", "frailty_category", "updated_at"],
                batch_size=BATCH_SIZE,
            )
    _import_matched(
        risk_import, count=len(matched_ids), patient_ids=matched_ids, network_ids=network_ids
    )
    return risk_import


def risk_import_discard(*, by: User, risk_import: RiskImport) -> RiskImport:
    """As ``import_discard``."""
    return import_discard(by=by, an_import=risk_import)


def risk_import_get_for_user(*, user, import_id) -> RiskImport:
    return _import_get_for_user(RiskImport, user=user, import_id=import_id)


# --- hospital activity -------------------------------------------------------------


def _month(text: str, today: dt.date) -> tuple[dt.date | None, str]:
    """The first day of the month the row is for. A month is imported once it
    has ended: the current month's counts are not complete yet."""
    if not text:
        return None, "The month is missing"
    year_month, iso, uk = _YEAR_MONTH.match(text), _ISO_DATE.match(text), _UK_DATE.match(text)
    try:
        if year_month:
            value = dt.date(int(year_month[1]), int(year_month[2]), 1)
        elif iso:
            value = dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif uk:
            value = dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
        else:
            raise ValueError(text)
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


# --- case finding -----------------------------------------------------------------


def case_finding_list(
    *, user, threshold: Decimal | int | None = None, top_percent: int | None = None
) -> QuerySet[Patient]:
    """People who may benefit from case management, highest risk score first.

    The user's networks' living people with a latest risk score at or above
    ``threshold`` (default: setting ``CASE_FINDING_THRESHOLD``) — or, with
    ``top_percent``, in the top N% by score of their network's scored people
    (ties at the cut-off all in) — who have no open referral or episode on
    the register. One query, whatever the number of people."""
    people = Patient.objects.visible_to(user).filter(
        risk_score__isnull=False, date_of_death__isnull=True
    )
    if top_percent is None:
        if threshold is None:
            threshold = settings.CASE_FINDING_THRESHOLD
        chosen = people.filter(risk_score__gte=threshold)
    else:
        # Ranked among everyone scored in the network, those already on the
        # register included: "top 10%" is of the population, not of the rest.
        network = F("practice__network_id")
        ranked = people.annotate(
            rank=Window(Rank(), partition_by=network, order_by=F("risk_score").desc()),
            scored=Window(Count("pk"), partition_by=network),
        ).alias(
            # rank <= ceil(scored * N / 100), in whole numbers on every database.
            ranked_after=(F("rank") - 1) * 100,
            cut_off=F("scored") * top_percent,
        )
        chosen = people.filter(pk__in=ranked.filter(ranked_after__lt=F("cut_off")).values("pk"))
    on_register = RegisterEntry.objects.filter(
        patient_id=OuterRef("pk"), status__in=RegisterEntry.OPEN_STATUSES
    )
    return (
        chosen.filter(~Exists(on_register))
        .select_related("practice")
        .order_by("-risk_score", "family_name", "given_name", "pk")
    )
