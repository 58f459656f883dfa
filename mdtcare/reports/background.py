"""Report exports too large to stream within a request: written to a file by
the Celery worker, with progress the user's page can show, kept for a day and
handed only to the user who asked.

A request goes through ``export_request``: one COUNT decides whether the
file streams now (up to ``REPORT_EXPORT_INLINE_ROWS`` rows) or a
``ReportExport`` is queued, its task sent when the transaction commits.
The worker calls ``export_run``, which claims the export with a conditional
UPDATE (so a task delivered twice, or to two workers, writes once), writes a
temporary file, renames it into place and only then marks the export ready;
a failure is recorded with a message and leaves no file. ``exports_expire``
(hourly, from beat) deletes what has expired and tidies what a lost worker
or broker left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from mdtcare.accounts.models import Network
from mdtcare.core.exports import csv_lines, xlsx_write
from mdtcare.reports.access import report_networks
from mdtcare.reports.detail import DETAIL_EXPORTS, DetailExport
from mdtcare.reports.models import ReportExport
from mdtcare.reports.months import Month, month_range

logger = logging.getLogger(__name__)

Status = ReportExport.Status

# The worker saves how far it has got every this many rows (one UPDATE).
PROGRESS_EVERY = 1000
# A running export whose worker has not saved progress for this long is
# taken to be lost (the worker died); another run may take it over, and the
# hourly job fails it. Progress is saved every second or so while it runs.
STALE_AFTER = dt.timedelta(minutes=10)
# A queued export still waiting this long is queued again by the hourly job
# (the broker was down when it was asked for); a duplicate message is harmless.
REQUEUE_AFTER = dt.timedelta(minutes=10)
ENQUEUE_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}

FAILED_MESSAGE = (
    "The file could not be written. Try again; if it fails again, tell your service "
    "admin the time it happened."
)
TOO_LONG_MESSAGE = "The file took too long to write. Try again with fewer months or networks."
LOST_MESSAGE = "The file was not finished: the server writing it stopped. Try again."
NOT_ALLOWED_MESSAGE = (
    "You no longer have a reporting role in all the networks of this export, so it was not written."
)


def export_dir() -> Path:
    return Path(settings.REPORT_EXPORT_DIR)


def export_path(export: ReportExport) -> Path:
    return export_dir() / export.file_name


def keep_for() -> dt.timedelta:
    return dt.timedelta(hours=settings.REPORT_EXPORT_KEEP_HOURS)


# --- asking for an export -----------------------------------------------------------------------


def export_params_parse(
    *, from_text: str | None, to_text: str | None, fmt: str | None
) -> tuple[Month, Month, str]:
    """The months and file format a request asks for, or one ValidationError
    naming every field that is wrong (``from``, ``to``, ``format``)."""
    errors: dict[str, list[str]] = {}
    fmt = (fmt or ReportExport.Format.CSV).strip().lower()
    if fmt not in ReportExport.Format.values:
        errors["format"] = [f"Choose the format csv or xlsx, not “{fmt}”"]
    try:
        first, last = month_range(from_text, to_text)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    return first, last, fmt


@dataclass(frozen=True)
class ExportDecision:
    """What ``export_request`` decided: stream ``detail`` now (``export`` is
    None), or the queued ``export``."""

    detail: DetailExport
    rows: int
    export: ReportExport | None = None

    @property
    def queued(self) -> bool:
        return self.export is not None


def export_request(
    *,
    by,
    kind: str,
    fmt: str,
    networks: Sequence[Network],
    first: Month,
    last: Month,
) -> ExportDecision:
    """Decide how an export the user may have (``networks`` already passed
    the report gate) is produced. With at most ``REPORT_EXPORT_INLINE_ROWS``
    rows (one COUNT), nothing is written: the caller streams the rows. Above
    that, a queued ``ReportExport`` is created, in the caller's transaction
    if there is one, and its task is sent only once that commits (a broker
    that is down then is logged; the hourly job queues it again)."""
    detail = DETAIL_EXPORTS[kind](networks, first, last)
    rows = detail.count()
    if rows <= settings.REPORT_EXPORT_INLINE_ROWS:
        return ExportDecision(detail=detail, rows=rows)
    now = timezone.now()
    with transaction.atomic():
        export = ReportExport.objects.create(
            requested_by=by,
            kind=kind,
            format=fmt,
            params={
                "from": str(first),
                "to": str(last),
                "network_ids": [str(network.pk) for network in networks],
                "network_codes": [network.code for network in networks],
                "network_names": [network.name for network in networks],
            },
            rows_total=rows,
            file_name=f"{secrets.token_hex(16)}.{fmt}",
            expires_at=now + keep_for(),
        )
        transaction.on_commit(partial(export_enqueue, export_id=export.pk), robust=True)
    return ExportDecision(detail=detail, rows=rows, export=export)


def export_enqueue(*, export_id) -> bool:
    """Send the export's task. A broker that cannot be reached is logged,
    not raised: the export stays queued and the hourly job sends it again."""
    from mdtcare.reports.tasks import export_run as export_run_task

    try:
        export_run_task.apply_async(args=[str(export_id)], retry_policy=ENQUEUE_RETRY_POLICY)
    except (BrokerError, OSError):
        logger.warning("Could not queue report export %s; the hourly job will", export_id)
        return False
    return True


# --- writing it (on the worker) -----------------------------------------------------------------


class _Refused(Exception):
    """The export may no longer be written; the message says why."""


def _write(detail: DetailExport, fmt: str, target: Path, *, report: Callable[[int], None]) -> int:
    """Write every row to ``target``, calling ``report(rows written)`` every
    ``PROGRESS_EVERY`` rows; returns how many rows were written."""
    written = 0
    failure: Exception | None = None

    def rows() -> Iterator[list]:
        nonlocal written, failure
        try:
            for row in detail.rows():
                written += 1
                yield row
                # Back here when the writer asks for the next row: this one is written.
                if written % PROGRESS_EVERY == 0:
                    report(written)
        except Exception as exc:
            # Raised again once the writer has closed its file: openpyxl's
            # write-only sheet, left open by an exception, complains later.
            failure = exc

    if fmt == ReportExport.Format.XLSX:
        xlsx_write(str(target), [(detail.title, detail.header, rows())])
    else:
        with target.open("w", encoding="utf-8", newline="") as file:
            file.writelines(csv_lines(detail.header, rows()))
    if failure is not None:
        raise failure
    return written


def _allowed_networks(export: ReportExport) -> list[Network]:
    """The export's networks, if its user may still report on every one."""
    allowed = {str(network.pk): network for network in report_networks(user=export.requested_by)}
    wanted = export.params.get("network_ids", [])
    if not wanted or any(network_id not in allowed for network_id in wanted):
        raise _Refused(NOT_ALLOWED_MESSAGE)
    return [allowed[network_id] for network_id in wanted]


