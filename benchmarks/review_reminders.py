"""Benchmark: the daily care plan review-reminder job against the plain
selection of the same plans.

On PostgreSQL (DATABASE_URL names the server; nothing in its database is
touched), it creates a throwaway database (``mdtcare_bench``), migrates it,
loads 100,000 care plans with COPY, then measures in one run:

- the plain selection: one ``values_list`` query of the plans due within
  the reminder windows or overdue (the job's own condition), no batches;
- the full job (``careplans.reminders.review_reminders_raise``: batches of
  plans, notifications raised with ``notifications_raise_many``) on its
  first day (every reminder new), again the same day (nothing new), and the
  next day (the everyday case: only the plans that moved into a window);

and prints a Markdown table (time relative to the plain selection, queries
per 1,000 plans read), also written to benchmarks/results/. The database is
dropped at the end unless --keep.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mdtcare \\
        .venv/bin/python benchmarks/review_reminders.py [--plans 100000] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: benchmarks/ is on the path, the root not
    sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402

RESULTS = common.RESULTS
SEED = 20260310


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=100_000, help="care plans to make")
    parser.add_argument("--database", default="mdtcare_bench", help="throwaway database name")
    parser.add_argument("--batch-size", type=int, default=None, help="REMINDER_BATCH_SIZE")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def load(*, plans: int, today: dt.date) -> dict:
    """One network, 20 practices, 300 practitioners (2% no longer active),
    ``plans / 2`` people each with one episode (92% open) and two versions
    of their plan. In open episodes: 85% version 1 superseded and version 2
    in force; 15% version 1 still in force and version 2 a draft or
    proposal. Closed episodes: both versions closed. The reviews of the
    plans in force fall evenly from 30 days ago to 150 days ahead."""
    from django.db import connection, transaction
    from django.utils import timezone

    from careplans.models import CarePlan
    from mdtcare.accounts.models import Network, Organisation, User
    from patients.models import Patient, RegisterEntry

    rng = random.Random(SEED)
    now = timezone.now()
    people = plans // 2
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        # Loading only: no change-history rows (the audit triggers) for the
        # made-up data; foreign keys are right by construction.
        common.audit_triggers_skipped(cursor),
    ):
        network = Network(name="Bench", code="bench")
        common.copy_models(Network, [network])
        practices = [
            Organisation(
                name=f"Practice {n}", type="gp_practice", ods_code=f"B{n:05d}", network=network
            )
            for n in range(20)
        ]
        common.copy_models(Organisation, practices)
        users = [
            User(
                username=f"user{n}",
                email=f"user{n}@bench.invalid",
                profession="community_matron",
                is_active=rng.random() > 0.02,
                password="!",  # noqa: S106 (an unusable password)
            )
            for n in range(300)
        ]
        common.copy_models(User, users)
        leads, navigators = users[:240], users[240:]
        patients = [
            Patient(
                nhs_number=f"{9_000_000_000 + n}",
                given_name="Ada",
                family_name=f"Bench{n}",
                date_of_birth=dt.date(1930, 1, 1) + dt.timedelta(days=n % 20000),
                sex="female",
                postcode="LS1 4AP",
                practice=practices[n % len(practices)],
            )
            for n in range(people)
        ]
        common.copy_models(Patient, patients)
        entries = [
            RegisterEntry(
                patient=patient,
                status="active" if rng.random() < 0.92 else "discharged",
                source="gp_practice",
                referrer_name="Dr Bench",
                reason="Benchmark",
                referred_on=today - dt.timedelta(days=400),
                clinical_lead=rng.choice(leads),
                navigator=rng.choice(navigators) if rng.random() > 0.03 else None,
            )
            for patient in patients
        ]
        common.copy_models(RegisterEntry, entries)

        def plan(entry, number, status, review_on):
            in_force_once = status not in ("draft", "proposed")
            return CarePlan(
                patient=entry.patient,
                entry=entry,
                number=number,
                status=status,
                starts_on=review_on - dt.timedelta(days=42),
                next_review_on=review_on,
                ratified_by=entry.clinical_lead if in_force_once else None,
                ratified_at=now if in_force_once else None,
            )

        def versions():
            for entry in entries:
                review_on = today + dt.timedelta(days=rng.randint(-30, 150))
                earlier = review_on - dt.timedelta(days=rng.randint(42, 180))
                if entry.status != "active":
                    yield plan(entry, 1, "closed", earlier)
                    yield plan(entry, 2, "closed", review_on)
                elif rng.random() < 0.85:
                    yield plan(entry, 1, "superseded", earlier)
                    yield plan(entry, 2, rng.choice(["ratified", "shared"]), review_on)
                else:
                    yield plan(entry, 1, rng.choice(["ratified", "shared"]), review_on)
                    yield plan(entry, 2, rng.choice(["draft", "proposed"]), review_on)

        made = common.copy_models(CarePlan, versions())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"plans": made, "people": people, "users": len(users)}


# --- measuring ---------------------------------------------------------------------------


def _timed(function, *, repeat: int = 1):
    """(result, seconds: the median of ``repeat`` runs, queries of the last)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - start)
    return result, statistics.median(times), len(queries)


