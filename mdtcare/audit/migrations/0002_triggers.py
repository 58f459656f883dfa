"""The PostgreSQL trigger functions, and the append-only triggers on the
audit tables. (SQLite's triggers are made by ``install_change_triggers``
after every migration; see triggers.py.)"""

from django.db import migrations

from mdtcare.audit import triggers


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # No parameters: the functions contain '%' (RAISE's placeholders).
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(triggers.PG_FUNCTIONS)
        for table in triggers.APPEND_ONLY_TABLES:
            cursor.execute(triggers.pg_append_only_sql(table))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(triggers.PG_REVERSE_FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
