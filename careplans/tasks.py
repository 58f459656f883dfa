"""Care plan background jobs. Thin: each calls one service.

``acks_late`` with ``reject_on_worker_lost`` comes from the settings
(CELERY_TASK_ACKS_LATE): a job lost with its worker runs again, which is
safe because the job is idempotent by construction (see careplans.reminders).
"""

from celery import shared_task
from django.db import OperationalError

from careplans import reminders


@shared_task(
    name="careplans.review_reminders",
    # A database that is briefly away is tried again, three times at most.
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=60,
    retry_backoff_max=600,
    # Well inside the broker's visibility timeout (an hour): a job still
    # unacknowledged then would be handed to a second worker.
    soft_time_limit=10 * 60,
    time_limit=11 * 60,
)
def review_reminders() -> dict:
    """Raise today's care plan review reminders (daily, from beat)."""
    run = reminders.review_reminders_raise()
    return {"plans": run.plans, "batches": run.batches, "made": run.made}
