from celery import shared_task

from mdtcare.accounts import services


@shared_task(acks_late=True, max_retries=3, default_retry_delay=60)
def sessions_clear_expired() -> int:
    """Delete expired sessions (periodic)."""
    return services.sessions_clear_expired()
