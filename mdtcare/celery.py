"""The Celery application: configured from Django settings (CELERY_*)."""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdtcare.settings")


class AuditedTask(Task):
    """Runs every task inside an audit context naming the task, so changes it
    makes are attributed to it in the change history."""

    def __call__(self, *args, **kwargs):
        from mdtcare.audit.context import audit_context

        with audit_context(source=f"task:{self.name}"):
            return super().__call__(*args, **kwargs)


app = Celery("mdtcare", task_cls=AuditedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
