"""What both imports share: the kinds of file and how a CSV file is read and
checked, who may import, and an import's life cycle (checked, then applied
or discarded, only by the person who uploaded it)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from mdtcare.accounts import permissions
from mdtcare.accounts.models import Membership, User
from mdtcare.core import nhs_number as nhs
from patients.models import (
    HospitalActivityImport,
    RiskImport,
)

# Rows looked up, inserted and updated per query when a file is applied: the
# number of queries grows by three per thousand rows, never per row.
BATCH_SIZE = 1000
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

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
    """The largest file any import accepts (setting ``IMPORT_MAX_BYTES``)."""
    return getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


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


def _parse_day(text: str) -> dt.date:
    """A day written 2026-03-02 or 02/03/2026; ValueError otherwise."""
    iso, uk = _ISO_DATE.match(text), _UK_DATE.match(text)
    if iso:
        return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
    if uk:
        return dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
    raise ValueError(text)


def _date(text: str, today: dt.date, name: str = "score date") -> tuple[dt.date | None, str]:
    if not text:
        return None, f"The {name} is missing"
    try:
        value = _parse_day(text)
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
