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


# What decision 0002 advises where the application's own role must not be
# able to touch the audit either: the tables owned by the role that runs the
# migrations, the application's role granted only this on them.
APPLICATION_GRANTS = """
CREATE ROLE mdtcare_application_probe NOLOGIN;
GRANT USAGE ON SCHEMA public TO mdtcare_application_probe;
GRANT SELECT, INSERT ON audit_changeevent, audit_accessevent, audit_accesseventpatient
    TO mdtcare_application_probe;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO mdtcare_application_probe;
"""


def _as_application(cursor, statement: str) -> str:
    """Run ``statement`` as the application's role, in a savepoint; the
    error it raises, or "" when it is allowed."""
    cursor.execute("SAVEPOINT probe")
    try:
        cursor.execute("SET LOCAL ROLE mdtcare_application_probe")
        cursor.execute(statement)
    except Exception as exc:  # the database's refusal, whatever its class
        cursor.execute("ROLLBACK TO SAVEPOINT probe")
        return str(exc)
    cursor.execute("RESET ROLE")
    cursor.execute("RELEASE SAVEPOINT probe")
    return ""


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE audit_changeevent SET source = 'tampered'", "permission denied"),
        ("DELETE FROM audit_accessevent", "permission denied"),
        ("TRUNCATE audit_accesseventpatient", "permission denied"),
        ("DROP TRIGGER mdtcare_append_only ON audit_changeevent", "must be owner"),
        ("ALTER TABLE audit_changeevent DISABLE TRIGGER ALL", "must be owner"),
    ],
)
def test_an_application_role_that_does_not_own_the_tables_cannot_change_or_unhook_them(
    statement, refusal
):
    """The roles are made inside the test's transaction, which is rolled back."""
    raw = connection.cursor().cursor  # past the audit context wrapper
    raw.execute(APPLICATION_GRANTS)

    assert refusal in _as_application(raw, statement)
    # It still writes the audit (the change triggers run as the writer).
    assert _as_application(raw, "SELECT COUNT(*) FROM audit_changeevent") == ""
    assert (
        _as_application(
            raw,
            "INSERT INTO audit_changeevent (at, table_name, row_id, operation)"
            " VALUES (now(), 'probe', '1', 'insert')",
        )
        == ""
    )