def export_run(*, export_id) -> str | None:
    """Write the export's file; returns the status it ended in, or None when
    there was nothing to do.

    Guarantees: an export is written by one run at a time and never again
    once ready or failed (it is claimed with one conditional UPDATE from
    queued, or from running when the run that had it saved no progress for
    ``STALE_AFTER``); ``rows_done`` is saved every ``PROGRESS_EVERY`` rows
    with a single UPDATE; the file is complete under its final name before
    the export says ready; a failure is recorded with a message for the
    user and leaves no file, whole or half."""
    claimed_at = timezone.now()
    claimed = (
        ReportExport.objects.filter(pk=export_id, expires_at__gt=claimed_at)
        .filter(
            Q(status=Status.QUEUED)
            | Q(status=Status.RUNNING, updated_at__lt=claimed_at - STALE_AFTER)
        )
        .update(
            status=Status.RUNNING,
            started_at=claimed_at,
            updated_at=claimed_at,
            rows_done=0,
            error="",
        )
    )
    if claimed != 1:
        return None  # gone, already finished, or another run has it
    export = ReportExport.objects.select_related("requested_by").get(pk=export_id)
    # Every later write names this run (started_at): a run that was taken
    # over as lost cannot change the export afterwards.
    this_run = ReportExport.objects.filter(
        pk=export_id, status=Status.RUNNING, started_at=claimed_at
    )

    def report(count: int) -> None:
        this_run.update(rows_done=count, updated_at=timezone.now())

    folder = export_dir()
    final = folder / export.file_name
    part = folder / f"{export.file_name}.{secrets.token_hex(4)}.part"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        networks = _allowed_networks(export)
        detail = DETAIL_EXPORTS[export.kind](
            networks, Month.parse(export.params["from"]), Month.parse(export.params["to"])
        )
        written = _write(detail, export.format, part, report=report)
        os.replace(part, final)
    except Exception as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, _Refused):
            message = str(exc)
            logger.warning("Report export %s refused: %s", export_id, message)
        elif isinstance(exc, SoftTimeLimitExceeded):
            message = TOO_LONG_MESSAGE
            logger.warning("Report export %s took too long", export_id)
        else:
            message = FAILED_MESSAGE
            logger.exception("Report export %s failed", export_id)
        this_run.update(status=Status.FAILED, error=message, finished_at=timezone.now())
        return Status.FAILED
    finished_at = timezone.now()
    marked = this_run.update(
        status=Status.READY,
        rows_done=written,
        rows_total=written,
        finished_at=finished_at,
        updated_at=finished_at,
        expires_at=finished_at + keep_for(),
    )
    if not marked and not ReportExport.objects.filter(pk=export_id).exists():
        final.unlink(missing_ok=True)  # it expired and was deleted while being written
        return None
    return Status.READY if marked else None


