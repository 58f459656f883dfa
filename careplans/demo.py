"""Holistic assessments for the demo data set (loaded by
``mdtcare.core.demo.demo_data_load``).

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

from careplans.models import Assessment
from careplans.scoring import assessment_scores
from mdtcare.accounts.models import Membership, User
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
