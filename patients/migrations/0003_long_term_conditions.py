"""Load the curated long-term conditions (patients/data/long_term_conditions.csv)."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "long_term_conditions.csv"


def load(apps, schema_editor):
    LongTermCondition = apps.get_model("patients", "LongTermCondition")
    with DATA.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            LongTermCondition.objects.update_or_create(
                key=row["key"],
                defaults={
                    "name": row["name"],
                    "snomed_ct_id": row["snomed_ct_id"],
                    "snomed_term": row["snomed_fsn_or_term"],
                },
            )


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_register")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
