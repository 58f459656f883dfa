import pytest
from django.urls import reverse

from mdtcare.notifications.models import Notification
from mdtcare.notifications.services import notifications_raise
from tests.factories import PatientFactory


@pytest.fixture
def patient(practice_a):
    return PatientFactory(
        practice=practice_a, given_name="Marigold", family_name="Pemberton-Smythe"
    )


@pytest.fixture
def raise_for(django_capture_on_commit_callbacks):
    """Raise a notification and return its rows, without queueing their
    delivery (the tests deliver by calling the task)."""

    def _raise(*, recipients, kind="referral_received", event_id="e1", patient=None, **extra):
        with django_capture_on_commit_callbacks(execute=False):
            notifications_raise(
                kind=kind,
                event_id=event_id,
                recipients=recipients,
                patient_id=patient.pk if patient else None,
                link=reverse("patients:detail", args=[patient.pk]) if patient else "",
                **extra,
            )
        return list(Notification.objects.filter(kind=kind, event_id=event_id).order_by("pk"))

    return _raise


@pytest.fixture(autouse=True)
def _eager_retries_run_at_once():
    """A task run here (``task.apply()``) retries at once, as many times as
    the worker would; its errors still come out of ``.get()``. (With eager
    errors propagating, as the test settings have them, a retry would come
    out as an error instead.)"""
    from mdtcare.celery import app

    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = saved
