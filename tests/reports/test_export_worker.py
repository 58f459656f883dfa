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
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from mdtcare.audit.models import AccessEvent
from mdtcare.celery import app
from mdtcare.reports.models import ReportExport
from meetings.models import Action
from tests.factories import PatientFactory
from tests.reports.builders import utc

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
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
def worker_process(settings, export_folder, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a worker process reads the test database through a database server")
    database = connection.settings_dict
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mdtcare.settings",
        "SECRET_KEY": "worker-process-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # The worker writes where the web (this test) reads.
        "REPORT_EXPORT_DIR": str(export_folder),
    }
    with log.open("w") as output:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "mdtcare", "worker"),
                *("--pool", "solo", "--loglevel", "INFO"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker, log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _wait_for(condition, *, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def _ask_wait_and_download(client, chair, export_folder, log=None):
    client.force_login(chair)

    response = client.get("/reports/actions/export/", ASK)

    assert response.status_code == 302
    export = ReportExport.objects.get()
    assert response["Location"] == f"/reports/exports/{export.pk}/"
    finished = _wait_for(
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
