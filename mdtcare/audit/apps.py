from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "mdtcare.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self):
        # Framework hooks, not business logic: connect the database to the
        # audit context, and (re)install change triggers after migrations.
        connection_created.connect(_on_connection_created, dispatch_uid="mdtcare_audit_conn")
        post_migrate.connect(_on_post_migrate, sender=self, dispatch_uid="mdtcare_audit_migrate")


def _on_connection_created(sender, connection, **kwargs):
    from mdtcare.audit import triggers

    if connection.vendor == "sqlite":
        triggers.sqlite_register_functions(connection.connection)
    elif (
        connection.vendor == "postgresql"
        and triggers.pg_context_wrapper not in connection.execute_wrappers
    ):
        connection.execute_wrappers.append(triggers.pg_context_wrapper)


def _on_post_migrate(sender, using="default", **kwargs):
    from django.db import connections

    from mdtcare.audit import triggers

    triggers.install_change_triggers(connections[using])
