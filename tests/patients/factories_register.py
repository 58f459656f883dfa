"""Factories for the register list and the patient record tests: episodes and
their status changes, carers, conditions, consent and risk scores."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from faker import Faker

from patients.models import (
    Carer,
    Consent,
    EntryStatusChange,
    LongTermCondition,
    PatientCondition,
    RegisterEntry,
    RiskScore,
)
from tests.factories import PatientFactory, UserFactory


class RegisterEntryFactory(factory.django.DjangoModelFactory):
    """An episode; open (referred) unless told otherwise."""

    class Meta:
        model = RegisterEntry

    patient = factory.SubFactory(PatientFactory)
    status = RegisterEntry.Status.REFERRED
    source = RegisterEntry.Source.GP_PRACTICE
    referrer_name = "Dr Amara Obi (GP)"
    reason = "Two falls in a month and living alone."
    referred_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=10))


class EntryStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EntryStatusChange

    entry = factory.SubFactory(RegisterEntryFactory)
    from_status = RegisterEntry.Status.REFERRED
    to_status = RegisterEntry.Status.ACCEPTED
    by = factory.SubFactory(UserFactory)
    reason = ""


class CarerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carer

    patient = factory.SubFactory(PatientFactory)
    name = factory.LazyFunction(lambda: Faker("en_GB").name().replace("'", ""))
    relationship = "Daughter"
    phone = "07700 900123"


class PatientConditionFactory(factory.django.DjangoModelFactory):
    """A condition from the shipped list (loaded by a migration)."""

    class Meta:
        model = PatientCondition

    patient = factory.SubFactory(PatientFactory)
    condition = factory.Iterator(LongTermCondition.objects.order_by("key"))


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    topic = Consent.Topic.SHARE_INFORMATION
    decision = Consent.Decision.GIVEN
    decided_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=5))
    recorded_by = factory.SubFactory(UserFactory)


class RiskScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskScore

    patient = factory.SubFactory(PatientFactory)
    score = Decimal("62.5")
    scored_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
