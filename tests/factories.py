"""factory_boy factories for tests (and nothing else)."""

import datetime as dt
import itertools

import factory
from faker import Faker

from mdtcare.accounts.models import Membership, Network, Organisation, Profession, User
from mdtcare.core import nhs_number
from patients.models import Patient

_nhs_numbers = nhs_number.test_range_numbers(start=500_000)
_fake = Faker("en_GB")


def _plain(make):
    """A Faker name without apostrophes: tests compare names with pages,
    where templates escape "O'Neill" as "O&#x27;Neill"."""
    return factory.LazyFunction(lambda: make().replace("'", ""))


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"Network {n}")
    code = factory.Sequence(lambda n: f"network-{n}")


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Practice {n}")
    type = Organisation.Type.GP_PRACTICE
    ods_code = factory.Sequence(lambda n: f"T{n:05d}")
    network = factory.SubFactory(NetworkFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.nhs.uk")
    first_name = _plain(_fake.first_name)
    last_name = _plain(_fake.last_name)
    profession = Profession.COMMUNITY_MATRON
    password = factory.django.Password("correct-horse-battery")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    network = factory.SubFactory(NetworkFactory)
    role = Membership.Role.MEMBER


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    nhs_number = factory.LazyFunction(lambda: next(_nhs_numbers))
    given_name = _plain(_fake.first_name)
    family_name = _plain(_fake.last_name)
    # Spread over 1930-1989 however many patients a test run makes.
    date_of_birth = factory.Sequence(
        lambda n: dt.date(1930, 1, 1) + dt.timedelta(days=(97 * n) % (60 * 365))
    )
    sex = factory.Iterator(itertools.cycle([Patient.Sex.FEMALE, Patient.Sex.MALE]))
    postcode = "LS1 4AP"
    practice = factory.SubFactory(PracticeFactory)


class HospitalActivityFactory(factory.django.DjangoModelFactory):
    """One person's month of hospital use; no activity unless a test says so."""

    class Meta:
        model = "patients.HospitalActivity"

    patient = factory.SubFactory(PatientFactory)
    month = dt.date(2026, 1, 1)
    ae_attendances = 0
    non_elective_admissions = 0
    elective_admissions = 0
    outpatient_attendances = 0
    bed_days = 0
