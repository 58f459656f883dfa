"""The monthly activity as a file: one row per network and month, one
column per figure, in the same order and with the same values as the
report page (the page and these files read the same ``ActivityReport``).
Used by the report page's export buttons and by the API."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, JsonResponse

from mdtcare.core.exports import XLSX_CONTENT_TYPE, csv_response, xlsx_write
from mdtcare.reports.activity import FIGURES, ActivityReport

FORMATS = ("csv", "xlsx", "json")


def header() -> list[str]:
    return ["Network code", "Network", "Month", *(figure.label for figure in FIGURES)]


def rows(report: ActivityReport):
    for network, month, values in report.rows():
        yield [
            network.code,
            network.name,
            str(month),
            *("" if values[figure.key] is None else values[figure.key] for figure in FIGURES),
        ]


def as_json(report: ActivityReport) -> dict:
    return {
        "from": str(report.months[0]),
        "to": str(report.months[-1]),
        "networks": [{"code": n.code, "name": n.name} for n in report.networks],
        "figures": [
            {
                "key": figure.key,
                "label": figure.label,
                "section": figure.section,
                "definition": figure.definition,
            }
            for figure in FIGURES
        ],
        "rows": [
            {"network": network.code, "month": str(month), "values": values}
            for network, month, values in report.rows()
        ],
    }


def filename(report: ActivityReport, extension: str) -> str:
    codes = "-".join(network.code for network in report.networks)
    return f"monthly-activity-{codes}-{report.months[0]}-to-{report.months[-1]}.{extension}"


def response(report: ActivityReport, fmt: str):
    """The report as a download in ``fmt`` (csv, xlsx or json)."""
    if fmt == "json":
        return JsonResponse(as_json(report))
    if fmt == "csv":
        return csv_response(filename(report, "csv"), header(), rows(report))
    definitions = [(figure.label, figure.definition) for figure in FIGURES]
    # Written to a temporary file (openpyxl's write-only mode), then sent
    # from disk: memory stays flat, and the file goes when it is closed.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    xlsx_write(
        spool,
        [
            ("Monthly activity", header(), rows(report)),
            ("What each figure counts", ["Figure", "What it counts"], definitions),
        ],
    )
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=filename(report, "xlsx"),
        content_type=XLSX_CONTENT_TYPE,
    )
