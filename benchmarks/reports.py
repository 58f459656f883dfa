"""Benchmark: the reports at the design ceiling, against plain SQL and COPY.

On a database filled by the design-ceiling generator (see README.md,
"Design-ceiling data"; by default ``mdtcare_ceiling`` on the server that
DATABASE_URL names, which is only read), it measures in one run:

- the **monthly activity** of every network over 24 months
  (``mdtcare.reports.activity.monthly_activity``, as the report page and its
  exports compute it), against **plain SQL**: one grouped ``count(*)`` per
  source table over the same rows and months (meetings, discussions,
  referrals received and decided, assessments signed, plans ratified,
  actions created and completed, attendance). The plain SQL counts the
  rows; the report also works out what needs more than a count (distinct
  and first-ever patients, the median wait, reviews done on time, actions
  overdue at each month end), so the ratio is the price of the definitions.
- the **actions detail export** as CSV (``mdtcare.reports.detail``, written
  through ``mdtcare.core.exports.csv_lines`` as the download streams it)
  over every action (about 1,000,000 at the ceiling), against PostgreSQL
  ``COPY (SELECT … the same columns, joins, filter and order …) TO STDOUT``
  of the same rows; rows per second for both and their ratio; and the
  process's peak memory after exporting a tenth of the months and after
  exporting all of them (streaming: it should not grow with rows).
- optionally (``--xlsx``) the same export as XLSX.

It prints a Markdown table and writes it to benchmarks/results/.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mdtcare \\
        .venv/bin/python benchmarks/reports.py [--database mdtcare_ceiling] [--xlsx]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, django_setup, machine_description, server_urls


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="mdtcare_ceiling", help="generated database")
    parser.add_argument("--months", type=int, default=24, help="months of monthly activity")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing (median)")
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX export")
    return parser.parse_args()


def _median_seconds(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- monthly activity -----------------------------------------------------------------------

_PLAIN_COUNTS = [
    (
        "meetings",
        """SELECT network_id, date_trunc('month', date), count(*) FROM meetings_meeting
           WHERE network_id = ANY(%(networks)s) AND date BETWEEN %(first)s AND %(last)s
           AND status IN ('in_progress', 'closed') GROUP BY 1, 2""",
    ),
    (
        "discussions",
        """SELECT m.network_id, date_trunc('month', m.date), count(*)
           FROM meetings_discussion d JOIN meetings_agendaitem i ON i.id = d.item_id
           JOIN meetings_meeting m ON m.id = i.meeting_id
           WHERE m.network_id = ANY(%(networks)s) AND m.date BETWEEN %(first)s AND %(last)s
           GROUP BY 1, 2""",
    ),
    (
        "referrals received",
        """SELECT o.network_id, date_trunc('month', e.referred_on), count(*)
           FROM patients_registerentry e JOIN patients_patient p ON p.id = e.patient_id
           JOIN accounts_organisation o ON o.id = p.practice_id
           WHERE o.network_id = ANY(%(networks)s) AND e.referred_on BETWEEN %(first)s AND %(last)s
           GROUP BY 1, 2""",
    ),
    (
        "referrals decided",
        """SELECT o.network_id, date_trunc('month', e.decided_on), count(*)
           FROM patients_registerentry e JOIN patients_patient p ON p.id = e.patient_id
           JOIN accounts_organisation o ON o.id = p.practice_id
           WHERE o.network_id = ANY(%(networks)s) AND e.decided_on BETWEEN %(first)s AND %(last)s
           GROUP BY 1, 2""",
    ),
    (
        "assessments signed",
        """SELECT o.network_id, date_trunc('month', a.signed_at AT TIME ZONE %(zone)s), count(*)
           FROM careplans_assessment a JOIN patients_patient p ON p.id = a.patient_id
           JOIN accounts_organisation o ON o.id = p.practice_id
           WHERE o.network_id = ANY(%(networks)s)
           AND a.signed_at >= %(starts)s AND a.signed_at < %(ends)s GROUP BY 1, 2""",
    ),
    (
        "plans ratified",
        """SELECT o.network_id, date_trunc('month', c.ratified_at AT TIME ZONE %(zone)s), count(*)
           FROM careplans_careplan c JOIN patients_patient p ON p.id = c.patient_id
           JOIN accounts_organisation o ON o.id = p.practice_id
           WHERE o.network_id = ANY(%(networks)s)
           AND c.ratified_at >= %(starts)s AND c.ratified_at < %(ends)s GROUP BY 1, 2""",
    ),
    (
        "actions created",
        """SELECT o.network_id, date_trunc('month', x.created_at AT TIME ZONE %(zone)s), count(*)
           FROM meetings_action x JOIN patients_patient p ON p.id = x.patient_id
           JOIN accounts_organisation o ON o.id = p.practice_id
           WHERE o.network_id = ANY(%(networks)s)
           AND x.created_at >= %(starts)s AND x.created_at < %(ends)s GROUP BY 1, 2""",
    ),
    (
        "actions completed",
        """SELECT o.network_id, date_trunc('month', x.completed_at AT TIME ZONE %(zone)s), count(*)
           FROM meetings_action x JOIN patients_patient p ON p.id = x.patient_id
           JOIN accounts_organisation o ON o.id = p.practice_id
           WHERE o.network_id = ANY(%(networks)s) AND x.status = 'done'
           AND x.completed_at >= %(starts)s AND x.completed_at < %(ends)s GROUP BY 1, 2""",
    ),
    (
        "attendance",
        """SELECT m.network_id, date_trunc('month', m.date), t.profession, count(*)
           FROM meetings_attendance t JOIN meetings_meeting m ON m.id = t.meeting_id
           WHERE m.network_id = ANY(%(networks)s) AND m.date BETWEEN %(first)s AND %(last)s
           AND t.status = 'present' GROUP BY 1, 2, 3""",
    ),
]


def monthly_activity_figures(months: int, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mdtcare.accounts.models import Network
    from mdtcare.reports.activity import monthly_activity
    from mdtcare.reports.months import Month

    networks = list(Network.objects.order_by("name"))
    last = Month.current()
    first = last.plus(-(months - 1))
    params = {
        "networks": [network.pk for network in networks],
        "first": first.first_day,
        "last": last.last_day,
        "starts": first.starts_at(),
        "ends": last.ends_at(),
        "zone": "Europe/London",
    }

    def plain():
        with connection.cursor() as cursor:
            for _, sql in _PLAIN_COUNTS:
                cursor.execute(sql, params)
                cursor.fetchall()

    def ours():
        return monthly_activity(networks=networks, first=first, last=last)

    plain()  # warm the caches both ways before timing
    with CaptureQueriesContext(connection) as queries:
        report = ours()
    plain_seconds = _median_seconds(plain, repeat)
    ours_seconds = _median_seconds(ours, repeat)
    return {
        "networks": len(networks),
        "months": f"{first} to {last}",
        "discussions": report.value("discussions"),
        "actions created": report.value("actions_created"),
        "queries": len(queries),
        "plain queries": len(_PLAIN_COUNTS),
        "plain": plain_seconds,
        "ours": ours_seconds,
    }


# --- the actions export ---------------------------------------------------------------------


class _Sink:
    """Counts the bytes of a download, as a client reading it would."""

    def __init__(self):
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)


def _export_csv(export) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of the CSV download of ``export``."""
    from mdtcare.core.exports import csv_lines

    sink = _Sink()
    rows = 0

    def counted():
        nonlocal rows
        for row in export.rows():
            rows += 1
            yield row

    started = time.perf_counter()
    for chunk in csv_lines(export.header, counted()):
        sink.write(chunk.encode("utf-8"))
    return rows, sink.size, time.perf_counter() - started


