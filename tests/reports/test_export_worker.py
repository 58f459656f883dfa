"""A large export asked for on the page is written by a real Celery worker
over Redis and downloaded by the user who asked: once with the worker in a
thread of this process (as tests/notifications/test_worker.py), once as a
separate ``celery -A mdtcare worker`` process reading the test database
through PostgreSQL (as tests/notifications/test_worker_process.py). Both
run when REDIS_URL is set and the database is one a worker can share."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection

from mdtcare.audit.models import AccessEvent
from mdtcare.celery import app
from mdtcare.reports.models import ReportExport
from meetings.models import Action
from tests.factories import PatientFactory
from tests.reports.builders import utc
from tests.workers import wait_for, worker_process_running

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ASK = {"from": "2026-04", "to": "2026-04", "network": "north", "format": "csv"}


@pytest.fixture
def export_folder(settings, tmp_path):
    settings.REPORT_EXPORT_DIR = tmp_path / "exports"
    settings.REPORT_EXPORT_INLINE_ROWS = 10  # more goes to the worker
    return settings.REPORT_EXPORT_DIR


@pytest.fixture
def actions(practice_a):
    """25 actions of North created in April 2026."""
    patient = PatientFactory(practice=practice_a)
    made = Action.objects.bulk_create(
        Action(patient=patient, what="Refer to falls clinic", due_on=dt.date(2026, 5, 1))
        for _ in range(25)
    )
    for day, action in enumerate(made):
        Action.objects.filter(pk=action.pk).update(created_at=utc(2026, 4, 1 + day, 9))
    return made


@pytest.fixture
def thread_worker(export_folder):
    from celery.contrib.testing.worker import start_worker

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        (":memory:", "file:memorydb")
    ):
        pytest.skip("a worker thread cannot share an in-memory SQLite database")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.fixture
def worker_process(export_folder, tmp_path):
    log = tmp_path / "worker.log"
    # The worker writes where the web (this test) reads.
    with worker_process_running(log, REPORT_EXPORT_DIR=str(export_folder)) as worker:
        yield worker, log


def _ask_wait_and_download(client, chair, export_folder, log=None):
    client.force_login(chair)

    response = client.get("/reports/actions/export/", ASK)

    assert response.status_code == 302
    export = ReportExport.objects.get()
    assert response["Location"] == f"/reports/exports/{export.pk}/"
    finished = wait_for(
        lambda: ReportExport.objects.filter(
            pk=export.pk, status__in=[ReportExport.Status.READY, ReportExport.Status.FAILED]
        ).exists()
    )
    assert finished, log.read_text()[-3000:] if log else "the worker did not finish"
    export.refresh_from_db()
    assert export.status == ReportExport.Status.READY, export.error
    assert (export.rows_done, export.rows_total) == (25, 25)
    assert [path.name for path in export_folder.iterdir()] == [export.file_name]

    page = client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert "Your file is ready" in page
    download = client.get(f"/reports/exports/{export.pk}/download/")
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert len(rows) == 26
    assert [row[3] for row in rows[1:4]] == ["2026-04-01", "2026-04-02", "2026-04-03"]
    assert "Refer to falls clinic" not in text
    assert [event.what for event in AccessEvent.objects.order_by("at")] == [
        "report.actions.export",
        "report.export.status",
        "report.export.download",
    ]


def test_a_large_export_is_written_by_a_worker_thread_and_downloaded(
    client, chair, actions, export_folder, thread_worker
):
    _ask_wait_and_download(client, chair, export_folder)


def test_a_large_export_is_written_by_a_worker_process_and_downloaded(
    client, chair, actions, export_folder, worker_process
):
    worker, log = worker_process
    _ask_wait_and_download(client, chair, export_folder, log)
    assert worker.poll() is None, "the worker process stopped"
