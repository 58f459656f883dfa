"""Every action has its network now (0005): required, and indexed for the
worklists."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0005_action_network"),
    ]

    operations = [
        migrations.AlterField(
            model_name="action",
            name="network",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.network",
            ),
        ),
        migrations.AddIndex(
            model_name="action",
            index=models.Index(
                fields=["network", "status", "due_on"], name="meetings_action_network_due"
            ),
        ),
        migrations.AddIndex(
            model_name="action",
            index=models.Index(
                fields=["network", "status", "completed_at"], name="meetings_action_network_done"
            ),
        ),
    ]
