"""Each action keeps its person's network (their practice's), so that a
network's worklist is read from the actions' own indexes (see
``Action.network``). Added empty, filled from the people in one UPDATE, then
required and indexed (0006: apart, as PostgreSQL will not alter a table
with the checks of the rows just changed still pending)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Action = apps.get_model("meetings", "Action")
    Patient = apps.get_model("patients", "Patient")
    Action.objects.update(
        network_id=Subquery(
            Patient.objects.filter(pk=OuterRef("patient_id")).values("practice__network_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("meetings", "0004_action_created_index"),
        ("patients", "0007_hospital_activity_import"),
    ]

    operations = [
        migrations.AddField(
            model_name="action",
            name="network",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.network",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
