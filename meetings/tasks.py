"""Meeting and action background jobs. Thin: each calls one service.

``acks_late`` with ``reject_on_worker_lost`` comes from the settings
(CELERY_TASK_ACKS_LATE): a job lost with its worker runs again, which is
safe because each job is idempotent by construction (see meetings.reminders).
"""

from celery import shared_task
from django.db import OperationalError

from meetings import reminders

# A database that is briefly away is tried again, three times at most; the
# limits stay well inside the broker's visibility timeout (an hour).
_DAILY = {
    "autoretry_for": (OperationalError,),
    "max_retries": 3,
    "retry_backoff": 60,
    "retry_backoff_max": 600,
    "soft_time_limit": 5 * 60,
    "time_limit": 6 * 60,
}


@shared_task(name="meetings.overdue_digests", **_DAILY)
def overdue_digests() -> dict:
    """Raise today's overdue-action digests (daily, from beat)."""
    run = reminders.overdue_digests_raise()
    return {"owners": run.owners, "navigators": run.navigators, "made": run.made}


@shared_task(name="meetings.meeting_reminders", **_DAILY)
def meeting_reminders() -> int:
    """Remind the invited members of tomorrow's meetings (daily, from beat)."""
    return reminders.meeting_reminders_raise()
