"""Holistic assessments and care and support plans for the demo data set
(loaded by ``mdtcare.core.demo.demo_data_load``; the plans are described
where ``plans_load`` is).

Most people with an active episode have a signed assessment, about a third
of them a signed re-assessment 6 to 12 weeks later; Mary Okafor's is the
one in the worked example (docs: EXAMPLE.md); the matron has one draft on
the go. Nobody's PHQ-9 item 9 is above zero.

Rows are written in bulk, as the services would leave them: answers the
section forms accept, every mandatory section completed, and the scores of
a signed assessment computed from its answers (``careplans.scoring``) and
frozen with who signed it and when. What each person gets is decided from
their NHS number, so loading again adds nothing, and people added to the
register later get theirs.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from careplans.models import Assessment, CarePlan, CarePlanGoal, CareTeamMember
from careplans.plan_selectors import IN_FORCE
from careplans.scoring import assessment_scores
from mdtcare.accounts.models import Membership, Organisation, User
from patients.models import Carer, RegisterEntry

SEED = 20260301
SIGNED_SHARE = 0.85
REASSESSED_SHARE = 0.4  # of the signed; those assessed too recently have no room, so about a third
REASSESSMENT_WEEKS = (6, 12)

# The Barthel items a frail person loses first, roughly in order.
BARTHEL_LOST_FIRST = ["bathing", "stairs", "dressing", "mobility", "transfer", "grooming"]
BARTHEL_LOST_LATER = ["bladder", "toilet", "bowels", "feeding"]
BARTHEL_HIGHEST = {
    "bowels": 2,
    "bladder": 2,
    "grooming": 1,
    "toilet": 2,
    "feeding": 2,
    "transfer": 3,
    "mobility": 3,
    "dressing": 2,
    "stairs": 2,
    "bathing": 1,
}
# Barthel points lost at each Clinical Frailty Scale level.
POINTS_LOST = {3: (0, 1), 4: (1, 3), 5: (3, 5), 6: (5, 8), 7: (8, 12)}
CFS_FROM_EFI = {"fit": (3, 4), "mild": (4, 5), "moderate": (5, 6), "severe": (6, 7)}

HEALTH_IN_OWN_WORDS = [
    "I get out of breath on the stairs and my legs swell by the evening",
    "My sugars are all over the place and I'm tired all the time",
    "Some days are good, some days I can't get out of the chair",
    "My memory isn't what it was; my son says I repeat myself",
    "The pain in my hips is the worst of it",
    "Since the stroke I can't do what I used to",
    "I'm managing, but I don't want to be a bother to anyone",
]
WHAT_MATTERS = [
    "I want to stay in my own home",
    "I want to be able to get to the shops on my own",
    "I want to see my grandchildren more",
    "I don't want to keep going back into hospital",
    "I want to keep my garden going",
    "I want to get back to the lunch club on Thursdays",
    "I want to stop falling",
    "I want my wife to get some rest",
    "I want to understand what all my tablets are for",
]
CARER_VIEWS = [
    "Worried about nights; she phones several times a day",
    "Coping for now, but tired and would like a break",
    "Works full time and visits after work; finding it hard",
]


def assessments_load(*, today: dt.date) -> int:
    """Give each person with an active episode and no assessment what the
    plan for them says (see the module's docstring). Returns how many
    assessments were made."""
    episodes = list(
        RegisterEntry.objects.filter(status=RegisterEntry.Status.ACTIVE)
        .select_related("patient__practice", "clinical_lead")
        .order_by("patient__nhs_number")
    )
    matron = User.objects.filter(username="matron").first()
    if not episodes or matron is None:
        return 0
    already = set(Assessment.objects.values_list("patient_id", flat=True))
    roles = {(m.user_id, m.network_id): m.role for m in Membership.objects.all()}
    with_carers = set(Carer.objects.values_list("patient_id", flat=True))
    draft_for = next(
        (
            entry.patient_id
            for entry in episodes
            if (matron.pk, entry.patient.practice.network_id) in roles
            and not _is_mary(entry.patient)
        ),
        None,
    )

    rows = []
    for entry in episodes:
        patient = entry.patient
        if patient.pk in already:
            continue
        rng = random.Random(f"{SEED}-assessment-{patient.nhs_number}")
        signer = _signer(entry, matron, roles)
        first_on = _first_date(entry, rng, today)
        if signer is None or first_on is None:
            continue
        if _is_mary(patient):
            rows.append(_signed(patient, matron, first_on, _mary_answers(first_on), "Her daughter"))
            continue
        answers = _answers(rng, patient, first_on, has_carer=patient.pk in with_carers)
        if patient.pk == draft_for:
            rows.append(_draft(patient, matron, today, answers))
            continue
        if rng.random() >= SIGNED_SHARE:
            continue
        first = _signed(patient, signer, first_on, answers, _present(rng, patient))
        rows.append(first)
        second_on = first_on + dt.timedelta(days=7 * rng.randint(*REASSESSMENT_WEEKS))
        if rng.random() < REASSESSED_SHARE and second_on < today:
            again = _signed(
                patient, signer, second_on, _reassessed(rng, answers), _present(rng, patient)
            )
            again.kind = Assessment.Kind.REASSESSMENT
            again.previous = first
            rows.append(again)
    Assessment.objects.bulk_create(rows)
    return len(rows)


def _is_mary(patient) -> bool:
    return (patient.given_name, patient.family_name) == ("Mary", "Okafor")


def _signer(entry: RegisterEntry, matron: User, roles: dict) -> User | None:
    """The clinical lead when a matron; otherwise the demo matron where she
    works; in a network without her, the lead (only a member of the network
    may assess there)."""
    network_id = entry.patient.practice.network_id
    lead = entry.clinical_lead
    if lead is not None and roles.get((lead.pk, network_id)) == Membership.Role.MATRON:
        return lead
    if (matron.pk, network_id) in roles:
        return matron
    return lead


def _first_date(entry: RegisterEntry, rng: random.Random, today: dt.date) -> dt.date | None:
    """A few days to three weeks after the referral was accepted, before today."""
    accepted = entry.decided_on or entry.referred_on
    if accepted >= today:
        return None
    days = 2 if _is_mary(entry.patient) else rng.randint(3, 21)
    return min(accepted + dt.timedelta(days=days), today - dt.timedelta(days=1))


def _present(rng: random.Random, patient) -> str:
    family = ["Her daughter", "Her son", "Her husband"]
    if patient.sex == patient.Sex.MALE:
        family = ["His daughter", "His son", "His wife"]
    return rng.choice(["", "", *family, "Carer from the agency"])


def _signed(patient, by: User, on: dt.date, answers: dict, present: str) -> Assessment:
    """A completed assessment as ``assessment_complete`` leaves it."""
    signed_at = timezone.make_aware(dt.datetime.combine(on, dt.time(17, 0)))
    return Assessment(
        patient=patient,
        kind=Assessment.Kind.INITIAL,
        assessor=by,
        assessed_on=on,
        setting=Assessment.Setting.HOME,
        people_present=present,
        status=Assessment.Status.COMPLETED,
        answers=answers,
        # One save per section, then the signing.
        version=len(answers) + 2,
        signed_by=by,
        signed_at=signed_at,
        scores=_frozen_scores(answers),
        created_by=by,
    )


def _draft(patient, by: User, today: dt.date, answers: dict) -> Assessment:
    """Started today; the first sections saved, the function section half done."""
    sections = {key: answers[key] for key in ("physical_health", "medicines", "frailty")}
    sections["function"] = {key: answers["function"][key] for key in ("bowels", "bladder")}
    return Assessment(
        patient=patient,
        kind=Assessment.Kind.INITIAL,
        assessor=by,
        assessed_on=today,
        setting=Assessment.Setting.HOME,
        status=Assessment.Status.DRAFT,
        answers=sections,
        version=len(sections) + 1,
        created_by=by,
    )


def _frozen_scores(answers: dict) -> dict:
    """The scores as ``assessment_complete`` freezes them."""
    return {
        key: {
            "total": score.total,
            "maximum": score.maximum,
            "band": score.band,
            "flags": list(score.flags),
        }
        for key, score in assessment_scores(answers).items()
    }


def _months_before(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    return day.replace(year=month_index // 12, month=month_index % 12 + 1, day=min(day.day, 28))


# --- answers ------------------------------------------------------------------------------


def _answers(rng: random.Random, patient, on: dt.date, *, has_carer: bool) -> dict:
    """A plausible assessment: frailty from the person's electronic frailty
    index, function and falls in keeping with it."""
    cfs = rng.randint(*CFS_FROM_EFI.get(patient.frailty_category, (4, 6)))
    function = dict(BARTHEL_HIGHEST)
    for _ in range(rng.randint(*POINTS_LOST[cfs])):
        _lose_a_point(rng, function)
    low_mood = rng.random() < 0.3
    mood = {
        f"phq9_{number}": rng.choice([0, 1, 1, 2, 2, 3] if low_mood else [0, 0, 0, 1, 1, 2])
        for number in range(1, 9)
    }
    mood["phq9_9"] = 0
    mood.update(
        {
            f"gad7_{number}": rng.choice([0, 1, 1, 2, 3] if low_mood else [0, 0, 0, 1, 1])
            for number in range(1, 8)
        }
    )
    mood["memory_concerns"] = rng.choice(["no", "no", "yes"])
    fell = rng.random() < 0.2 + 0.12 * (cfs - 3)
    falls = {
        "fell_last_12_months": "yes" if fell else "no",
        "tug_seconds": f"{max(7.0, 6 + 2.5 * (cfs - 3) + rng.uniform(-2, 4)):.1f}",
    }
    if fell:
        falls["falls_count"] = rng.randint(1, 4)
        falls["falls_notes"] = rng.choice(
            ["Tripped on the rug in the hall", "Fell getting up at night", "Legs gave way outside"]
        )
    lives_alone = rng.random() < 0.45
    social = {
        "lives_alone": "yes" if lives_alone else "no",
        "isolation": rng.choice(["never", "sometimes", "often"] if lives_alone else ["never"]),
        "has_carer": "yes" if has_carer else "no",
    }
    if has_carer:
        social["carer_view"] = rng.choice(CARER_VIEWS)
        social["carer_assessment"] = rng.choice(["offered", "referred", "declined", "already_has"])
    has_pain = rng.random() < 0.5
    return {
        "physical_health": {
            "health_in_own_words": rng.choice(HEALTH_IN_OWN_WORDS),
            "admissions_last_12_months": rng.choice([0, 0, 1, 1, 2, 3]),
        },
        "medicines": {
            "medicines_count": rng.randint(4, 14),
            "last_review_on": (on - dt.timedelta(days=rng.randint(30, 540))).isoformat(),
            "problems_taking": rng.choice(["no", "no", "yes"]),
        },
        "function": function,
        "falls": falls,
        "continence": {"continence_problems": "yes" if function["bladder"] < 2 else "no"},
        "nutrition": {
            "weight_loss": rng.choice(["no", "no", "yes"]),
            "appetite": rng.choice(["good", "good", "reduced", "poor"]),
        },
        "pain": {"has_pain": "yes", "pain_score": rng.randint(2, 8)}
        if has_pain
        else {"has_pain": "no"},
        "mood": mood,
        "frailty": {"cfs": cfs},
        "social": social,
        "behaviours": {
            "smoking": rng.choice(["never", "never", "ex", "ex", "current"]),
            "alcohol_units": rng.choice([0, 0, 2, 4, 10]),
        },
        "what_matters": {"i_statements": rng.sample(WHAT_MATTERS, rng.randint(2, 3))},
    }


def _lose_a_point(rng: random.Random, function: dict) -> None:
    first = [key for key in BARTHEL_LOST_FIRST if function[key] > 0]
    later = [key for key in BARTHEL_LOST_LATER if function[key] > 0]
    candidates = first if first and (rng.random() < 0.75 or not later) else later
    if candidates:
        function[rng.choice(candidates)] -= 1


def _gain_a_point(rng: random.Random, function: dict) -> None:
    candidates = [key for key, value in function.items() if value < BARTHEL_HIGHEST[key]]
    if candidates:
        function[rng.choice(candidates)] += 1


def _reassessed(rng: random.Random, before: dict) -> dict:
    """The answers 6 to 12 weeks on: most people a little better after the
    support agreed (mood, function, fewer falls, medicines reviewed), some
    a little worse."""
    answers = {section: dict(values) for section, values in before.items()}
    better = rng.random() < 0.65
    function, mood, falls = answers["function"], answers["mood"], answers["falls"]
    for _ in range(rng.randint(1, 2)):
        (_gain_a_point if better else _lose_a_point)(rng, function)
    for _ in range(rng.randint(1, 3)):
        number = rng.randint(1, 8)  # never item 9
        key = f"phq9_{number}"
        mood[key] = max(0, mood[key] - 1) if better else min(3, mood[key] + 1)
    key = f"gad7_{rng.randint(1, 7)}"
    mood[key] = max(0, mood[key] - 1) if better else min(3, mood[key] + 1)
    tug = float(falls["tug_seconds"]) + (rng.uniform(-3, -0.5) if better else rng.uniform(0.5, 3))
    falls["tug_seconds"] = f"{max(7.0, tug):.1f}"
    if not better:
        falls["fell_last_12_months"] = "yes"
        falls["falls_count"] = before["falls"].get("falls_count", 0) + 1
        falls["falls_notes"] = "Another fall since the last assessment"
        answers["frailty"] = {"cfs": min(7, answers["frailty"]["cfs"] + rng.choice([0, 1]))}
    answers["medicines"]["medicines_count"] = max(
        2, answers["medicines"]["medicines_count"] - (rng.randint(0, 2) if better else -1)
    )
    return answers


def _mary_answers(on: dt.date) -> dict:
    """Mary Okafor's holistic assessment (EXAMPLE.md): CFS 6, Barthel 14/20,
    PHQ-9 8 with item 9 at 0, GAD-7 6, 2 falls and a Timed Up and Go of 19 s,
    11 medicines last reviewed 14 months ago, and what matters to her."""
    return {
        "physical_health": {
            "health_in_own_words": "My chest is bad in the cold and my ankles swell. "
            "I get breathless going up to the flat.",
            "admissions_last_12_months": 2,
            "conditions_notes": "COPD: two admissions with exacerbations this winter. "
            "Heart failure: ankles swell by the evening. Osteoarthritis of both knees.",
        },
        "medicines": {
            "medicines_count": 11,
            "last_review_on": _months_before(on, 14).isoformat(),
            "problems_taking": "yes",
            "concerns": "Not sure what each inhaler is for; sometimes forgets the evening tablets",
        },
        # Needs help with bathing, stairs and dressing; walks with someone
        # beside her, minor help to stand; the occasional accident since the
        # water tablets were increased.
        "function": {
            "bowels": 2,
            "bladder": 1,
            "grooming": 1,
            "toilet": 2,
            "feeding": 2,
            "transfer": 2,
            "mobility": 2,
            "dressing": 1,
            "stairs": 1,
            "bathing": 0,
        },
        "falls": {
            "fell_last_12_months": "yes",
            "falls_count": 2,
            "tug_seconds": "19",
            "falls_notes": "Two falls since Christmas, both at night on the way to the "
            "toilet; the second time she could not get up until her daughter came",
        },
        "continence": {
            "continence_problems": "yes",
            "continence_notes": "Urgency since the water tablets were increased; pads at night",
        },
        "nutrition": {"weight_loss": "no", "appetite": "reduced"},
        "pain": {"has_pain": "yes", "pain_score": 5, "pain_notes": "Both knees, worst on stairs"},
        "mood": {
            **{f"phq9_{n}": v for n, v in enumerate([1, 1, 1, 2, 1, 1, 1, 0, 0], start=1)},
            **{f"gad7_{n}": v for n, v in enumerate([1, 1, 1, 1, 1, 1, 0], start=1)},
            "memory_concerns": "no",
        },
        "frailty": {"cfs": 6},
        "social": {
            "lives_alone": "yes",
            "isolation": "sometimes",
            "housing": "First-floor flat, no lift: the stairs are the hardest part of going out",
            "has_carer": "yes",
            "carer_view": "Her daughter visits at weekends and does the shopping; "
            "worried about her mum being on her own at night",
            "carer_assessment": "offered",
        },
        "behaviours": {"smoking": "ex", "alcohol_units": 0, "activity": "To the corner shop"},
        "what_matters": {
            "i_statements": [
                "I want to stay in my own home",
                "I want to get to church on Sundays",
                "I don't want to keep going back into hospital",
            ]
        },
    }


# --- integrated care and support plans ---------------------------------------------------
#
# Each person with an active episode and a signed assessment has a plan,
# its goals their "what matters to me" statements with the support agreed,
# who provides it and by when. Plans move as they would: drafted a few days
# after the assessment, proposed, ratified at an MDT by the GP chair,
# shared with the person, and replaced by a new version after a
# re-assessment or at a review (the old version superseded once the new one
# is ratified). Some stall as drafts or proposals, a few are ratified but
# not yet shared, and for about one person in three the team is behind with
# the latest review, so that some reviews are overdue. People whose
# episode has ended have their plan closed. Each network's GP chair
# ratifies its plans (North's Dr Patel, South's Dr Doyle); a network without
# one has only drafts and plans awaiting ratification.
#
# Rows are written in bulk with the fields the services would have left,
# dated from ``today``; only episodes without a plan get one.

AGE_WELL = "Northshire Age Well"
# Teams behind with someone's review: the overdue reviews come from them.
REVIEW_BEHIND_SHARE = 0.3
OVERDUE_AT_MOST = dt.timedelta(weeks=8)
MAX_VERSIONS = 6
INTERVALS = [6, 6, 8, 8, 12, 4]
# Once the support is in place, reviews come round less often.
SETTLED_INTERVALS = [8, 12, 12, 26]

# The support agreed for each "what matters to me" statement: what, and who
# provides it (a key of PROVIDERS).
SUPPORT = {
    "I want to stay in my own home": [
        ("Home assessment by the occupational therapist; grab rails and a perching stool", "ot"),
        ("Review of the care package with adult social care", "social_care"),
    ],
    "I want to be able to get to the shops on my own": [
        ("Strength and balance programme with the community physiotherapist", "physio"),
        ("Community transport set up through Northshire Age Well", "age_well"),
    ],
    "I want to see my grandchildren more": [
        ("Help to set up video calls, and a befriender", "age_well"),
    ],
    "I don't want to keep going back into hospital": [
        ("Rescue pack and a written self-management plan", "practice_nurse"),
        ("Structured medication review", "pharmacist"),
    ],
    "I want to keep my garden going": [
        ("Garden volunteers once a month and raised beds", "age_well"),
    ],
    "I want to get back to the lunch club on Thursdays": [
        ("Transport to the lunch club and someone to go with the first time", "age_well"),
    ],
    "I want to stop falling": [
        ("Falls assessment and strength and balance classes", "physio"),
        ("Night-time lighting and a pendant alarm", "ot"),
    ],
    "I want my wife to get some rest": [
        ("Carer's assessment and respite care", "social_care"),
    ],
    "I want to understand what all my tablets are for": [
        ("Structured medication review and a medicines chart", "pharmacist"),
    ],
}
# Provider: (demo username in North, role in the plan, the organisation
# elsewhere — an ODS code, "practice" for the person's own practice, or Age
# Well — and the team named there).
PROVIDERS = {
    "ot": ("ot", "Occupational therapist", "ZC1", "Community occupational therapy team"),
    "physio": ("physio", "Physiotherapist", "ZC1", "Community physiotherapy team"),
    "social_care": ("sworker", "Social worker", "ZL1", "Adult social care locality team"),
    "practice_nurse": ("pnurse", "Practice nurse", "practice", "Practice nurse"),
    "pharmacist": ("pharmacist", "Practice pharmacist", "practice", "Practice pharmacist"),
    "age_well": ("vsnav", "Age Well navigator", AGE_WELL, "Age Well navigator"),
}
SELF_MANAGEMENT = [
    "Takes the inhalers as the practice nurse showed; weighs each morning and rings the "
    "practice if up 2 kg in three days.",
    "Walks to the end of the road and back each day; does the chair exercises from the "
    "physiotherapist's sheet.",
    "Checks sugars before breakfast and tea; keeps the diary for the practice nurse.",
    "Uses the medicines chart and the blister pack; tells the pharmacist about any new tablets.",
    "Keeps the pendant alarm on at night; lights on the way to the toilet.",
]
CONTINGENCY = {
    "physical_health": "If breathing or swelling gets worse: start the rescue pack and ring the "
    "practice. If no better in 48 hours, or struggling: the community rapid-response team. "
    "Out of hours: 111. In an emergency: 999.",
    "frailty": "After a fall without injury: press the pendant alarm; the rapid-response team "
    "comes out. If hurt or unwell: call 111, or 999 in an emergency.",
    "mental_health": "If mood drops or thoughts of not wanting to go on: ring the community "
    "mental health team in hours, the crisis line out of hours; in an emergency, 999.",
    "social_care": "If the carer cannot manage: ring the care navigator in hours, or the "
    "emergency duty social work team out of hours.",
    "end_of_life": "Anticipatory medicines are in the house: ring the district nurses, or 111 "
    "out of hours, who can see the plan.",
    "other": "Ring the practice in hours; 111 out of hours; 999 in an emergency.",
}
RATIFICATION_NOTES = [
    "Agreed at the MDT",
    "Agreed at the MDT; check the care package at the review",
    "Agreed; the GP will review the medicines first",
    "",
]


def plans_load(*, today: dt.date) -> int:
    """Give each episode that has no care plan what the plan for it says
    (see above): the active ones with a signed assessment their versions,
    the ended ones (in a network with a GP chair) a closed plan, Mary Okafor
    hers from the worked example. Returns how many plan versions were made."""
    users = {user.username: user for user in User.objects.filter(is_demo=True)}
    matron = users.get("matron")
    if users.get("chair") is None or matron is None:
        return 0
    # Each network's GP chair among the demo's practitioners ratifies its plans.
    chairs: dict = {}
    for membership in (
        Membership.objects.filter(role=Membership.Role.GP_CHAIR, user__is_demo=True)
        .select_related("user")
        .order_by("user__username")
    ):
        chairs.setdefault(membership.network_id, membership.user)
    already = set(CarePlan.objects.values_list("entry_id", flat=True))
    episodes = [
        entry
        for entry in RegisterEntry.objects.filter(status__in=_PLANNED_STATUSES)
        .select_related("patient__practice", "clinical_lead", "navigator")
        .order_by("patient__nhs_number")
        if entry.pk not in already
    ]
    if not episodes:
        return 0
    signed: dict = {}
    for assessment in Assessment.objects.filter(status=Assessment.Status.COMPLETED).order_by(
        "assessed_on", "signed_at"
    ):
        signed.setdefault(assessment.patient_id, []).append(assessment)
    roles = {(m.user_id, m.network_id): m.role for m in Membership.objects.all()}
    carers = {carer.patient_id: carer for carer in Carer.objects.filter(is_main_carer=True)}
    organisations = {org.ods_code or org.name: org for org in Organisation.objects.all()}
    rows = _Rows(today=today, users=users, roles=roles, carers=carers, organisations=organisations)
    for entry in episodes:
        patient = entry.patient
        rng = random.Random(f"{SEED}-plan-{patient.nhs_number}")
        chair = chairs.get(patient.practice.network_id)
        if entry.status == RegisterEntry.Status.ACTIVE:
            assessments = signed.get(patient.pk, [])
            if _is_mary(patient) and assessments and chair is not None:
                rows.mary(entry, assessments[0], chair=chair, matron=matron)
            elif assessments:
                rows.versions(entry, assessments, rng, chair=chair)
        elif chair is not None:
            rows.closed(entry, rng, chair=chair)
    rows.supersede()
    CarePlan.objects.bulk_create(rows.plans)
    CarePlanGoal.objects.bulk_create(rows.goals)
    CareTeamMember.objects.bulk_create(rows.team)
    return len(rows.plans)


_PLANNED_STATUSES = [
    RegisterEntry.Status.ACTIVE,
    RegisterEntry.Status.STEPPED_DOWN,
    RegisterEntry.Status.DISCHARGED,
    RegisterEntry.Status.DIED,
]


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _days(rng: random.Random, low: int, high: int) -> dt.timedelta:
    return dt.timedelta(days=rng.randint(low, high))


def _goal_progress(rng: random.Random, ratified_on, target_on, as_of: dt.date) -> str:
    """How far a goal has got by ``as_of``: nothing before the MDT agrees it,
    then mostly on track, mostly achieved once its target date has passed."""
    Progress = CarePlanGoal.Progress
    if ratified_on is None or as_of <= ratified_on:
        return Progress.NOT_STARTED
    span = max((target_on - ratified_on).days, 1) if target_on else 60
    done = (as_of - ratified_on).days / span
    if done < 0.25:
        return rng.choice([Progress.NOT_STARTED, Progress.NOT_STARTED, Progress.ON_TRACK])
    if done < 1:
        return rng.choice([Progress.ON_TRACK] * 4 + [Progress.NOT_STARTED])
    return rng.choice(
        [Progress.ACHIEVED] * 6 + [Progress.ON_TRACK] * 3 + [Progress.NO_LONGER_RELEVANT]
    )


class _Rows:
    """The plan versions, goals and care teams being made, as the services
    would have left them."""

    def __init__(self, *, today, users, roles, carers, organisations):
        self.today = today
        self.users = users
        self.roles = roles
        self.carers = carers
        self.organisations = organisations
        self.plans: list[CarePlan] = []
        self.goals: list[CarePlanGoal] = []
        self.team: list[CareTeamMember] = []
        # Each plan's goals, with the role of who provides their support.
        self._goals_of: dict[int, list[tuple[CarePlanGoal, str]]] = {}

    def goals_of(self, plan) -> list[CarePlanGoal]:
        return [goal for goal, _ in self._goals_of.get(id(plan), [])]

    # --- who writes, who provides -----------------------------------------------------------

    def _editor(self, entry) -> User:
        """Who writes the plan: its clinical lead (always allowed), else the matron."""
        return entry.clinical_lead or self.users["matron"]

    def _provider(self, key: str, patient) -> dict:
        """A practitioner where the provider is a member of the person's
        network (North); elsewhere the organisation and the team's name."""
        username, _, organisation, team_name = PROVIDERS[key]
        user = self.users.get(username)
        if user is not None and (user.pk, patient.practice.network_id) in self.roles:
            return {"provider": user}
        if organisation == "practice":
            return {"provider_organisation": patient.practice, "provider_name": team_name}
        return {
            "provider_organisation": self.organisations.get(organisation),
            "provider_name": team_name,
        }

    # --- one version ------------------------------------------------------------------------

    def _plan(self, entry, *, number, previous, source, start, interval, rng) -> CarePlan:
        """A draft, as ``plan_create`` (or ``plan_new_version``) starts one."""
        patient = entry.patient
        carer = self.carers.get(patient.pk)
        plan = CarePlan(
            patient=patient,
            entry=entry,
            number=number,
            previous=previous,
            from_assessment=source,
            status=CarePlan.Status.DRAFT,
            primary_need=entry.primary_need,
            clinical_lead=entry.clinical_lead,
            navigator=entry.navigator,
            self_management=previous.self_management if previous else rng.choice(SELF_MANAGEMENT),
            contingency=CONTINGENCY.get(entry.primary_need, CONTINGENCY["other"]),
            carer_involvement=(
                f"{carer.relationship} ({carer.name}) helps day to day and was part of "
                "writing the plan; offered a carer's assessment."
                if carer
                else ""
            ),
            review_interval_weeks=interval,
            starts_on=start,
            next_review_on=(
                max(previous.next_review_on, start)
                if previous
                else start + dt.timedelta(weeks=interval)
            ),
            revision=1,
            created_by=self._editor(entry),
        )
        self.plans.append(plan)
        self._goals_of[id(plan)] = []
        return plan

    def _goal(
        self,
        plan,
        words,
        *,
        target_on,
        progress=CarePlanGoal.Progress.NOT_STARTED,
        with_support=True,
    ) -> CarePlanGoal:
        """A goal in the person's words with the support agreed for it (the
        first provider named provides it), by ``target_on``."""
        support = SUPPORT.get(words, []) if with_support else []
        fields, role = {}, ""
        if support:
            fields = self._provider(support[0][1], plan.patient)
            fields["support_agreed"] = "; ".join(text for text, _ in support)
            role = PROVIDERS[support[0][1]][1]
        goal = CarePlanGoal(
            plan=plan,
            position=len(self._goals_of[id(plan)]),
            what_matters=words,
            target_on=target_on if support else None,
            progress=progress,
            created_by=plan.created_by,
            **fields,
        )
        self.goals.append(goal)
        self._goals_of[id(plan)].append((goal, role))
        return goal

    def _team(self, plan) -> None:
        """The lead and navigator (as ``plan_create`` adds them), then who
        provides each goal's support, once each."""
        members = [
            (plan.clinical_lead, None, "", "Clinical lead"),
            (plan.navigator, None, "", "Care navigator"),
        ] + [
            (goal.provider, goal.provider_organisation, goal.provider_name, role)
            for goal, role in self._goals_of[id(plan)]
            if role
        ]
        seen = set()
        for practitioner, organisation, name, role in members:
            who = (getattr(practitioner, "pk", None), getattr(organisation, "pk", None), name)
            if who == (None, None, "") or who in seen:
                continue
            seen.add(who)
            self.team.append(
                CareTeamMember(
                    plan=plan,
                    practitioner=practitioner,
                    organisation=organisation,
                    name="" if practitioner else name,
                    role_in_plan=role,
                    created_by=plan.created_by,
                )
            )

    def _advance(self, plan, rng, *, chair, stall: bool) -> dt.date | None:
        """Take a draft as far as it got by today: proposed a few days after
        it was started, ratified at an MDT a few days later (by the chair,
        where the network has one), shared within days. A stalled one stops
        as a draft or a proposal. Returns the day it was ratified, if it was."""
        editor = self._editor(plan.entry)
        plan.revision += len(self._goals_of[id(plan)])  # one save per goal written
        proposed_on = plan.starts_on + _days(rng, 0, 3)
        if proposed_on > self.today or (stall and rng.random() < 0.5):
            return None
        plan.status = CarePlan.Status.PROPOSED
        plan.proposed_by, plan.proposed_at = editor, _at(proposed_on, 16)
        plan.revision += 1
        ratified_on = proposed_on + _days(rng, 2, 9)
        if chair is None or ratified_on > self.today or stall:
            return None
        plan.status = CarePlan.Status.RATIFIED
        plan.ratified_by, plan.ratified_at = chair, _at(ratified_on, 14)
        plan.ratification_note = rng.choice(RATIFICATION_NOTES)
        # The MDT sets the next review from the day it ratifies the plan.
        plan.next_review_on = ratified_on + dt.timedelta(weeks=plan.review_interval_weeks)
        plan.revision += 1
        shared_on = ratified_on + _days(rng, 1, 10)
        if shared_on <= self.today and rng.random() < 0.85:
            plan.status = CarePlan.Status.SHARED
            plan.shared_by = plan.navigator or editor
            plan.shared_on = shared_on
            plan.shared_how = rng.choice(
                [CarePlan.Sharing.IN_PERSON] * 3
                + [
                    CarePlan.Sharing.POST,
                    CarePlan.Sharing.EMAIL,
                ]
            )
            plan.revision += 1
        return ratified_on

    # --- a person's plans -------------------------------------------------------------------

    def versions(self, entry, assessments, rng, *, chair) -> None:
        """Version 1 from the first signed assessment; a new version after
        each later one, and at each review that came round, until one stalls
        or is still going through the MDT. For a team behind with its
        reviews, the last review that came round has not happened yet."""
        behind = rng.random() < REVIEW_BEHIND_SHARE
        interval = rng.choice(INTERVALS)
        source = assessments[0]
        start = min(source.assessed_on + _days(rng, 1, 4), self.today)
        plan = self._plan(
            entry, number=1, previous=None, source=source, start=start, interval=interval, rng=rng
        )
        # A draft is written with the person: the support is agreed goal by goal.
        drafting = start + dt.timedelta(days=3) > self.today
        for index, words in enumerate(_statements(source)):
            self._goal(
                plan,
                words,
                target_on=start + dt.timedelta(weeks=rng.randint(3, 10)),
                with_support=not drafting or index == 0,
            )
        while True:
            ratified_on = self._advance(
                plan, rng, chair=chair, stall=rng.random() < 0.15 and plan.number == 1
            )
            self._team(plan)
            if ratified_on is None:
                return
            # What comes next: the next assessment, or else the review.
            later = [a for a in assessments if a.assessed_on > ratified_on]
            if later and later[0].assessed_on <= plan.next_review_on:
                source, start = later[0], later[0].assessed_on + _days(rng, 1, 4)
            else:
                start = plan.next_review_on - _days(rng, 0, 7)
                overdue = self.today - plan.next_review_on
                if behind and dt.timedelta(0) < overdue <= OVERDUE_AT_MOST:
                    start = self.today + dt.timedelta(days=1)  # not started yet
            if start > self.today or plan.number >= MAX_VERSIONS:
                self._progress(plan, ratified_on, rng, as_of=self.today)
                return
            self._progress(plan, ratified_on, rng, as_of=start)
            plan = self._next_version(plan, source, start, rng)

    def _progress(self, plan, ratified_on, rng, *, as_of) -> None:
        for goal in self.goals_of(plan):
            goal.progress = _goal_progress(rng, ratified_on, goal.target_on, as_of)

    def _next_version(self, previous, source, start, rng) -> CarePlan:
        """A copy of the version in force (``plan_new_version``), its goals
        carried on with new dates where they are not done, and the new
        assessment's statements added as goals. The old version is
        superseded when the new one is ratified."""
        plan = self._plan(
            previous.entry,
            number=previous.number + 1,
            previous=previous,
            source=source,
            start=start,
            interval=max(previous.review_interval_weeks, rng.choice(SETTLED_INTERVALS)),
            rng=rng,
        )
        Progress = CarePlanGoal.Progress
        carried = self.goals_of(previous)
        for goal in carried:
            done = goal.progress in (Progress.ACHIEVED, Progress.NO_LONGER_RELEVANT)
            target_on = goal.target_on
            if target_on and not done and target_on < start + dt.timedelta(weeks=2):
                target_on = start + dt.timedelta(weeks=rng.randint(4, 10))
            self._goal(
                plan,
                goal.what_matters,
                target_on=target_on,
                progress=goal.progress,
                with_support=bool(goal.support_agreed),
            )
        for words in _statements(source):
            if words not in {goal.what_matters for goal in carried}:
                self._goal(plan, words, target_on=start + dt.timedelta(weeks=rng.randint(4, 10)))
        return plan

    def supersede(self) -> None:
        """Every version followed by a ratified one is superseded (as
        ``plan_ratify`` leaves it)."""
        for plan in self.plans:
            if plan.previous is not None and plan.status in IN_FORCE:
                plan.previous.status = CarePlan.Status.SUPERSEDED

    def closed(self, entry, rng, *, chair) -> None:
        """The one plan of an episode that has ended: ratified early in the
        episode, closed with it, its goals achieved or no longer relevant."""
        closed_on = entry.closed_on or self.today
        start = (entry.decided_on or entry.referred_on) + _days(rng, 5, 14)
        ratified_on = start + _days(rng, 3, 8)
        if ratified_on >= closed_on:
            return
        interval = rng.choice(INTERVALS)
        plan = self._plan(
            entry, number=1, previous=None, source=None, start=start, interval=interval, rng=rng
        )
        plan.status = CarePlan.Status.CLOSED
        plan.proposed_by, plan.proposed_at = self._editor(entry), _at(start, 16)
        plan.ratified_by, plan.ratified_at = chair, _at(ratified_on, 14)
        plan.next_review_on = ratified_on + dt.timedelta(weeks=interval)
        Progress = CarePlanGoal.Progress
        outcomes = {
            RegisterEntry.Status.STEPPED_DOWN: [Progress.ACHIEVED] * 4 + [Progress.ON_TRACK],
            RegisterEntry.Status.DISCHARGED: [Progress.ACHIEVED, Progress.NO_LONGER_RELEVANT],
            RegisterEntry.Status.DIED: [Progress.ON_TRACK, Progress.NO_LONGER_RELEVANT],
        }[entry.status]
        for words in rng.sample(WHAT_MATTERS, 2):
            self._goal(
                plan,
                words,
                target_on=ratified_on + dt.timedelta(weeks=rng.randint(3, 8)),
                progress=rng.choice(outcomes),
            )
        plan.revision = len(self.goals_of(plan)) + 4  # drafted, proposed, ratified, closed
        self._team(plan)

    def mary(self, entry, assessment, *, chair, matron) -> None:
        """Mary Okafor's plan as in the worked example (EXAMPLE.md): drafted
        two days after her assessment, proposed, ratified by the chair at
        the MDT five days later, shared in person by the matron two days
        after that, reviewed 6 weeks after the MDT. The support and the
        dates keep the example's spacing from the MDT."""
        users = self.users
        drafted = assessment.assessed_on + dt.timedelta(days=2)
        mdt = drafted + dt.timedelta(days=5)

        def by(days: int) -> dt.date:
            return mdt + dt.timedelta(days=days)

        def day(value: dt.date) -> str:
            return f"{value.day} {value:%B}"

        plan = self._plan(
            entry,
            number=1,
            previous=None,
            source=assessment,
            start=drafted,
            interval=CarePlan.Interval.SIX_WEEKS,
            rng=random.Random(SEED),
        )
        age_well = self.organisations.get(AGE_WELL)
        Progress = CarePlanGoal.Progress
        for words, support, provider, target, progress in [
            (
                "I want to stay in my own home",
                f"Home assessment and grab rails by the community occupational therapist "
                f"(by {day(by(17))}); review of her care package with the social worker "
                f"(by {day(by(28))})",
                {"provider": users.get("ot")},
                by(28),
                Progress.ON_TRACK,
            ),
            (
                "I want to get to church on Sundays",
                "Befriending, and transport to church on Sundays",
                {"provider": users.get("vsnav"), "provider_organisation": age_well},
                by(28),
                Progress.ON_TRACK,
            ),
            (
                "I don't want to keep going back into hospital",
                f"COPD rescue pack and self-management plan with the practice nurse "
                f"(by {day(by(7))}); medication review with the practice pharmacist "
                f"(by {day(by(14))})",
                {"provider": users.get("pnurse")},
                by(14),
                Progress.ACHIEVED,
            ),
        ]:
            self.goals.append(
                goal := CarePlanGoal(
                    plan=plan,
                    position=len(self._goals_of[id(plan)]),
                    what_matters=words,
                    support_agreed=support,
                    target_on=target,
                    progress=progress,
                    created_by=matron,
                    **provider,
                )
            )
            self._goals_of[id(plan)].append((goal, ""))
        plan.self_management = (
            "Uses her inhalers as the practice nurse showed her and keeps the rescue pack in "
            "the kitchen drawer; weighs herself each morning and rings the practice if she is "
            "up 2 kg in three days; wears her pendant alarm at night."
        )
        plan.contingency = (
            "If her breathing gets worse: start the COPD rescue pack and tell the practice. "
            "If she is no better in 48 hours, or struggling: the community rapid-response "
            "team. Out of hours: 111. In an emergency: 999."
        )
        plan.status = CarePlan.Status.SHARED
        plan.proposed_by, plan.proposed_at = matron, _at(drafted, 16)
        plan.ratified_by, plan.ratified_at = chair, _at(mdt, 14)
        plan.ratification_note = "Agreed at the MDT; review in 6 weeks"
        plan.shared_by, plan.shared_on = matron, mdt + dt.timedelta(days=2)
        plan.shared_how = CarePlan.Sharing.IN_PERSON
        plan.next_review_on = mdt + dt.timedelta(weeks=6)
        plan.revision = 3 + 3 + 1  # created, three goals written, proposed, ratified, shared
        for username, role in [
            ("matron", "Clinical lead"),
            ("navigator", "Care navigator"),
            ("chair", "GP"),
            ("ot", "Occupational therapist"),
            ("sworker", "Social worker"),
            ("vsnav", "Age Well navigator (befriending and transport)"),
            ("pnurse", "Practice nurse"),
            ("pharmacist", "Practice pharmacist"),
        ]:
            if users.get(username) is not None:
                self.team.append(
                    CareTeamMember(
                        plan=plan,
                        practitioner=users[username],
                        role_in_plan=role,
                        created_by=matron,
                    )
                )
        plan.carer_involvement = (
            "Her daughter visits at weekends and does her shopping; she was there when the "
            "plan was written and has been offered a carer's assessment."
        )
        self.team.append(
            CareTeamMember(
                plan=plan,
                name="Her daughter",
                role_in_plan="Main carer: visits at weekends, does the shopping",
                created_by=matron,
            )
        )


def _statements(assessment) -> list[str]:
    return [
        text[:500]
        for text in assessment.answers.get("what_matters", {}).get("i_statements", [])
        if text.strip()
    ]
