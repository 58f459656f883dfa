"""Every change to an audited table is recorded with who, when, before and
after, whatever makes it; the audit tables are append-only."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from mdtcare.audit.context import audit_context
from mdtcare.audit.models import AccessEvent, ChangeEvent
from mdtcare.audit.selectors import change_history
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


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM audit_changeevent",
        "UPDATE audit_changeevent SET source = 'tampered'",
    ],
)
def test_the_database_refuses_delete_and_update_on_audit_tables(practice_a, statement):
    PatientFactory(practice=practice_a)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert ChangeEvent.objects.exists()


@pytest.mark.postgres
def test_postgres_refuses_truncate_on_audit_tables(practice_a):
    PatientFactory(practice=practice_a)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_changeevent")

    assert ChangeEvent.objects.exists()