# --- reading it ---------------------------------------------------------------------------------


def export_download_name(export: ReportExport) -> str:
    """The name the browser saves the file as (not its name on disk)."""
    return f"{export.kind}-{export.params['from']}-to-{export.params['to']}.{export.format}"


def export_network_ids(export: ReportExport) -> set[uuid.UUID]:
    return {uuid.UUID(network_id) for network_id in export.params.get("network_ids", [])}


def export_is_expired(export: ReportExport, *, now: dt.datetime | None = None) -> bool:
    return export.expires_at <= (now or timezone.now())


def exports_of(*, user):
    """The user's own exports not yet expired, newest first."""
    return ReportExport.objects.filter(
        requested_by_id=user.pk, expires_at__gt=timezone.now()
    ).order_by("-created_at")


def export_get_for_user(*, user, export_id) -> ReportExport | None:
    """The export, if ``user`` asked for it and may still report on all its
    networks; None otherwise (the caller answers 404: no one else learns
    that it exists, an admin of the same network included)."""
    export = ReportExport.objects.filter(pk=export_id, requested_by_id=user.pk).first()
    if export is None:
        return None
    try:
        _allowed_networks(export)
    except _Refused:
        return None
    return export


# --- housekeeping (hourly) ----------------------------------------------------------------------


@dataclass
class Housekeeping:
    deleted: int = 0
    failed: int = 0
    requeued: int = 0
    stray_files: int = 0


def exports_expire(*, now: dt.datetime | None = None, batch_size: int = 500) -> Housekeeping:
    """Delete exports past ``expires_at``, their files first; fail running
    exports whose worker was lost; queue again those the broker never
    delivered; delete files no export names (left by a worker killed while
    writing). Safe to run twice or at once on two workers."""
    now = now or timezone.now()
    run = Housekeeping()
    folder = export_dir()
    while True:
        batch = list(
            ReportExport.objects.filter(expires_at__lte=now).values_list("pk", "file_name")[
                :batch_size
            ]
        )
        if not batch:
            break
        for _, file_name in batch:
            (folder / file_name).unlink(missing_ok=True)
        run.deleted += ReportExport.objects.filter(pk__in=[pk for pk, _ in batch]).delete()[0]
    run.failed = ReportExport.objects.filter(
        status=Status.RUNNING, updated_at__lt=now - STALE_AFTER
    ).update(status=Status.FAILED, error=LOST_MESSAGE, finished_at=now, updated_at=now)
    waiting = list(
        ReportExport.objects.filter(
            status=Status.QUEUED, created_at__lt=now - REQUEUE_AFTER
        ).values_list("pk", flat=True)
    )
    run.requeued = sum(export_enqueue(export_id=pk) for pk in waiting)
    run.stray_files = _stray_files_delete(folder, now=now)
    return run


def _stray_files_delete(folder: Path, *, now: dt.datetime) -> int:
    """Files in the export folder that no export names and that nobody can
    still be writing (older than STALE_AFTER): half files of a killed worker,
    or files whose row went another way."""
    if not folder.is_dir():
        return 0
    named = set(ReportExport.objects.values_list("file_name", flat=True))
    cutoff = (now - STALE_AFTER).timestamp()
    deleted = 0
    for path in folder.iterdir():
        if not path.is_file() or path.name in named:
            continue
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
