"""``make bench``: every benchmark of issue 9 ("Scale and performance") in one
run, against the design-ceiling data, with one combined report.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/bench.py [--quick] [--database mdtcare_ceiling] \\
        [--network aire]

DATABASE_URL names the PostgreSQL server (its own database is not used).
In order:

1. The ceiling database (``--database``, default ``mdtcare_ceiling``): made,
   migrated and filled with 250,000 people by the generator when it is
   missing or empty (about 4 minutes); migrated when a migration is not
   applied yet. Each step is printed.
2. The pages at a fixed arrival rate (open loop, ``pages.py``): first at
   1,000 people (a throwaway database, generated), then at the ceiling, with
   each page's saturation throughput (closed loop); the baseline is "Your
   account" (``/account/``).
3. API saturation: on one gunicorn, a few clients each sending the next
   request as soon as the last is answered, for the API patient list (100 a
   page) and for the constant endpoint ``/api/v1/me/``, in turn.
4. The mixed load (``mixed.py``): 50 requests a second, 70% page reads, 20%
   writes through the forms, 10% API, on a throwaway copy of the ceiling
   database (``CREATE DATABASE … TEMPLATE``, about 10 s for 2.3 GB).
5. The daily jobs (``jobs.py``): review reminders and the overdue-actions
   digest against their raw selection plus enqueue, on another fresh copy.
6. The reports (``reports.py``): the monthly activity against plain SQL,
   the 1,000,000-row actions export against COPY, on the ceiling database
   (only read).

Pages, API saturation and reports read the ceiling database itself (pages
write audit events and sessions as in use, nothing else); everything that
writes more works on a copy that is dropped afterwards. The report, with
the machine, every table and each target marked met or not met, is
printed and written to ``benchmarks/results/bench-<date>.md``.

``--quick`` shortens every duration (a few minutes in all, for trying it
out); its figures are not the targets' measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: benchmarks/ is on the path, the root not
    sys.path.insert(0, str(ROOT))

from benchmarks import common, jobs, mixed, pages, reports  # noqa: E402

CEILING = {"patients": 250_000, "seed": 20261125, "today": "2026-11-25"}
SMALL_PATIENTS = 1_000
SMALL_DATABASE = "mdtcare_bench_small"
MIXED_DATABASE = "mdtcare_bench_mixed"
JOBS_DATABASE = "mdtcare_bench_jobs"
TIME_LIMIT = 30 * 60  # make bench must finish within 30 minutes
MIXED_TARGET_RATE = 50.0
API_TARGET = 0.30  # the API list's saturation throughput over the constant endpoint's
PAGE_TARGET = 4.0  # a page's p95 within 4x the baseline's, at 20 requests/s
SCALE_TARGET = 1.2  # a page's p95 at 250,000 people within 1.2x its p95 at 1,000
JOB_TARGET = 2.0  # the reminder job within 2x its raw selection plus enqueue
EXPORT_TARGET = 0.25  # the export's rows/s at least a quarter of COPY's
FLAT_MB = 20.0  # "flat memory": the whole export's peak within this of a tenth's


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="mdtcare_ceiling", help="the ceiling database")
    parser.add_argument("--network", default="aire", help="the network code of the logins")
    parser.add_argument("--quick", action="store_true", help="short durations, a few minutes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()
    quick = args.quick
    # Durations: (full, quick).
    args.rate = 20.0
    args.seconds = 5.0 if quick else 20.0  # a page, open loop
    args.saturation_seconds = 3.0 if quick else 10.0  # a page, closed loop
    args.api_seconds = 5.0 if quick else 15.0  # each endpoint, each of two rounds
    args.api_clients = 4 * args.workers
    args.mixed_rate = MIXED_TARGET_RATE
    args.mixed_seconds = 15.0 if quick else 60.0
    args.repeat = 1 if quick else 3  # jobs and reports: median of this many runs
    args.months = 24
    args.small = True
    return args


def step(text: str) -> None:
    print(f"\n== {text} ({time.strftime('%H:%M:%S')})", flush=True)


# --- 1. the ceiling database ---------------------------------------------------------------


def manage(database_url: str, *command: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "mdtcare.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "benchmark-only",
        "TWO_FACTOR_REQUIRED_FOR": "off",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("REDIS_URL", None)
    env["CELERY_BROKER_URL"] = "memory://"
    return subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", *command], cwd=ROOT, env=env, check=False
    )


def ceiling_ready(args: argparse.Namespace) -> str:
    """Make, migrate and fill the ceiling database as needed; its URL."""
    import psycopg

    maintenance_url, url = common.server_urls(args.database)
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone()
    if not exists:
        print(f"The database {args.database} does not exist: creating it", flush=True)
        common.admin_sql(maintenance_url, f'CREATE DATABASE "{args.database}"')
    if manage(url, "migrate", "--check", "-v0").returncode != 0:
        print(f"Applying the migrations to {args.database}", flush=True)
        if manage(url, "migrate", "--noinput").returncode != 0:
            sys.exit("migrate failed")
    else:
        print(f"{args.database}: every migration is applied", flush=True)
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        people = conn.execute("SELECT count(*) FROM patients_patient").fetchone()[0]
    if people == 0:
        print(
            f"{args.database} has no people: generating the design-ceiling data "
            f"({CEILING['patients']:,} people, seed {CEILING['seed']}, today "
            f"{CEILING['today']}; about 4 minutes)",
            flush=True,
        )
        done = manage(
            url,
            "generate_ceiling_data",
            "--patients",
            str(CEILING["patients"]),
            "--seed",
            str(CEILING["seed"]),
            "--today",
            CEILING["today"],
        )
        if done.returncode != 0:
            sys.exit("generate_ceiling_data failed")
    else:
        print(f"{args.database}: {people:,} people on the register", flush=True)
    return url


# --- throwaway databases -------------------------------------------------------------------


@contextlib.contextmanager
def copy_of(template: str, name: str):
    """A throwaway copy of ``template`` (which must have no other session:
    retried for a minute), Django pointed at it; dropped afterwards. Yields
    its URL, or None when the template stayed in use."""
    from django.db import connections

    maintenance_url, url = common.server_urls(name)
    connections.close_all()
    common.admin_sql(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    started = time.perf_counter()
    made = False
    while not made:
        try:
            common.admin_sql(
                maintenance_url,
                f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY',
            )
            made = True
        except Exception as exc:  # another session on the template
            if time.perf_counter() - started > 60:
                print(f"Could not copy {template}: {exc}", flush=True)
                yield None
                return
            time.sleep(3)
    print(f"Copied {template} to {name} in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        pages.use_database(name)
        yield url
    finally:
        connections.close_all()
        pages.use_database(template)
        common.admin_sql(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"Dropped {name}", flush=True)


@contextlib.contextmanager
def small_database(ceiling: str):
    """A throwaway database with 1,000 generated people, Django pointed at it."""
    from django.core.management import call_command
    from django.db import connections

    from benchmarks.generator import generate

    maintenance_url, url = common.server_urls(SMALL_DATABASE)
    connections.close_all()
    common.admin_sql(maintenance_url, f'DROP DATABASE IF EXISTS "{SMALL_DATABASE}" WITH (FORCE)')
    common.admin_sql(maintenance_url, f'CREATE DATABASE "{SMALL_DATABASE}"')
    try:
        pages.use_database(SMALL_DATABASE)
        call_command("migrate", verbosity=0)
        # One network, so that its meetings are of a real size (about 16
        # items a fortnight) and its register is the whole 1,000.
        generate(patients=SMALL_PATIENTS, networks=1)
        yield url
    finally:
        connections.close_all()
        pages.use_database(ceiling)
        common.admin_sql(
            maintenance_url, f'DROP DATABASE IF EXISTS "{SMALL_DATABASE}" WITH (FORCE)'
        )
        print(f"Dropped {SMALL_DATABASE}", flush=True)


# --- 3. API saturation ---------------------------------------------------------------------


def api_saturation(url: str, args, workdir: Path) -> dict:
    """Requests a second of the API patient list and of /api/v1/me/, closed
    loop, on one server; two rounds, in turn, so a change in the machine's
    load falls on both."""
    endpoints = {
        "list": "/api/v1/patients/?page_size=100",
        "me": "/api/v1/me/",
    }
    done = {name: 0.0 for name in endpoints}
    errors = {name: 0 for name in endpoints}
    with pages.Server(url, workers=args.workers, workdir=workdir) as server:
        cookie = pages.log_in(server.base, f"bench-navigator-{args.network}")
        for path in endpoints.values():
            for _ in range(args.workers * 2):
                pages.fetch(server.base + path, cookie)
        for _ in range(2):
            for name, path in endpoints.items():
                rate, failed = pages.saturate(
                    server.base + path, cookie, clients=args.api_clients, seconds=args.api_seconds
                )
                done[name] += rate * args.api_seconds
                errors[name] += failed
                print(f"  {path}: {rate:.1f} requests/s, {failed} errors", flush=True)
    seconds = 2 * args.api_seconds
    return {
        "list": done["list"] / seconds,
        "me": done["me"] / seconds,
        "list errors": errors["list"],
        "me errors": errors["me"],
        "ratio": done["list"] / done["me"] if done["me"] else float("nan"),
    }


def api_table(api: dict, args) -> str:
    return "\n".join(
        [
            "| endpoint | requests/s | errors | / constant endpoint |",
            "| --- | ---: | ---: | ---: |",
            f"| constant: `/api/v1/me/` | {api['me']:.1f} | {api['me errors']} | 100% |",
            f"| API patients, page_size=100 | {api['list']:.1f} | {api['list errors']} | "
            f"{api['ratio']:.0%} |",
            "",
            f"{args.api_clients} clients, closed loop, {args.api_seconds:g} s an endpoint in "
            "each of two rounds, in turn, on the same gunicorn.",
        ]
    )


# --- 4. the mixed load ---------------------------------------------------------------------


def mixed_load(args, workdir: Path) -> dict | None:
    with copy_of(args.database, MIXED_DATABASE) as url:
        if url is None:
            return None
        page_list = pages.choose_pages(args.network)
        count = int(args.mixed_rate * args.mixed_seconds)
        # Two in ten calls are writes; a few spare.
        writes = mixed.prepare_writes(args.network, count // 5 + 10, dt.date.today())
        calls = mixed.schedule(page_list=page_list, writes=writes, count=count, seed=20261126)
        writes_sent = [c for c in calls if c.category == "write"]
        from django.db import connections

        connections.close_all()
        with pages.Server(url, workers=args.workers, workdir=workdir) as server:
            cookies = mixed.log_in_all(server.base, args.network)
            print(
                f"  {count:,} requests at {args.mixed_rate:g}/s for {args.mixed_seconds:g} s",
                flush=True,
            )
            outcomes, late = mixed.run(server.base, calls, cookies, rate=args.mixed_rate)
        applied = mixed.writes_applied(writes_sent)
        errors = sum(1 for o in outcomes if not o.ok)
        print(f"  {errors:,} errors of {len(outcomes):,}", flush=True)
        return {
            "table": mixed.table(outcomes, applied),
            "errors": errors,
            "sent": len(outcomes),
            "late": late,
            "p50": mixed.centile([o.latency for o in outcomes if o.ok], 0.5),
            "p95": mixed.centile([o.latency for o in outcomes if o.ok], 0.95),
        }


# --- 5. the jobs ---------------------------------------------------------------------------


def daily_jobs(args) -> list[dict] | None:
    from django.utils import timezone

    with copy_of(args.database, JOBS_DATABASE) as url:
        if url is None:
            return None
        today = timezone.localdate()
        per_task = jobs.enqueue_seconds_per_task()
        print(f"  queuing a delivery task: {per_task * 1000:.2f} ms", flush=True)
        rows = jobs.review_reminders(today=today, per_task=per_task, repeat=args.repeat)
        print(f"  review reminders: {rows[1]['seconds']:.1f} s first day", flush=True)
        rows += jobs.overdue_digest(today=today, per_task=per_task, repeat=args.repeat)
        print(f"  overdue digest: {rows[-2]['seconds']:.1f} s first run", flush=True)
        return rows


# --- the report ----------------------------------------------------------------------------


def versions() -> str:
    import django

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) at the end; "
        f"PostgreSQL {common.server_version()}; Python {platform.python_version()}; "
        f"Django {django.get_version()}; {platform.platform()}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def targets(*, big, small, api, mixed_result, job_rows, export, elapsed, args) -> str:
    rows = ["| target | measured | |", "| --- | --- | --- |"]
    if mixed_result is None:
        rows.append(
            f"| mixed load of {MIXED_TARGET_RATE:g} requests/s, zero errors | not "
            "measured (the ceiling database was in use) | **not met** |"
        )
    else:
        rows.append(
            f"| mixed load of {MIXED_TARGET_RATE:g} requests/s (70% pages, 20% writes, 10% API) "
            f"with zero errors | {mixed_result['errors']:,} errors of {mixed_result['sent']:,} "
            f"in {args.mixed_seconds:g} s (p50 {pages.ms(mixed_result['p50'])} ms, p95 "
            f"{pages.ms(mixed_result['p95'])} ms: a p95 of seconds means the server fell "
            f"behind, and a longer run turns the wait into timeouts) | "
            f"{verdict(mixed_result['errors'] == 0)} |"
        )
    rows.append(
        f"| API saturation: the patient list (100 a page) ≥ {API_TARGET:.0%} of the constant "
        f"endpoint's requests/s | {api['list']:.1f} / {api['me']:.1f} requests/s = "
        f"{api['ratio']:.0%} | {verdict(api['ratio'] >= API_TARGET)} |"
    )
    rows.append(
        f"| `make bench` within 30 minutes | {elapsed / 60:.1f} min"
        + (" (`--quick`)" if args.quick else "")
        + f" | {verdict(elapsed <= TIME_LIMIT)} |"
    )
    baseline = big[0]
    for m in big[1:]:
        ratio = m.p95 / baseline.p95
        rows.append(
            f"| {m.page.name}: p95 ≤ {PAGE_TARGET:g}x the baseline's at {args.rate:g} "
            f"requests/s | {pages.ms(m.p95)} ms = {ratio:.1f}x, {m.errors} errors | "
            f"{verdict(ratio <= PAGE_TARGET and m.errors == 0)} |"
        )
    for i, m in enumerate(big):
        ratio = m.p95 / small[i].p95
        rows.append(
            f"| {m.page.name}: p95 at 250,000 people ≤ {SCALE_TARGET:g}x at "
            f"{SMALL_PATIENTS:,} | {pages.ms(m.p95)} / {pages.ms(small[i].p95)} ms = "
            f"{ratio:.1f}x | {verdict(ratio <= SCALE_TARGET)} |"
        )
    if job_rows:
        raw, first = job_rows[0], job_rows[1]
        rows.append(
            f"| review-reminder job ≤ {JOB_TARGET:g}x its raw selection plus enqueue | "
            f"{first['seconds']:.1f} s / {raw['seconds']:.1f} s = {first['ratio']:.1f}x | "
            f"{verdict(first['ratio'] <= JOB_TARGET)} |"
        )
    if export:
        rate = export["rows"] / export["seconds"]
        copy_rate = export["copy rows"] / export["copy seconds"]
        # Flat: the whole export's peak memory no more than a little above a
        # tenth's (a streamed writer holds a chunk, not the file).
        grown = export["rss full"] - export["rss small"]
        rows.append(
            f"| actions export ({export['rows']:,} rows) ≥ {EXPORT_TARGET:.0%} of COPY's "
            f"rows/s, memory flat | {rate:,.0f} / {copy_rate:,.0f} rows/s = "
            f"{rate / copy_rate:.0%}; peak memory +{grown:.0f} MB over a tenth of it | "
            f"{verdict(rate / copy_rate >= EXPORT_TARGET and grown <= FLAT_MB)} |"
        )
    return "\n".join(rows)


def main() -> None:
    started = time.perf_counter()
    args = arguments()
    step(f"The ceiling database {args.database}")
    url = ceiling_ready(args)
    common.django_setup(url)
    mode = (
        "quick run (`--quick`): short durations, not the targets' measurement"
        if (args.quick)
        else "full run"
    )
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        pages.collect_static(workdir)

        step(f"Pages at {SMALL_PATIENTS:,} people ({args.rate:g} requests/s, {args.seconds:g} s)")
        with small_database(args.database) as small_url:
            small = pages.run_pages(SMALL_DATABASE, small_url, args, workdir)

        step(f"Pages at the ceiling ({args.rate:g} requests/s, {args.seconds:g} s; saturation)")
        big = pages.run_pages(
            args.database, url, args, workdir, saturation_seconds=args.saturation_seconds
        )

        step("API saturation")
        api = api_saturation(url, args, workdir)

        step(f"Mixed load ({args.mixed_rate:g} requests/s, {args.mixed_seconds:g} s)")
        mixed_result = mixed_load(args, workdir)

    step("Daily jobs")
    job_rows = daily_jobs(args)

    step("Reports")
    pages.use_database(args.database)
    print(f"  monthly activity over {args.months} months …", flush=True)
    activity = reports.monthly_activity_figures(args.months, args.repeat)
    print("  the actions export …", flush=True)
    export = reports.export_figures(xlsx=False)
    elapsed = time.perf_counter() - started

    late = max(m.late_start_p95 for m in big + small)
    report = "\n".join(
        [
            f"# Benchmarks at the design ceiling, {dt.date.today().isoformat()}",
            "",
            f"`make bench`, {mode}; {elapsed / 60:.1f} minutes. Database `{args.database}`, "
            f"network `{args.network}`; gunicorn with {args.workers} sync workers, production "
            "settings (DEBUG off, plain HTTP on 127.0.0.1, no Redis: tasks queue in memory).",
            "",
            f"Machine: {versions()}.",
            "",
            "## Targets",
            "",
            targets(
                big=big,
                small=small,
                api=api,
                mixed_result=mixed_result,
                job_rows=job_rows,
                export=export,
                elapsed=elapsed,
                args=args,
            ),
            "",
            "## Pages",
            "",
            f"{args.rate:g} requests a second for {args.seconds:g} s a page, open loop (latency "
            "from the scheduled start), each page on a fresh server; *alone*: the median of "
            "five requests one at a time first; saturation: "
            f"{2 * args.workers} clients, closed loop, {args.saturation_seconds:g} s, after the "
            f"open-loop queue drained. The client started requests at most {late * 1000:.0f} ms "
            f"late (95th centile). Errors include requests unanswered after "
            f"{pages.REQUEST_TIMEOUT:g} s. The 1k columns: the same pages at "
            f"{SMALL_PATIENTS:,} generated people.",
            "",
            pages.table(big, small),
            "",
            "## API saturation",
            "",
            api_table(api, args),
            "",
            "## Mixed load",
            "",
            (
                "Not measured: the ceiling database stayed in use by another session, so "
                "it could not be copied."
                if mixed_result is None
                else f"{args.mixed_rate:g} requests a second for {args.mixed_seconds:g} s, open "
                "loop, on a copy of the ceiling database; 70% page reads (the pages above but "
                "the API list, in turn), 20% writes through the forms (CSRF, no htmx: a "
                "redirect is their success), 10% API (the patient list 100 a page, the actions "
                "list, /api/v1/me/). An error is anything but 2xx/3xx, or no answer within "
                f"{mixed.TIMEOUT:g} s of the scheduled start. The client started requests at "
                f"most {mixed_result['late'] * 1000:.0f} ms late (95th centile).\n\n"
                + mixed_result["table"]
            ),
            "",
            "## Daily jobs",
            "",
            (
                "Not measured: the ceiling database stayed in use by another session."
                if job_rows is None
                else "On a fresh copy of the ceiling database; deliveries queued on an "
                "in-memory broker. Raw selection: the rows the job reads, one query, every row "
                "at once; plus enqueue: queuing as many delivery tasks as the job queued "
                f"(median of {args.repeat} where repeated).\n\n" + jobs.table(job_rows)
            ),
            "",
            "## Reports",
            "",
            reports.table(activity, export, "On the ceiling database, only read")
            .split("\n", 2)[2]
            .strip(),
        ]
    )
    print()
    print(report)
    common.RESULTS.mkdir(exist_ok=True)
    path = common.RESULTS / f"bench-{dt.date.today().isoformat()}.md"
    path.write_text(report + "\n")
    print(f"\nWritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
