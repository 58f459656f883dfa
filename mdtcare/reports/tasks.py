"""Report export jobs. Thin: each calls one service in
``mdtcare.reports.background``, which makes them safe to run twice
(``acks_late`` with ``reject_on_worker_lost``: a task lost with its worker is
given to another, and a second run of a finished export does nothing)."""

from __future__ import annotations

from celery import shared_task

from mdtcare.reports import background

# Well inside the Redis broker's visibility timeout (an hour): a task still
# unacknowledged then would be handed to a second worker. A million rows
# take a few minutes; the soft limit fails the export with a message.
_LIMITS = {"soft_time_limit": 45 * 60, "time_limit": 50 * 60}


@shared_task(name="reports.export_run", acks_late=True, reject_on_worker_lost=True, **_LIMITS)
def export_run(export_id: str) -> str | None:
    """Write one queued export's file; returns the status it ended in (None:
    nothing to do, e.g. it was already written or has gone)."""
    return background.export_run(export_id=export_id)


@shared_task(
    name="reports.exports_expire",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=10 * 60,
    time_limit=11 * 60,
)
def exports_expire() -> dict:
    """Delete expired exports and their files, and tidy what lost workers or
    a broker outage left (hourly, from beat)."""
    run = background.exports_expire()
    return {
        "deleted": run.deleted,
        "failed": run.failed,
        "requeued": run.requeued,
        "stray_files": run.stray_files,
    }
