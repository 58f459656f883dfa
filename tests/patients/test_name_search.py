"""The search by name: part of a name, in any case, on the register and the
API; and, on PostgreSQL, that the trigram indexes of migration patients 0008
serve exactly the condition the search writes (so it never reads every
patient of the user's networks)."""

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from patients.models import Patient
from patients.selectors import patient_search_filter, register_rows
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TRIGRAM_INDEXES = {"patients_patient_family_trgm", "patients_patient_given_trgm"}


@pytest.fixture
def people(practice_a):
    return {
        name: PatientFactory(practice=practice_a, family_name=family, given_name=given)
        for name, family, given in [
            ("thorpe", "Thorpe", "Agnes"),
            ("northorpe", "Northorpe-Smith", "Bill"),
            ("mcthor", "McTHORNE", "Cara"),
            ("given", "Okafor", "Thora"),
            ("other", "Jones", "Mary"),
        ]
    }


def _register(client, user, q) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("patients:list"), {"q": q})
    assert response.status_code == 200
    return {row.patient.family_name for row in response.context["rows"]}


def test_a_part_of_a_name_finds_it_anywhere_in_the_name_in_any_case(client, matron, people):
    found = {"Thorpe", "Northorpe-Smith", "McTHORNE", "Okafor"}

    assert _register(client, matron, "thor") == found
    assert _register(client, matron, "THOR") == found
    assert _register(client, matron, "tHoRp") == {"Thorpe", "Northorpe-Smith"}
    # The middle and the end of a name, and a given name.
    assert _register(client, matron, "orpe-sm") == {"Northorpe-Smith"}
    assert _register(client, matron, "gnes") == {"Thorpe"}


def test_every_word_must_match_the_family_or_the_given_name(client, matron, people):
    assert _register(client, matron, "thor agnes") == {"Thorpe"}
    assert _register(client, matron, "AGNES thorpe") == {"Thorpe"}
    assert _register(client, matron, "thora okaf") == {"Okafor"}
    assert _register(client, matron, "thorpe mary") == set()


def test_words_too_short_for_a_trigram_still_match(client, matron, people):
    # One or two letters have no trigram: answered without the index.
    assert _register(client, matron, "jo") == {"Jones"}
    assert _register(client, matron, "Y") == {"Jones"}
    assert _register(client, matron, "mc th") == {"McTHORNE"}


def test_a_name_search_finds_no_one_outside_the_users_networks(client, outsider, people):
    assert _register(client, outsider, "thor") == set()


def test_the_api_searches_names_the_same_way(matron, outsider, people):
    api = APIClient()

    def families(user, search):
        api.force_authenticate(user)
        response = api.get(reverse("patient-list"), {"search": search})
        assert response.status_code == 200
        return {row["family_name"] for row in response.json()["results"]}

    assert families(matron, "THOR") == {"Thorpe", "Northorpe-Smith", "McTHORNE", "Okafor"}
    assert families(matron, "thor agnes") == {"Thorpe"}
    assert families(outsider, "thor") == set()


# --- the indexes (PostgreSQL) ----------------------------------------------------------


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # The test database is tiny: make reading the table whole (or in
        # the order of an index) unattractive, so that the plan shows
        # whether an index can serve the condition itself.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")
    return plan


@pytest.mark.postgres
def test_the_trigram_indexes_exist_with_their_statistics():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'patients_patient'"
        )
        definitions = dict(cursor.fetchall())
    assert definitions.keys() >= TRIGRAM_INDEXES
    assert "gin_trgm_ops" in definitions["patients_patient_family_trgm"]
    assert "upper((family_name)::text)" in definitions["patients_patient_family_trgm"]
    assert "upper((given_name)::text)" in definitions["patients_patient_given_trgm"]


@pytest.mark.postgres
def test_a_name_search_is_served_by_the_trigram_indexes(people):
    plan = _plan(Patient.objects.filter(patient_search_filter("thorpe")))

    assert "patients_patient_family_trgm" in plan
    assert "patients_patient_given_trgm" in plan


@pytest.mark.postgres
def test_the_register_and_the_api_write_the_condition_the_indexes_serve(matron, people):
    """The planner uses an expression index only for that very expression:
    ``UPPER(name::text) LIKE UPPER(…)``, as ``icontains`` writes it."""
    register = str(register_rows(user=matron, search="Thorpe").query)
    plain = str(Patient.objects.filter(patient_search_filter("Thorpe")).query)

    for sql in (register, plain):
        assert 'UPPER("patients_patient"."family_name"::text) LIKE UPPER(' in sql
        assert 'UPPER("patients_patient"."given_name"::text) LIKE UPPER(' in sql
