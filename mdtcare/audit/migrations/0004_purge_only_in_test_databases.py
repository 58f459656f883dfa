"""The audit tables refuse UPDATE, DELETE and TRUNCATE in every database
but a test one, whatever a session sets (triggers.py)."""

from django.db import migrations

from mdtcare.audit import triggers


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(triggers.PG_FUNCTIONS)  # CREATE OR REPLACE: the new rule


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_emergency_access")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
