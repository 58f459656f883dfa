"""The demo data set: realistic, synthetic, idempotent, demo mode only."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from mdtcare.accounts.models import Membership, Organisation, Profession, User
from mdtcare.core import demo, nhs_number
from patients.models import EntryStatus, Patient, RegisterEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    demo.demo_data_load(today=dt.date(2026, 3, 1))


def test_loading_twice_changes_nothing_the_second_time(loaded):
    counts = (User.objects.count(), Patient.objects.count(), RegisterEntry.objects.count())

    made = demo.demo_data_load(today=dt.date(2026, 3, 1))

    assert made == {"networks": 0, "organisations": 0, "users": 0, "patients": 0}
    assert counts == (
        User.objects.count(),
        Patient.objects.count(),
        RegisterEntry.objects.count(),
    )


def test_it_is_refused_outside_demo_mode(settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="MDTCARE_DEMO=true"):
        call_command("load_demo_data")
    assert not User.objects.exists()


def test_the_demo_logins_have_their_roles(loaded):
    roles = {
        m.user.username: (m.network.name, m.role)
        for m in Membership.objects.select_related("user", "network").filter(
            user__username__in=demo.DEMO_LOGINS
        )
    }

    assert roles == {
        "matron": ("North", "matron"),
        "chair": ("North", "gp_chair"),
        "navigator": ("North", "navigator"),
        "admin": ("North", "admin"),
        "outsider": ("South", "member"),
    }
    assert User.objects.get(username="matron").check_password(demo.DEMO_PASSWORD)


def test_every_profession_and_eight_practices(loaded):
    assert set(User.objects.values_list("profession", flat=True)) == set(Profession.values)
    practices = Organisation.objects.filter(type=Organisation.Type.GP_PRACTICE)
    assert practices.count() == 8
    assert {p.network.name for p in practices} == {"North", "South"}


def test_people_are_synthetic_and_plausible(loaded):
    today = dt.date(2026, 3, 1)
    people = list(Patient.objects.all())

    assert len(people) == 200
    for person in people:
        assert person.nhs_number.startswith("999")
        assert nhs_number.is_valid(person.nhs_number)
        age = (today - person.date_of_birth).days / 365.25
        assert 65 <= age <= 100.5


def test_episodes_in_every_status_and_a_few_highest_risk(loaded):
    statuses = set(RegisterEntry.objects.values_list("status", flat=True))
    high_risk = Patient.objects.filter(risk_score__gte=80).count()

    assert statuses == set(EntryStatus.values)
    assert 2 <= high_risk <= 8  # about the top 2%
    mary = Patient.objects.get(given_name="Mary", family_name="Okafor")
    assert set(mary.conditions.values_list("condition_id", flat=True)) == {
        "copd",
        "heart_failure",
        "osteoarthritis",
    }
    assert mary.entries.get().status == "active"
