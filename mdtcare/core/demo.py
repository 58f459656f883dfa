"""The demo data set, in one place: two networks, their practices and
partner organisations, practitioners of every profession, the five demo
log-ins and a register of synthetic people.

Everything is made up: names come from Faker (en_GB) with a fixed seed,
NHS numbers from the 999 test range with valid check digits. Loading is
idempotent: each row is found by its natural key before it is made.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from faker import Faker

from mdtcare.accounts.models import Membership, Network, Organisation, Profession, User
from mdtcare.core import nhs_number
from patients.models import Patient

DEMO_PASSWORD = "mdtcare-demo"  # noqa: S105 - the published demo password
SEED = 20260301
PATIENTS_PER_PRACTICE = 12

NETWORKS = [("North", "north"), ("South", "south")]

# Made-up ODS-style codes (letter and five digits) for eight practices.
PRACTICES = [
    ("Riverside Medical Centre", "Y90001", "north"),
    ("Hillview Surgery", "Y90002", "north"),
    ("Market Street Practice", "Y90003", "north"),
    ("Oakfield Health Centre", "Y90004", "north"),
    ("Harbour Lane Surgery", "Y90011", "south"),
    ("Meadowbank Practice", "Y90012", "south"),
    ("St Anne's Medical Group", "Y90013", "south"),
    ("Southgate Family Doctors", "Y90014", "south"),
]

PARTNERS = [
    ("Northshire Community Health NHS Trust", "ZC1", Organisation.Type.COMMUNITY_TRUST),
    ("Northshire County Council Adult Social Care", "ZL1", Organisation.Type.LOCAL_AUTHORITY),
    ("Northshire Mental Health NHS Trust", "ZM1", Organisation.Type.MENTAL_HEALTH_TRUST),
    ("Northshire General Hospital NHS Trust", "ZA1", Organisation.Type.ACUTE_TRUST),
    ("Northshire Age Well", None, Organisation.Type.VOLUNTARY_ORGANISATION),
]

# username, first, last, profession, organisation (ODS or name), network, role
DEMO_USERS = [
    ("matron", "Grace", "Adeyemi", Profession.COMMUNITY_MATRON, "ZC1", "north", "matron"),
    ("chair", "Anil", "Patel", Profession.GP, "Y90001", "north", "gp_chair"),
    ("navigator", "Sophie", "Clarke", Profession.CARE_NAVIGATOR, "ZC1", "north", "navigator"),
    ("admin", "Helen", "Marsh", Profession.SERVICE_ADMIN, "ZC1", "north", "admin"),
    ("outsider", "Tom", "Reid", Profession.SOCIAL_WORKER, "ZL1", "south", "member"),
]
DEMO_LOGINS = [username for username, *_ in DEMO_USERS]

# One practitioner of each remaining profession, members of North's MDT.
TEAM = [
    ("dnurse", Profession.DISTRICT_NURSE, "ZC1"),
    ("pnurse", Profession.PRACTICE_NURSE, "Y90002"),
    ("sworker", Profession.SOCIAL_WORKER, "ZL1"),
    ("mhp", Profession.MENTAL_HEALTH_PRACTITIONER, "ZM1"),
    ("pharmacist", Profession.PHARMACIST, "Y90003"),
    ("geriatrician", Profession.GERIATRICIAN, "ZA1"),
    ("ot", Profession.OCCUPATIONAL_THERAPIST, "ZC1"),
    ("physio", Profession.PHYSIOTHERAPIST, "ZC1"),
    ("vsnav", Profession.VOLUNTARY_SECTOR_NAVIGATOR, "Age Well"),
    ("gp2", Profession.GP, "Y90004"),
]


class DemoModeOff(RuntimeError):
    pass


@transaction.atomic
def demo_data_load(*, today: dt.date | None = None) -> dict[str, int]:
    """Load (or top up) the demo data set. Refused unless demo mode is on.
    Returns how many rows of each kind were made this time."""
    if not settings.DEMO_MODE:
        raise DemoModeOff("The demo data set can only be loaded with MDTCARE_DEMO=true.")
    today = today or dt.date.today()
    made = {"networks": 0, "organisations": 0, "users": 0, "patients": 0}
    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    rng = random.Random(SEED)

    networks = {}
    for name, code in NETWORKS:
        networks[code], created = Network.objects.get_or_create(code=code, defaults={"name": name})
        made["networks"] += created

    organisations = {}
    for name, ods, network_code in PRACTICES:
        organisations[ods], created = Organisation.objects.get_or_create(
            ods_code=ods,
            defaults={
                "name": name,
                "type": Organisation.Type.GP_PRACTICE,
                "network": networks[network_code],
            },
        )
        made["organisations"] += created
    for name, ods, kind in PARTNERS:
        lookup = {"ods_code": ods} if ods else {"name": name}
        organisation, created = Organisation.objects.get_or_create(
            **lookup, defaults={"name": name, "type": kind}
        )
        organisations[ods or "Age Well"] = organisation
        made["organisations"] += created

    admin_group = _service_admin_group()
    for username, first, last, profession, org, network_code, role in DEMO_USERS:
        user, created = _demo_user(username, first, last, profession, organisations[org])
        made["users"] += created
        Membership.objects.get_or_create(
            user=user, network=networks[network_code], defaults={"role": role}
        )
        if role == Membership.Role.ADMIN:
            User.objects.filter(pk=user.pk).update(is_staff=True)
            user.groups.add(admin_group)
    for username, profession, org in TEAM:
        user, created = _demo_user(
            username, fake.first_name(), fake.last_name(), profession, organisations[org]
        )
        made["users"] += created
        Membership.objects.get_or_create(
            user=user, network=networks["north"], defaults={"role": Membership.Role.MEMBER}
        )

    numbers = nhs_number.test_range_numbers(start=100_000)
    practices = [organisations[ods] for _, ods, _ in PRACTICES]
    existing = set(Patient.objects.values_list("nhs_number", flat=True))
    new_patients = []
    for practice in practices:
        for _ in range(PATIENTS_PER_PRACTICE):
            number = next(numbers)
            sex = rng.choice([Patient.Sex.FEMALE, Patient.Sex.MALE])
            given = (
                fake.first_name_female() if sex == Patient.Sex.FEMALE else fake.first_name_male()
            )
            family = fake.last_name()
            age_days = rng.randint(65 * 365, 100 * 365)
            postcode = fake.postcode()
            if number in existing:
                continue
            new_patients.append(
                Patient(
                    nhs_number=number,
                    given_name=given,
                    family_name=family,
                    date_of_birth=today - dt.timedelta(days=age_days),
                    sex=sex,
                    postcode=postcode,
                    practice=practice,
                )
            )
    Patient.objects.bulk_create(new_patients)
    made["patients"] = len(new_patients)
    return made


def _demo_user(username, first, last, profession, organisation) -> tuple[User, bool]:
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = User(
        username=username,
        first_name=first,
        last_name=last,
        email=f"{username}@mdtcare-demo.invalid",
        profession=profession,
        organisation=organisation,
        is_demo=True,
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user, True


def _service_admin_group() -> Group:
    """Service admins manage users, organisations and networks, and read the audit."""
    group, _ = Group.objects.get_or_create(name="Service admins")
    codenames = [
        f"{action}_{model}"
        for model in ("user", "organisation", "network", "membership")
        for action in ("add", "change", "view")
    ] + ["view_accessevent", "view_changeevent"]
    group.permissions.set(Permission.objects.filter(codename__in=codenames))
    return group
