"""An action assigned in a request, delivered by a separate Celery worker
process (``celery -A mdtcare worker``, as deployed) over the real Redis,
reading the test database through PostgreSQL. Runs when REDIS_URL is set
and the database is PostgreSQL; the thread-worker tests beside it cover
retries, the sweep and failures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from mdtcare.notifications.models import EmailStatus, Notification
from meetings.models import Action
from tests.factories import PatientFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_process(settings, tmp_path):
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
        # The worker prints each e-mail it sends: the test reads its log.
        "EMAIL_URL": "consolemail://",
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


def test_an_action_assigned_in_a_request_is_emailed_once_by_the_worker_process(
    client, navigator, matron, practice_a, worker_process
):
    worker, log = worker_process
    action = Action.objects.create(
        patient=PatientFactory(practice=practice_a),
        what="Arrange a pendant alarm",
        owner_organisation=practice_a,
        due_on="2030-01-01",
        created_by=navigator,
    )
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:action_reassign", args=[action.pk]), {"owner": matron.pk}
    )

    assert response.status_code == 302
    notification = Notification.objects.get(kind="action_assigned")
    assert notification.recipient == matron
    sent = _wait_for(
        lambda: Notification.objects.filter(
            pk=notification.pk, email_status=EmailStatus.SENT
        ).exists()
    )
    assert sent, log.read_text()[-3000:]
    assert worker.poll() is None, "the worker process stopped"
    printed = log.read_text()
    assert printed.count(f"To: {matron.email}") == 1
    assert "Arrange a pendant alarm" not in printed
    assert Notification.objects.filter(kind="action_assigned").count() == 1
