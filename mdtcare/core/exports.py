"""Cells a spreadsheet would run as a formula are neutralised in every
CSV and XLSX export; both are written row by row, so an export's memory
does not grow with its rows."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from django.http import StreamingHttpResponse

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(_FORMULA_STARTS)
# Rows written to a CSV download at a time: one chunk of the response.
CSV_CHUNK_ROWS = 500

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters XML 1.0 cannot hold: openpyxl refuses the C0 controls (the whole
# export fails) and writes U+FFFE/U+FFFF into a file no spreadsheet can open.
# A vertical tab pasted from a word processor is enough; they are dropped.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cell_safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe(values):
    # cell_safe, inlined: it runs for every cell of a million-row export.
    return [
        "'" + value if value.__class__ is str and value[:1] in _FORMULA_FIRST else value
        for value in values
    ]


def csv_lines(header: Sequence, rows: Iterable[Sequence]) -> Iterator[str]:
    """A CSV file in chunks of lines, formula-safe, starting with a
    byte-order mark so that Excel reads it as UTF-8 (names such as Siân or
    Zoë). Lines go out ``CSV_CHUNK_ROWS`` at a time: fewer, larger writes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_safe(header))
    yield "\ufeff" + buffer.getvalue()
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, CSV_CHUNK_ROWS)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(csv_safe(row) for row in chunk)
        yield buffer.getvalue()


def csv_response(filename: str, header: Sequence, rows: Iterable[Sequence]):
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_safe(values):
    """``csv_safe`` for an XLSX row, after dropping what XML cannot hold
    (first, so that "\\x01=cmd" is neutralised as "=cmd" would be)."""
    return csv_safe(
        [_XML_ILLEGAL.sub("", value) if value.__class__ is str else value for value in values]
    )


def xlsx_write(
    target: str | IO[bytes],
    sheets: Iterable[tuple[str, Sequence, Iterable[Sequence]]],
    *,
    on_row=None,
) -> None:
    """Write an XLSX workbook of ``(title, header, rows)`` sheets to a path
    or binary file, formula-safe, in openpyxl's write-only mode (rows go to
    disk as they come). ``on_row(count)`` is called every 1,000 rows."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(xlsx_safe(header))
        for count, row in enumerate(rows, start=1):
            sheet.append(xlsx_safe(row))
            if on_row is not None and count % 1000 == 0:
                on_row(count)
    workbook.save(target)
