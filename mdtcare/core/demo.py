"""The demo data set, in one place: two networks, their practices and
partner organisations, practitioners of every profession, the demo log-ins,
a register of synthetic people and a year of their networks' MDT meetings.

Everything is made up: names come from Faker (en_GB) with a fixed seed,
NHS numbers from the 999 test range with valid check digits. Loading is
idempotent: each row is found by its natural key before it is made.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from faker import Faker

from careplans.demo import assessments_load, plans_load
from mdtcare.accounts.models import Membership, Network, Organisation, Profession, User
from mdtcare.core import nhs_number
from meetings.demo import meetings_load
from patients.demo_activity import hospital_activity_load
from patients.models import (
    Carer,
    Consent,
    EntryStatus,
    EntryStatusChange,
    FrailtyCategory,
    Patient,
    PatientCondition,
    PrimaryNeed,
    ReferralSource,
    RegisterEntry,
    RiskScore,
)
from patients.services import long_term_conditions_load

DEMO_PASSWORD = "mdtcare-demo"  # noqa: S105 - the published demo password
SEED = 20260301
# About 260 people a network, some 190 of them taken on by its MDT: with the
# referrals spread evenly over REFERRAL_DAYS, each network has about nine new
# people to discuss a month (meetings/demo.py).
PATIENTS_PER_PRACTICE = 66
# Referrals arrive evenly over this many days before today. The MDT series
# starts with the first of them, some 20 months back: it takes a network a
# few months to build up a caseload of people it discusses again, so that
# all of the last 12 whole months have a network's usual volumes.
REFERRAL_DAYS = 600

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
# South's GP chair and care navigator (log-ins too), so that South's MDT has
# a chair and its people a navigator of their own. Kept apart from the five
# personas above, which the tests pin.
SOUTH_USERS = [
    ("southchair", "Catherine", "Doyle", Profession.GP, "Y90011", "south", "gp_chair"),
    ("southnavigator", "Daniel", "Osei", Profession.CARE_NAVIGATOR, "ZC1", "south", "navigator"),
]

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
    hashed: dict[str, str] = {}  # the demo password, hashed once for every log-in made
    for username, first, last, profession, org, network_code, role in DEMO_USERS + SOUTH_USERS:
        user, created = _demo_user(username, first, last, profession, organisations[org], hashed)
        made["users"] += created
        Membership.objects.get_or_create(
            user=user, network=networks[network_code], defaults={"role": role}
        )
        if role == Membership.Role.ADMIN:
            User.objects.filter(pk=user.pk).update(is_staff=True)
            user.groups.add(admin_group)
    for username, profession, org in TEAM:
        user, created = _demo_user(
            username, fake.first_name(), fake.last_name(), profession, organisations[org], hashed
        )
        made["users"] += created
        Membership.objects.get_or_create(
            user=user, network=networks["north"], defaults={"role": Membership.Role.MEMBER}
        )

    # Reference data a migration loads; loaded again here because a test
    # database's flush empties it.
    long_term_conditions_load()
    made["patients"] = _register_load(
        practices=[organisations[ods] for _, ods, _ in PRACTICES],
        networks=networks,
        fake=fake,
        rng=rng,
        today=today,
    )
    made["assessments"] = assessments_load(today=today)
    made["care plans"] = plans_load(today=today)
    made["meetings"] = meetings_load(today=today)
    made["hospital activity"] = hospital_activity_load(today=today)
    return made


# Episodes in every status, in proportions a network might have after some
# 20 months of referrals: most on the caseload, a quarter of them ended, a
# few declined, and only the last fortnight's referrals still waiting for
# triage or a first MDT. The rest of the people have never been referred.
EPISODE_MIX = [
    (EntryStatus.ACTIVE, 0.48),
    (EntryStatus.ACCEPTED, 0.03),
    (EntryStatus.REFERRED, 0.025),
    (EntryStatus.STEPPED_DOWN, 0.11),
    (EntryStatus.DISCHARGED, 0.06),
    (EntryStatus.DECLINED, 0.05),
    (EntryStatus.DIED, 0.05),
]
# How long an episode that has ended lasted, in days (from the referral).
EPISODE_DAYS = {
    EntryStatus.STEPPED_DOWN: (75, 200),
    EntryStatus.DISCHARGED: (35, 150),
    EntryStatus.DIED: (20, 180),
    EntryStatus.DECLINED: (60, 60),
}
PATHS = {
    EntryStatus.REFERRED: [],
    EntryStatus.ACCEPTED: [EntryStatus.ACCEPTED],
    EntryStatus.ACTIVE: [EntryStatus.ACCEPTED, EntryStatus.ACTIVE],
    EntryStatus.STEPPED_DOWN: [
        EntryStatus.ACCEPTED,
        EntryStatus.ACTIVE,
        EntryStatus.STEPPED_DOWN,
    ],
    EntryStatus.DISCHARGED: [EntryStatus.ACCEPTED, EntryStatus.ACTIVE, EntryStatus.DISCHARGED],
    EntryStatus.DECLINED: [EntryStatus.DECLINED],
    EntryStatus.DIED: [EntryStatus.ACCEPTED, EntryStatus.ACTIVE, EntryStatus.DIED],
}
CLOSING_REASONS = {
    EntryStatus.STEPPED_DOWN: "Goals met; the practice team carries on",
    EntryStatus.DISCHARGED: "Moved into a care home out of area",
    EntryStatus.DECLINED: "Needs are met by the practice and community nursing",
    EntryStatus.DIED: "",
}
COMMON_CONDITIONS = [
    "hypertension",
    "osteoarthritis",
    "type_2_diabetes_mellitus",
    "copd",
    "heart_failure",
    "atrial_fibrillation",
    "chronic_kidney_disease",
    "dementia",
    "depression",
    "coronary_heart_disease",
    "frailty",
    "osteoporosis",
    "stroke",
    "cancer",
    "parkinsons_disease",
    "asthma",
]
REASONS = [
    "Second emergency admission this winter; struggling at home since discharge",
    "Two falls in three months; lives alone and family are worried",
    "Carer breakdown: daughter can no longer manage the care alone",
    "Frequent GP and out-of-hours contacts about breathlessness",
    "Memory getting worse; missing medicines and meals",
    "Low mood and isolation since her husband died",
    "Several long-term conditions and 12 regular medicines; needs joined-up care",
]
# Who typically refers from each source.
REFERRER_ROLES = {
    "gp_practice": "GP",
    "community_nursing": "District nurse",
    "social_care": "Social worker",
    "mental_health": "Community psychiatric nurse",
    "hospital_discharge": "Discharge coordinator",
    "voluntary_sector": "Age Well navigator",
    "self_or_family": "daughter",
}
SOURCES = [choice for choice in ReferralSource.values if choice != "risk_stratification"]


def _risk_score(rng: random.Random, *, high: bool) -> Decimal:
    """Skewed as stratification tools are: most people low, a few (the top
    2%, ``high``) above 80."""
    if high:
        return Decimal(str(round(rng.uniform(80, 99.5), 1)))
    return Decimal(str(round(min(79.9, rng.betavariate(1.6, 7.5) * 100), 1)))


def _frailty(score: Decimal) -> str:
    if score >= 60:
        return FrailtyCategory.SEVERE
    if score >= 35:
        return FrailtyCategory.MODERATE
    if score >= 15:
        return FrailtyCategory.MILD
    return FrailtyCategory.FIT


def _register_load(*, practices, networks, fake, rng, today) -> int:
    """People, their conditions, carers, consent, risk scores and episodes.
    Only people whose NHS number is not yet on the register are added, each
    with all that belongs to them."""
    numbers = nhs_number.test_range_numbers(start=100_000)
    existing = set(Patient.objects.values_list("nhs_number", flat=True))
    staff = {
        code: {
            role: list(
                User.objects.filter(
                    memberships__network=network, memberships__role__in=roles
                ).order_by("username")
            )
            for role, roles in {
                "leads": [Membership.Role.MATRON, Membership.Role.GP_CHAIR, Membership.Role.MEMBER],
                "navigators": [Membership.Role.NAVIGATOR],
            }.items()
        }
        for code, network in networks.items()
    }
    # A network without a navigator of its own borrows North's.
    fallback_navigator = User.objects.get(username="navigator")
    patients, extras = [], []
    for practice in practices:
        for index in range(PATIENTS_PER_PRACTICE):
            number = next(numbers)
            person_rng = random.Random(f"{SEED}-{number}")
            fake.seed_instance(f"{SEED}-{number}")
            if number in existing:
                continue
            if practice.ods_code == PRACTICES[0][1] and index == 0:
                patient = _mary(number, practice, today)
            else:
                sex = person_rng.choice([Patient.Sex.FEMALE, Patient.Sex.MALE])
                patient = Patient(
                    nhs_number=number,
                    title=person_rng.choice(["Mrs", "Ms", "Miss"] if sex == "female" else ["Mr"]),
                    given_name=fake.first_name_female()
                    if sex == "female"
                    else fake.first_name_male(),
                    family_name=fake.last_name(),
                    date_of_birth=today
                    - dt.timedelta(days=person_rng.randint(int(65.1 * 365.25), int(99.9 * 365.25))),
                    sex=sex,
                    address=fake.street_address().replace("\n", ", "),
                    postcode=fake.postcode(),
                    phone=fake.phone_number(),
                    practice=practice,
                    interpreter_needed=person_rng.random() < 0.05,
                )
                # Two people in every other practice are in the highest-risk
                # group: with Mary, about 2% of the register.
                high = index % 33 == 13 and practice.ods_code[-1] in "13"
                score = _risk_score(person_rng, high=high)
                patient.risk_score = score
                patient.risk_scored_on = today - dt.timedelta(days=person_rng.randint(3, 40))
                patient.frailty_category = _frailty(score)
            patients.append(patient)
            extras.append((patient, person_rng))
    Patient.objects.bulk_create(patients)

    conditions, carers, consents, scores, entries, changes = [], [], [], [], [], []
    spreads: list[float] = []
    for patient, person_rng in extras:
        network_code = next(
            code for code, net in networks.items() if net.pk == patient.practice.network_id
        )
        team = staff[network_code]
        keys = person_rng.sample(COMMON_CONDITIONS, person_rng.randint(1, 5))
        if patient.family_name == "Okafor":
            keys = ["copd", "heart_failure", "osteoarthritis"]
        conditions += [PatientCondition(patient=patient, condition_id=key) for key in keys]
        if person_rng.random() < 0.5 or patient.family_name == "Okafor":
            carers.append(
                Carer(
                    patient=patient,
                    name=f"{fake.first_name()} {patient.family_name}",
                    relationship=person_rng.choice(["Daughter", "Son", "Husband", "Wife", "Niece"]),
                    phone=fake.phone_number(),
                    is_main_carer=True,
                    is_next_of_kin=True,
                    lives_with_patient=person_rng.random() < 0.3,
                )
            )
            if patient.family_name == "Okafor":
                # Hers as they have always been: what Faker says here depends
                # on how many people the register has.
                carers[-1].name, carers[-1].phone = "Dominic Okafor", "+44(0)116 4960323"
        scores.append(
            RiskScore(
                patient=patient,
                score=patient.risk_score,
                frailty_category=patient.frailty_category,
                scored_on=patient.risk_scored_on,
            )
        )
        outcome = _pick(person_rng, EPISODE_MIX)
        if patient.risk_score >= 80:
            # Found by risk stratification, not yet referred: the case-finding list.
            outcome = None
        if patient.family_name == "Okafor":
            outcome = EntryStatus.ACTIVE
        if outcome is None:
            continue
        navigator = team["navigators"][0] if team["navigators"] else fallback_navigator
        for topic in Consent.Topic.values:
            best_interests = person_rng.random() < 0.08
            consents.append(
                Consent(
                    patient=patient,
                    topic=topic,
                    decision=Consent.Decision.BEST_INTERESTS
                    if best_interests
                    else Consent.Decision.GIVEN,
                    decided_on=today - dt.timedelta(days=person_rng.randint(10, 200)),
                    recorded_by=navigator,
                    note="Lacks capacity for this decision (dementia); agreed with her son "
                    "and GP in her best interests"
                    if best_interests
                    else "",
                )
            )
        # Where the referral falls among the network's (dated below); drawn
        # as the referral's age once was, so that what follows (Mary
        # Okafor's urgency among it) stays as it was.
        spread = (person_rng.randint(5, 300) - 5) / 296
        source = person_rng.choice(SOURCES)
        lead = person_rng.choice(team["leads"]) if team["leads"] else None
        entry = RegisterEntry(
            patient=patient,
            status=outcome,
            source=source,
            referrer_name=f"{fake.first_name()} {fake.last_name()}, {REFERRER_ROLES[source]}",
            reason=person_rng.choice(REASONS),
            urgency=RegisterEntry.Urgency.URGENT
            if person_rng.random() < 0.15
            else RegisterEntry.Urgency.ROUTINE,
        )
        if patient.family_name == "Okafor":
            entry.referred_on = today - dt.timedelta(days=40)
            entry.source = ReferralSource.GP_PRACTICE
            entry.referrer_name = "Dr Anil Patel, GP"
            entry.reason = "Second admission for a COPD exacerbation; two falls since Christmas"
        if outcome not in (EntryStatus.REFERRED, EntryStatus.DECLINED):
            entry.clinical_lead = lead
            entry.navigator = navigator
            entry.tier = person_rng.randint(1, 3)
            entry.primary_need = person_rng.choice(PrimaryNeed.values)
            if patient.family_name == "Okafor":
                entry.clinical_lead = User.objects.get(username="matron")
                entry.primary_need = PrimaryNeed.FRAILTY
                entry.tier = 2
        entries.append(entry)
        spreads.append(spread)
        previous = ""
        for step in [EntryStatus.REFERRED, *PATHS[outcome]]:
            changes.append(
                EntryStatusChange(
                    entry=entry,
                    from_status=previous,
                    to_status=step,
                    by=navigator,
                    reason=CLOSING_REASONS.get(step, "Referred" if not previous else ""),
                )
            )
            previous = step
    PatientCondition.objects.bulk_create(conditions)
    Carer.objects.bulk_create(carers)
    Consent.objects.bulk_create(consents)
    RiskScore.objects.bulk_create(scores)
    died = _date_episodes(entries, spreads, networks=networks, today=today)
    Patient.objects.bulk_update(died, ["date_of_death"])
    RegisterEntry.objects.bulk_create(entries)
    EntryStatusChange.objects.bulk_create(changes)
    return len(patients)


def _date_episodes(entries, spreads, *, networks, today: dt.date) -> list[Patient]:
    """When each episode was referred, decided and (if it has) ended. Mary
    Okafor's is the worked example's: referred 40 days ago. The referrals of
    the people each network's MDT took on, and apart from them of those it
    declined, are spread evenly over the last REFERRAL_DAYS, in an order
    shuffled from the seed, so that new people arrive every fortnight; those
    still waiting for triage, or accepted and waiting for a first MDT, came
    in the last fortnight. An episode that ended lasted as EPISODE_DAYS
    says, and ended before today. Returns the people who died, their date of
    death set."""
    network_codes = {network.pk: code for code, network in networks.items()}
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for entry, spread in zip(entries, spreads, strict=True):
        if entry.patient.family_name == "Okafor":
            entry.referred_on = today - dt.timedelta(days=40)
        elif entry.status == EntryStatus.REFERRED:
            entry.referred_on = today - dt.timedelta(days=1 + round(spread * 9))
        elif entry.status == EntryStatus.ACCEPTED:
            entry.referred_on = today - dt.timedelta(days=3 + round(spread * 11))
        else:
            group = "declined" if entry.status == EntryStatus.DECLINED else "taken on"
            groups[network_codes[entry.patient.practice.network_id], group].append((entry, spread))
    for (code, group), members in sorted(groups.items()):
        rng = random.Random(f"{SEED}-referrals-{code}-{group}")
        rng.shuffle(members)
        width = (REFERRAL_DAYS - 5) / len(members)
        ages = [5 + int((slot + spread) * width) for slot, (_, spread) in enumerate(members)]
        lasted = {
            id(entry): rng.randint(*EPISODE_DAYS.get(entry.status, (0, 0))) for entry, _ in members
        }
        # From the newest: an episode that has ended swaps places with an
        # older one still open if it began too recently to have lasted as
        # long as it did (declined ones ended with the decision).
        for slot, (entry, _) in enumerate(members):
            days = lasted[id(entry)]
            if group == "taken on" and days and ages[slot] <= days:
                older = [
                    later
                    for later in range(slot + 1, len(members))
                    if members[later][0].status == EntryStatus.ACTIVE and ages[later] > days
                ]
                if older:
                    older = rng.choice(older)
                    members[slot], members[older] = members[older], members[slot]
        for (entry, _), days_ago in zip(members, ages, strict=True):
            entry.referred_on = today - dt.timedelta(days=days_ago)
            if entry.status in EPISODE_DAYS:
                days = min(lasted[id(entry)], days_ago - 1)
                entry.closed_on = entry.referred_on + dt.timedelta(days=days)
    died = []
    for entry in entries:
        if entry.status != EntryStatus.REFERRED:
            entry.decided_on = entry.referred_on + dt.timedelta(days=2)
        if entry.status == EntryStatus.DIED:
            entry.patient.date_of_death = entry.closed_on
            died.append(entry.patient)
    return died


def _pick(rng: random.Random, mix):
    roll = rng.random()
    for value, share in mix:
        if roll < share:
            return value
        roll -= share
    return None


def _mary(number: str, practice, today: dt.date) -> Patient:
    """Mary Okafor, whose journey the worked example follows."""
    return Patient(
        nhs_number=number,
        title="Mrs",
        given_name="Mary",
        family_name="Okafor",
        date_of_birth=today.replace(year=today.year - 84) - dt.timedelta(days=30),
        sex=Patient.Sex.FEMALE,
        address="Flat 3, 14 Church Lane",
        postcode="LS6 2QA",
        phone="0113 496 0123",
        practice=practice,
        risk_score=Decimal("87.5"),
        risk_scored_on=today - dt.timedelta(days=20),
        frailty_category=FrailtyCategory.MODERATE,
    )


def _demo_user(username, first, last, profession, organisation, hashed) -> tuple[User, bool]:
    """The log-in, made if missing. The password is hashed once for all of
    them (``hashed`` keeps it): it is the published demo password, and
    hashing it for each log-in took most of the demo's loading time."""
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
    if "password" not in hashed:
        hashed["password"] = make_password(DEMO_PASSWORD)
    user.password = hashed["password"]
    user.save()
    return user, True


def _service_admin_group() -> Group:
    """Service admins manage users, organisations and networks, read the
    audit, and see notifications whose e-mail failed (and send them again)."""
    group, _ = Group.objects.get_or_create(name="Service admins")
    codenames = [
        f"{action}_{model}"
        for model in ("user", "organisation", "network", "membership")
        for action in ("add", "change", "view")
    ] + [
        "view_accessevent",
        "view_changeevent",
        "view_notification",
        "change_notification",
        "view_notificationdigest",
    ]
    group.permissions.set(Permission.objects.filter(codename__in=codenames))
    return group
