"""Trigram indexes for the search by name (PostgreSQL only).

``patient_search_filter`` matches each word anywhere in the family or given
name, case-insensitively: Django writes ``name__icontains`` on PostgreSQL as
``UPPER("family_name"::text) LIKE UPPER('%word%')``, which no B-tree index
can serve, so every search read every patient of the user's networks. A GIN
index of the trigrams of exactly that expression (``UPPER(name)``) serves it:
PostgreSQL combines the two names' indexes with a BitmapOr and reads only the
people whose names contain the word's trigrams (a word of one or two
letters has none, and is still answered, by the other plans).

The indexes are built ``CONCURRENTLY`` (so the migration is not atomic): the
register stays writable while they build (a few seconds at 250,000 people).
Other databases (SQLite in the tests) have no trigram indexes and keep the
plain ``LIKE``; nothing is created there, and the model state is unchanged
(these indexes are not in ``Patient.Meta``: they are expressions of the
database's own search, not of the model).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "patients_patient_family_trgm": "family_name",
    "patients_patient_given_trgm": "given_name",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        # A concurrent build that failed leaves an invalid index behind:
        # start again rather than keep it.
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY {name} ON patients_patient "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )
        # A finer sample of the names than the default (100): with it the
        # planner's estimate of how many names match a word is close enough to
        # choose one trigram scan over reading every patient of each practice
        # (at 250,000 people "Thorpe": 2,465 estimated with 100, 524 with
        # 1,000, 524 true; 25 ms and 1.4 ms).
        schema_editor.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS 1000")
    # The statistics of an expression index come only with ANALYZE: until
    # then the planner guesses how many names match, and may not use it.
    schema_editor.execute("ANALYZE patients_patient")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("patients", "0007_hospital_activity_import"),
    ]

    operations = [
        # CREATE EXTENSION IF NOT EXISTS pg_trgm (a trusted extension from
        # PostgreSQL 13); a no-op on other databases.
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
