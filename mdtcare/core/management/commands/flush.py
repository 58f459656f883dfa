"""Django's ``flush``, allowed to empty the append-only audit tables.

Only the test suite flushes a database (between transactional tests); the
audit triggers let that through for this command alone."""

from django.core.management.commands.flush import Command as FlushCommand

from mdtcare.audit.context import audit_purge_allowed


class Command(FlushCommand):
    def handle(self, **options):
        with audit_purge_allowed():
            return super().handle(**options)
