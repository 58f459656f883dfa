"""An action assigned in a request, delivered by a separate Celery worker
process (``celery -A mdtcare worker``, as deployed) over the real Redis,
reading the test database through PostgreSQL. Runs when REDIS_URL is set
and the database is PostgreSQL; the thread-worker tests beside it cover
retries, the sweep and failures."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mdtcare.notifications.models import EmailStatus, Notification
from meetings.models import Action
from tests.factories import PatientFactory
from tests.workers import wait_for, worker_process_running

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_process(tmp_path):
    log = tmp_path / "worker.log"
    # The worker prints each e-mail it sends: the test reads its log.
    with worker_process_running(log, EMAIL_URL="consolemail://") as worker:
        yield worker, log


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
    sent = wait_for(
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