def measure(*, today: dt.date, batch_size: int) -> tuple[list[dict], str]:
    from django.db.models import Q

    from careplans import reminders
    from mdtcare.notifications.tasks import deliver

    windows = reminders.review_windows()
    farthest = max(w.farthest for w in windows if w.farthest is not None)
    until = today + dt.timedelta(days=farthest)
    # The job queues e-mail deliveries as it commits: open the (in-memory)
    # broker connection first, as a running worker has it open.
    deliver.apply_async(args=[[]])

    rows, plain_seconds, plain_queries = _timed(
        lambda: list(reminders.reminder_candidates(until=until)), repeat=5
    )
    results = [
        {
            "what": "Plain selection (the job's query, all rows at once)",
            "plans": len(rows),
            "batches": 1,
            "made": "n/a",
            "seconds": plain_seconds,
            "queries": plain_queries,
        }
    ]
    # (what, day, runs: only a run that makes nothing can be timed again)
    runs = [
        ("Reminder job, first day (every reminder new)", today, 1),
        ("Reminder job, same day again (nothing new)", today, 5),
        ("Reminder job, next day (plans moving into a window)", today + dt.timedelta(days=1), 1),
    ]
    for what, day, repeat in runs:
        run, seconds, queries = _timed(
            lambda day=day: reminders.review_reminders_raise(today=day, batch_size=batch_size),
            repeat=repeat,
        )
        results.append(
            {
                "what": what,
                "plans": run.plans,
                "batches": run.batches,
                "made": run.made,
                "seconds": seconds,
                "queries": queries,
            }
        )
    # A batch read from the middle of the ratified plans, as the job reads it.
    ratified = [row for row in rows if row.status == "ratified"]
    middle = ratified[len(ratified) // 2]
    page = (
        reminders.reminder_candidates(until=until, status="ratified")
        .filter(next_review_on__gte=middle.next_review_on)
        .filter(Q(next_review_on__gt=middle.next_review_on) | Q(id__gt=middle.id))[:batch_size]
    )
    return results, page.explain(analyze=True)


def table(results: list[dict], plain_seconds: float) -> str:
    lines = [
        "| run | plans read | batches | notifications made | time (ms) | vs plain selection "
        "| queries | queries per 1,000 plans |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results:
        per_thousand = row["queries"] * 1000 / row["plans"] if row["plans"] else 0
        made = f"{row['made']:,}" if isinstance(row["made"], int) else row["made"]
        lines.append(
            f"| {row['what']} | {row['plans']:,} | {row['batches']:,} | {made} "
            f"| {row['seconds'] * 1000:,.0f} | {row['seconds'] / plain_seconds:.1f}x "
            f"| {row['queries']:,} | {per_thousand:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    with common.throwaway_database(args.database, keep=args.keep):
        from django.conf import settings
        from django.utils import timezone

        today = timezone.localdate()
        loaded = load(plans=args.plans, today=today)
        build_seconds = time.perf_counter() - started
        print(f"Built {loaded['plans']:,} care plans in {build_seconds:.0f} s", flush=True)

        batch_size = args.batch_size or settings.REMINDER_BATCH_SIZE
        results, explain = measure(today=today, batch_size=batch_size)
        markdown = report(
            results=results,
            explain=explain,
            loaded=loaded,
            today=today,
            batch_size=batch_size,
            windows=settings.REMINDER_WINDOWS,
        )
        print()
        print(markdown)
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"review-reminders-{dt.date.today().isoformat()}.md"
        path.write_text(markdown + "\n")
        print(f"\nWritten to {path.relative_to(ROOT)}")


def report(*, results, explain, loaded, today, batch_size, windows) -> str:
    return "\n".join(
        [
            f"# Review reminders benchmark, {dt.date.today().isoformat()}",
            "",
            f"{loaded['plans']:,} care plans ({loaded['people']:,} people, one episode and two "
            f"plan versions each), {loaded['users']} practitioners; reminders for {today} with "
            f"windows {windows} days and batches of {batch_size} plans. "
            f"{common.machine_description()}. Times are wall-clock on the same machine and "
            "database; the plain selection and the job's second run on the same day are the "
            "median of 5 runs.",
            "",
            table(results, results[0]["seconds"]),
            "",
            "One batch's query, read from the middle of the plans:",
            "",
            "```",
            explain,
            "```",
        ]
    )


if __name__ == "__main__":
    main()
