"""Every change to an audited table is recorded with who, when, before and
after, whatever makes it; the audit tables are append-only."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from mdtcare.audit.context import audit_context
from mdtcare.audit.models import AccessEvent, ChangeEvent
from mdtcare.audit.selectors import change_history
from mdtcare.audit.services import access_record
from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _history(patient):
    return list(change_history(instance=patient))


def test_creating_a_patient_is_recorded_with_the_actor(matron, practice_a):
    with audit_context(actor=matron, source="web", request_id="req-123456"):
        patient = PatientFactory(practice=practice_a, family_name="Okafor")

    [created] = _history(patient)
    assert created.operation == "insert"
    assert created.before is None
    assert created.after["family_name"] == "Okafor"
    assert created.actor == matron
    assert created.source == "web"
    assert created.request_id == "req-123456"


def test_queryset_update_is_recorded_with_before_and_after(matron, practice_a):
    patient = PatientFactory(practice=practice_a, postcode="LS1 4AP")

    with audit_context(actor=matron, source="web"):
        Patient.objects.filter(pk=patient.pk).update(postcode="LS2 9JT")

    update = _history(patient)[-1]
    assert update.operation == "update"
    assert update.before == {"postcode": "LS1 4AP"}
    assert update.after == {"postcode": "LS2 9JT"}
    assert update.actor == matron


def test_bulk_update_of_many_rows_records_each_row(practice_a):
    patients = PatientFactory.create_batch(3, practice=practice_a, postcode="LS1 4AP")

    with audit_context(source="command:fix_postcodes"):
        Patient.objects.filter(practice=practice_a).update(postcode="LS6 1AN")

    for patient in patients:
        update = _history(patient)[-1]
        assert (update.before, update.after) == ({"postcode": "LS1 4AP"}, {"postcode": "LS6 1AN"})
        assert update.source == "command:fix_postcodes"
        assert update.actor is None


def test_raw_sql_change_is_recorded(practice_a):
    patient = PatientFactory(practice=practice_a, given_name="Mary")

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_patient SET given_name = %s WHERE id = %s",
            ["Marie", patient.pk.hex if connection.vendor == "sqlite" else patient.pk],
        )

    update = _history(patient)[-1]
    assert update.after == {"given_name": "Marie"}
    assert update.source is None


def test_data_migration_change_is_recorded(practice_a):
    """A data migration uses historical models; the trigger sees it too."""
    patient = PatientFactory(practice=practice_a, family_name="Smith")
    state = MigrationExecutor(connection).loader.project_state(("patients", "0001_initial"))
    HistoricalPatient = state.apps.get_model("patients", "Patient")

    with audit_context(source="command:migrate"):
        HistoricalPatient.objects.filter(pk=patient.pk).update(family_name="Smyth")

    update = _history(patient)[-1]
    assert update.before == {"family_name": "Smith"}
    assert update.source == "command:migrate"


def test_an_update_that_changes_nothing_records_nothing(practice_a):
    patient = PatientFactory(practice=practice_a)
    before = len(_history(patient))

    Patient.objects.filter(pk=patient.pk).update(postcode=patient.postcode)

    assert len(_history(patient)) == before


def test_deleting_is_recorded_with_the_old_row(practice_a):
    patient = PatientFactory(practice=practice_a, family_name="Gone")
    pk = patient.pk

    Patient.objects.filter(pk=pk).delete()

    deleted = ChangeEvent.objects.filter(operation="delete", table_name="patients_patient").get()
    assert deleted.before["family_name"] == "Gone"
    assert deleted.after is None


def test_a_password_change_is_recorded_without_the_hash(matron):
    matron.set_password("a-new-long-password")
    matron.save()

    update = list(change_history(instance=matron))[-1]
    assert update.before["password"] == "[redacted]"
    assert update.after["password"] == "[redacted]"


def test_the_application_cannot_edit_or_delete_audit_rows(practice_a):
    PatientFactory(practice=practice_a)

    with pytest.raises(PermissionError):
        ChangeEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        ChangeEvent.objects.all().update(source="tampered")
    with pytest.raises(PermissionError):
        AccessEvent.objects.all().delete()


# Each append-only table, and an UPDATE of one of its columns. Named here,
# not read from the code, so that a table dropped from the triggers fails.
AUDIT_TABLE_UPDATES = {
    "audit_changeevent": "UPDATE audit_changeevent SET source = 'tampered'",
    "audit_accessevent": "UPDATE audit_accessevent SET what = 'tampered'",
    "audit_accesseventpatient": "UPDATE audit_accesseventpatient SET patient_id = patient_id",
}


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (a name from the table above)
        return cursor.fetchone()[0]


@pytest.fixture
def audit_rows(rf, matron, practice_a) -> dict[str, int]:
    """Rows in each audit table (a change, and an access event naming a
    patient): a row trigger fires only for a row. Table -> how many."""
    with audit_context(actor=matron, source="web"):
        patient = PatientFactory(practice=practice_a)
    request = rf.get("/patients/")
    request.user = matron
    request.request_id = "req-append-only"
    access_record(request=request, what="patient.view", patient_ids=[patient.pk])
    return {table: _count(table) for table in AUDIT_TABLE_UPDATES}


def _refused(table: str, statement: str, *, before: str = "") -> None:
    """Run ``statement`` (after ``before``) through the application's own
    connection: the database must refuse it, naming ``table`` append-only."""
    with (
        pytest.raises(DatabaseError, match=f"audit table {table} is append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        if before:
            cursor.execute(before)
        cursor.execute(statement)


@pytest.mark.parametrize("table", sorted(AUDIT_TABLE_UPDATES))
@pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
def test_the_database_refuses_delete_and_update_on_audit_tables(audit_rows, table, verb):
    assert audit_rows[table] > 0

    delete = f"DELETE FROM {table}"  # noqa: S608 (a name from the table above)
    _refused(table, AUDIT_TABLE_UPDATES[table] if verb == "UPDATE" else delete)

    assert _count(table) == audit_rows[table]
    assert not AccessEvent.objects.filter(what="tampered").exists()
    assert not ChangeEvent.objects.filter(source="tampered").exists()


@pytest.mark.postgres
@pytest.mark.parametrize("table", sorted(AUDIT_TABLE_UPDATES))
def test_postgres_refuses_truncate_on_audit_tables(audit_rows, table):
    # As if the rows were committed: the test's transaction still holds
    # their deferred foreign-key checks, and PostgreSQL will not truncate a
    # table with checks pending. CASCADE: without it, the foreign key of
    # audit_accesseventpatient alone would refuse to empty audit_accessevent,
    # before its trigger is asked (which, named first, answers first).
    _refused(table, f"TRUNCATE {table} CASCADE", before="SET CONSTRAINTS ALL IMMEDIATE")

    assert {name: _count(name) for name in AUDIT_TABLE_UPDATES} == audit_rows
