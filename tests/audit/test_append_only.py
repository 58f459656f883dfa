"""The audit tables' one way to be emptied, the test suite's flush, is shut
in every database but a test one: a session of the application that sets
``mdtcare.audit_purge`` itself still cannot change or delete audit rows in
the real database (decision 0002, triggers.py)."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.mark.parametrize(
    ("purge", "database", "permitted"),
    [
        ("on", "test_mdtcare", True),  # the test suite's flush
        ("off", "test_mdtcare", False),
        ("", "test_mdtcare", False),
        ("on", "mdtcare", False),  # a real database, whatever the session sets
        ("on", "testmdtcare", False),
        ("on", "mdtcare_test_copy", False),
    ],
)
def test_only_a_flush_of_a_test_database_may_empty_the_audit_tables(purge, database, permitted):
    with connection.cursor() as cursor:
        cursor.cursor.execute("SELECT set_config('mdtcare.audit_purge', %s, false)", [purge])
        cursor.cursor.execute("SELECT mdtcare_audit_purge_permitted(%s)", [database])
        assert cursor.cursor.fetchone()[0] is permitted


def test_the_refusing_trigger_asks_the_rule_with_the_database_it_runs_in():
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'mdtcare_audit_refuse_change'")
        source = cursor.fetchone()[0]
    assert "mdtcare_audit_purge_permitted(current_database())" in source
