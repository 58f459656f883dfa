"""The daily jobs over the design-ceiling data, each against the raw
selection of the same rows plus queuing the same deliveries.

Run by ``benchmarks/bench.py`` against a throwaway copy of the ceiling
database (the jobs write notifications), with Django set up on an
in-memory broker (``common.django_setup``): the deliveries a job queues
on commit go there, as they would go to Redis.

- **Review reminders** (``careplans.reminders.review_reminders_raise``,
  the Celery task ``careplans.review_reminders``) over every plan in force:
  on its first day (every reminder new, the notification rows written) and
  again the same day (nothing new). The raw selection is the job's own
  query (``reminder_candidates``), every row at once.
- **Overdue-actions digest** (``meetings.reminders.overdue_digests_raise``)
  over every action: first run and again. The raw selection is two plain
  queries: the distinct owners and the distinct networks of the overdue
  actions (the one overdue rule, ``actions_with_overdue``). The job's own
  reads are sub-selects PostgreSQL answers as semi-joins, so it can be as
  fast as this selection.

The raw selections run once untimed first (a fresh copy's tables are not
in PostgreSQL's buffers yet); the jobs' first runs cannot be repeated, so
each is timed once. "Plus enqueue" is the time to queue the deliveries the job queued (a task
of ``DELIVERY_BATCH`` notification ids each, ``deliver.apply_async``),
measured by queuing as many tasks on the same broker.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time


def _timed(function, *, repeat: int = 1):
    """(result of the last run, median seconds, queries of the last run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - started)
    return result, statistics.median(times), len(queries)


def enqueue_seconds_per_task(samples: int = 200) -> float:
    """Queuing one delivery task of DELIVERY_BATCH ids on the broker."""
    from mdtcare.notifications.services import DELIVERY_BATCH, ENQUEUE_RETRY_POLICY
    from mdtcare.notifications.tasks import deliver

    batch = list(range(DELIVERY_BATCH))
    deliver.apply_async(args=[[]])  # open the broker connection first, as a worker has it
    started = time.perf_counter()
    for _ in range(samples):
        deliver.apply_async(args=[batch], retry_policy=ENQUEUE_RETRY_POLICY)
    return (time.perf_counter() - started) / samples


def _tasks(made: int) -> int:
    from mdtcare.notifications.services import DELIVERY_BATCH

    return math.ceil(made / DELIVERY_BATCH)


def review_reminders(*, today, per_task: float, repeat: int) -> list[dict]:
    from django.conf import settings

    from careplans import reminders

    windows = reminders.review_windows()
    until = today + dt.timedelta(days=max(w.farthest for w in windows if w.farthest is not None))

    def raw_selection():
        return list(reminders.reminder_candidates(until=until))

    raw_selection()  # a fresh copy's tables are not in PostgreSQL's buffers yet
    rows, plain, plain_queries = _timed(raw_selection, repeat=repeat)
    first, first_s, first_q = _timed(lambda: reminders.review_reminders_raise(today=today))
    again, again_s, again_q = _timed(
        lambda: reminders.review_reminders_raise(today=today), repeat=repeat
    )
    raw = plain + per_task * _tasks(first.made)
    batch = settings.REMINDER_BATCH_SIZE
    return [
        {
            "job": "review reminders",
            "what": f"raw selection ({len(rows):,} plans) + queue {_tasks(first.made):,} tasks",
            "rows": len(rows),
            "made": None,
            "seconds": raw,
            "queries": plain_queries,
            "ratio": 1.0,
        },
        {
            "job": "review reminders",
            "what": f"job, first day (batches of {batch})",
            "rows": first.plans,
            "made": first.made,
            "seconds": first_s,
            "queries": first_q,
            "ratio": first_s / raw,
        },
        {
            "job": "review reminders",
            "what": "job, same day again (nothing new)",
            "rows": again.plans,
            "made": again.made,
            "seconds": again_s,
            "queries": again_q,
            "ratio": again_s / raw,
        },
    ]


def overdue_digest(*, today, per_task: float, repeat: int) -> list[dict]:
    from meetings import reminders

    def raw_selection():
        # Who a digest could go to: the owners of the overdue actions and
        # their networks (whose navigators are told), without the job's
        # checks of active users and memberships.
        overdue = reminders.overdue_actions(today=today).order_by()
        owners = list(overdue.values_list("owner_id", flat=True).distinct())
        networks = list(overdue.values_list("patient__practice__network_id", flat=True).distinct())
        return owners, networks

    raw_selection()  # warm, as above
    (owners, networks), plain, plain_queries = _timed(raw_selection, repeat=repeat)
    overdue = reminders.overdue_actions(today=today).count()
    first, first_s, first_q = _timed(lambda: reminders.overdue_digests_raise(today=today))
    again, again_s, again_q = _timed(
        lambda: reminders.overdue_digests_raise(today=today), repeat=repeat
    )
    raw = plain + per_task * _tasks(first.made)
    return [
        {
            "job": "overdue digest",
            "what": f"raw selection ({overdue:,} overdue actions: {len(owners):,} owners, "
            f"{len(networks)} networks) + queue {_tasks(first.made):,} tasks",
            "rows": overdue,
            "made": None,
            "seconds": raw,
            "queries": plain_queries,
            "ratio": 1.0,
        },
        {
            "job": "overdue digest",
            "what": f"job, first run ({first.owners:,} owners, {first.navigators:,} navigators)",
            "rows": overdue,
            "made": first.made,
            "seconds": first_s,
            "queries": first_q,
            "ratio": first_s / raw,
        },
        {
            "job": "overdue digest",
            "what": "job, same day again (nothing new)",
            "rows": overdue,
            "made": again.made,
            "seconds": again_s,
            "queries": again_q,
            "ratio": again_s / raw,
        },
    ]


def table(rows: list[dict]) -> str:
    lines = [
        "| job | run | rows read | notifications made | time (ms) | queries | "
        "vs raw selection + enqueue |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        made = "-" if row["made"] is None else f"{row['made']:,}"
        lines.append(
            f"| {row['job']} | {row['what']} | {row['rows']:,} | {made} | "
            f"{row['seconds'] * 1000:,.0f} | {row['queries']:,} | {row['ratio']:.1f}x |"
        )
    return "\n".join(lines)