def _copy_csv(export) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of COPY of the export's own SELECT."""
    import psycopg
    from django.db import connection

    sql, params = export.query.query.sql_with_params()
    sink = _Sink()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor.connection
        statement = psycopg.ClientCursor(raw).mogrify(sql, params)
        with raw.cursor().copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)") as copy:
            for data in copy:
                sink.write(bytes(data))
    seconds = time.perf_counter() - started
    return export.count(), sink.size, seconds


def _export_xlsx(export) -> tuple[int, float]:
    import tempfile

    from mdtcare.core.exports import xlsx_write

    started = time.perf_counter()
    with tempfile.TemporaryFile() as spool:
        xlsx_write(spool, [(export.title, export.header, export.rows())])
        size = spool.tell()
    return size, time.perf_counter() - started


def export_figures(*, xlsx: bool) -> dict:
    from django.db.models import Max, Min

    from mdtcare.accounts.models import Network
    from mdtcare.reports.detail import actions_detail
    from mdtcare.reports.months import Month, months_between
    from meetings.models import Action

    networks = list(Network.objects.order_by("name"))
    span = Action.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    first = Month.of(span["first"].date())
    last = Month.of(span["last"].date())
    # The last tenth of the months, for the memory of a smaller export.
    tenth = last.plus(-(max(1, len(months_between(first, last)) // 10) - 1))

    rss_start = _peak_rss_mb()
    small_rows, _, small_seconds = _export_csv(actions_detail(networks, tenth, last))
    rss_small = _peak_rss_mb()
    export = actions_detail(networks, first, last)
    rows, size, seconds = _export_csv(export)
    rss_full = _peak_rss_mb()
    copy_rows, copy_size, copy_seconds = _copy_csv(export)
    figures = {
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "copy rows": copy_rows,
        "copy bytes": copy_size,
        "copy seconds": copy_seconds,
        "small rows": small_rows,
        "small seconds": small_seconds,
        "rss start": rss_start,
        "rss small": rss_small,
        "rss full": rss_full,
    }
    if xlsx:
        figures["xlsx bytes"], figures["xlsx seconds"] = _export_xlsx(export)
        figures["rss xlsx"] = _peak_rss_mb()
    return figures


# --- the table ------------------------------------------------------------------------------


def table(activity: dict, export: dict, machine: str) -> str:
    rate = export["rows"] / export["seconds"]
    copy_rate = export["copy rows"] / export["copy seconds"]
    lines = [
        f"# Reports at the design ceiling, {dt.date.today():%-d %B %Y}",
        "",
        f"{machine}.",
        "",
        "| what | figure | baseline | ratio |",
        "| --- | ---: | ---: | ---: |",
        f"| monthly activity, {activity['networks']} networks x {activity['months']} "
        f"({activity['discussions']:,} discussions, {activity['actions created']:,} actions "
        f"created) | {activity['ours']:.2f} s in {activity['queries']} queries | plain SQL "
        f"counts of the same rows: {activity['plain']:.2f} s in {activity['plain queries']} "
        f"queries | {activity['ours'] / activity['plain']:.2f}x the time |",
        f"| actions export as CSV, {export['rows']:,} rows ({export['bytes'] / 1e6:.0f} MB) "
        f"| {rate:,.0f} rows/s ({export['seconds']:.1f} s) | COPY of the same SELECT: "
        f"{copy_rate:,.0f} rows/s ({export['copy seconds']:.1f} s, "
        f"{export['copy bytes'] / 1e6:.0f} MB) | {rate / copy_rate:.0%} of COPY's rows/s |",
        f"| peak memory of the process (RSS) | {export['rss small']:.0f} MB after "
        f"{export['small rows']:,} rows, {export['rss full']:.0f} MB after "
        f"{export['rows']:,} | {export['rss start']:.0f} MB before exporting | "
        f"+{export['rss full'] - export['rss small']:.0f} MB for "
        f"{export['rows'] / max(export['small rows'], 1):.0f}x the rows |",
    ]
    if "xlsx seconds" in export:
        lines.append(
            f"| actions export as XLSX, {export['rows']:,} rows "
            f"({export['xlsx bytes'] / 1e6:.0f} MB) | "
            f"{export['rows'] / export['xlsx seconds']:,.0f} rows/s "
            f"({export['xlsx seconds']:.1f} s) | COPY as above | "
            f"{export['rows'] / export['xlsx seconds'] / copy_rate:.0%} of COPY's rows/s; "
            f"peak {export['rss xlsx']:.0f} MB |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    _, url = server_urls(args.database)
    os.environ.setdefault("TWO_FACTOR_REQUIRED_FOR", "off")
    django_setup(url)
    from meetings.models import Action

    if not Action.objects.exists():
        sys.exit(
            f"{args.database} has no actions: fill it with the design-ceiling generator first "
            "(benchmarks/README.md, 'Design-ceiling data')."
        )
    print(f"Monthly activity over {args.months} months …", flush=True)
    activity = monthly_activity_figures(args.months, args.repeat)
    print("The actions export …", flush=True)
    export = export_figures(xlsx=args.xlsx)
    text = table(activity, export, machine_description())
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"reports-{dt.date.today():%Y-%m-%d}.md"
    path.write_text(text)
    print(text)
    print(f"Written to {path.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
