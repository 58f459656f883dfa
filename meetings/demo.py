"""A year and more of MDT meetings for the demo data set (loaded by
``mdtcare.core.demo.demo_data_load``, after the register, assessments and
care plans, which it follows).

Each network meets fortnightly on its own weekday, in one series that runs
from when its register first had someone to discuss (some 19 months back:
the first months build up a caseload, so that each of the last 12 whole
months has a network's usual volumes) to two months ahead. Past meetings
are closed with attendance, an agenda, the outcome of each discussion and
the actions agreed. Those on a bank holiday or in Christmas week are
cancelled and held a week earlier instead, a one-off meeting outside the
series. The next meeting is scheduled with the agenda
``meetings.selectors.agenda_proposals`` proposes, not yet published; the
ones after it have no agenda yet.

Each month the MDT discusses some 20 to 40 people, about a third of them
new; most are discussed again, a few times, before the MDT hands them over
to their clinical lead (DISCUSSIONS_BY_TIER). Who is discussed when follows
the register and the plans: a person's first discussion (a new referral) is
soon after their referral was accepted, or at the meeting nearest the day
the chair ratified their first plan, and that discussion carries the
ratification; each later plan version is ratified at a review the same way;
a person re-listed comes back at the next meeting, one not reached is
carried forward to it. People whose episode was stepped down or discharged
have that outcome at the last meeting before it ended; people who died were
last discussed, as end-of-life care, before they died; people still on the
caseload continue, are re-listed or escalated. Referrals awaiting triage,
and accepted people waiting for their first MDT, are not discussed (the
next agenda proposes the accepted ones). The meetings are worked out one at
a time, each agenda evened out as a navigator would: new people introduced
a meeting sooner or later, reviews brought forward or left to wait, within
what a month's meetings can discuss (``_NetworkYear._visits``).

Past-dated rows cannot go through ``meetings.services`` (they refuse past
dates and outcomes outside a meeting in progress), so they are written in
bulk as the services would have left them: agenda positions 1..n, the
meeting's revision raised once per item added, items not reached marked so
and without an outcome, started/closed times and who closed it, and each
row dated when it would have been written. Everything is decided from a
fixed seed, the network's code and each person's NHS number; a network that
has meetings already is left alone.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone

from careplans.models import Assessment, CarePlan
from mdtcare.accounts.models import Membership, Network, Organisation, Profession, User
from meetings.models import (
    Action,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Discussion,
    Meeting,
    MeetingSeries,
)
from meetings.selectors import agenda_proposals
from patients.models import EntryStatus, PrimaryNeed, RegisterEntry

SEED = 20260301
# Back to the first referrals (mdtcare/core/demo.py: REFERRAL_DAYS), so that
# the last 12 whole months come after the first months' build-up.
HISTORY = dt.timedelta(weeks=88)
AHEAD = dt.timedelta(weeks=9)
FORTNIGHT = dt.timedelta(weeks=2)
TEAMS_LINK = "Teams link in the invitation"


@dataclass(frozen=True)
class _Arrangements:
    """How a network's MDT meets. ``anchor`` is one of its meeting days: the
    others are whole fortnights away from it."""

    anchor: dt.date
    starts_at: dt.time
    ends_at: dt.time
    venues: tuple[str, ...]
    # Shares of hybrid and teleconference meetings; the rest face to face.
    hybrid: float = 0.0
    teleconference: float = 0.0


# North meets on Tuesdays at the chair's practice, South on Thursdays at two
# practices in turn. North starts at 13:00: the browser test of a whole
# meeting schedules its own North meetings at 12:30, today and in 14 days.
ARRANGEMENTS = {
    "north": _Arrangements(
        anchor=dt.date(2026, 3, 3),
        starts_at=dt.time(13, 0),
        ends_at=dt.time(14, 30),
        venues=("Riverside Medical Centre, first-floor meeting room",),
        hybrid=0.3,
    ),
    "south": _Arrangements(
        anchor=dt.date(2026, 3, 5),
        starts_at=dt.time(12, 30),
        ends_at=dt.time(14, 0),
        venues=("Harbour Lane Surgery, meeting room 1", "Meadowbank Practice, the library"),
        hybrid=0.15,
        teleconference=0.25,
    ),
}
OTHER_NETWORKS = _Arrangements(
    anchor=dt.date(2026, 3, 4),
    starts_at=dt.time(12, 30),
    ends_at=dt.time(14, 0),
    venues=("",),
    teleconference=1.0,
)

# The bank holidays on a fixed date: a meeting that falls on one, or in
# Christmas week, is cancelled and held a week earlier instead (a one-off
# meeting), with the reviews due at it.
BANK_HOLIDAYS = {(12, 25): "Christmas Day", (12, 26): "Boxing Day", (1, 1): "New Year's Day"}

Kind = Organisation.Type
# Guests from partner organisations who come to a network's MDT without
# being members of it (names made up): name, profession, organisation type,
# how often they come.
GUESTS = {
    "north": [
        ("Bernadette Hollis", Profession.MENTAL_HEALTH_PRACTITIONER, Kind.MENTAL_HEALTH_TRUST, 0.3),
        ("Owen Lathbury", Profession.SOCIAL_WORKER, Kind.LOCAL_AUTHORITY, 0.25),
        ("Marian Teague", Profession.DISTRICT_NURSE, Kind.COMMUNITY_TRUST, 0.2),
    ],
    "south": [
        ("Janet Ellery", Profession.COMMUNITY_MATRON, Kind.COMMUNITY_TRUST, 0.9),
        ("Marcus Webb", Profession.DISTRICT_NURSE, Kind.COMMUNITY_TRUST, 0.6),
        ("Aisha Karim", Profession.PHARMACIST, Kind.GP_PRACTICE, 0.5),
        ("Colin Brereton", Profession.MENTAL_HEALTH_PRACTITIONER, Kind.MENTAL_HEALTH_TRUST, 0.5),
        ("Ruth Oyelaran", Profession.VOLUNTARY_SECTOR_NAVIGATOR, Kind.VOLUNTARY_ORGANISATION, 0.4),
        ("Gareth Pryce", Profession.OCCUPATIONAL_THERAPIST, Kind.COMMUNITY_TRUST, 0.3),
    ],
}

# How often a person on the caseload is re-listed at the next meeting, by
# tier (3 is the most complex), and how often the MDT escalates.
RELIST_BY_TIER = {1: 0.2, 2: 0.28, 3: 0.38}
ESCALATE = 0.07
NOT_REACHED = 0.03  # of the people on an agenda of more than OVERRUNS_BEYOND
OVERRUNS_BEYOND = 12
# Nobody more is re-listed once the next agenda has this many who cannot
# move (re-listed, carried forward, new, plans to ratify, episodes to close).
RELISTED_AT_MOST = 12
# How many times the MDT discusses a person before it hands them over to
# their clinical lead, who reviews the plan with them (back to the MDT only
# if things change), by tier; about a quarter need only the one discussion.
# People whose episode ends are discussed once more, to close it.
DISCUSSIONS_BY_TIER = {
    1: (1, 1, 2, 3, 4, 5, 6, 8),
    2: (1, 1, 3, 4, 5, 6, 7, 8),
    3: (1, 1, 3, 4, 5, 6, 8, 10),
}
SETTLED = (
    "Plan agreed. The clinical lead reviews it with {them} at the interval it sets; back to "
    "the MDT only if things change."
)
HANDED_OVER = " The clinical lead reviews it with {them}; back to the MDT only if things change."
# How many people a month's meetings discuss, as the navigator plans the
# agendas: for each new person, PER_NEW_PERSON (somewhere between the two),
# from MONTH_LEAST to MONTH_MOST (and 10 to 18 a meeting). Beyond that, the
# reviews due latest wait a fortnight (after MOST_WAITED, the clinical lead
# reviews the person instead); short of it, reviews due by the meeting after
# next come forward. New people, re-listed ones, plans to ratify and
# episodes to close do not move, but the chair may ratify a later plan
# version outside a full meeting.
PER_NEW_PERSON = (2.7, 3.3)
MONTH_LEAST, MONTH_MOST = 21, 36  # 20 for a month with one meeting
MOST_WAITED = dt.timedelta(weeks=4)
# New people a month introduces, by how many meetings it has: fewer, and
# some due at the next meetings come forward; more, and some wait
# (``_even_out_new``).
NEW_PER_MONTH = {1: (5, 8), 2: (6, 10), 3: (9, 13)}
# Without a ratified plan to set it, the review interval in weeks.
REVIEW_WEEKS = [4, 4, 6, 6, 8, 12]

REASON_ORDER = {
    AgendaItem.Reason.CARRIED_FORWARD: 0,
    AgendaItem.Reason.URGENT: 1,
    AgendaItem.Reason.RELISTED: 2,
    AgendaItem.Reason.REVIEW_DUE: 3,
    AgendaItem.Reason.NEW_REFERRAL: 4,
}

# --- what is said and decided ---------------------------------------------------------------

REVIEW_SUMMARIES = [
    "Managing at home with the support in place; no admissions since the last review.",
    "One A&E attendance with a chest infection, home the same day; used the rescue pack early "
    "this time.",
    "Another fall last month without injury; the occupational therapist has fitted rails and "
    "{they} now wears a pendant alarm.",
    "Care package up to four calls a day; the family say it is working.",
    "Medication review done: two tablets stopped and a blister pack started; fewer dizzy spells.",
    "{Their} carer is tired and has asked about respite; the carer's assessment is booked.",
    "Breathless on the stairs again and ankles more swollen; the diuretic was increased last week.",
    "Mood better since the befriender started visiting; still not going out much on {their} own.",
    "Memory clinic letter back: mild dementia; {they} and {their} family have talked it through.",
    "Back at the lunch club on Thursdays with the community transport; says {they} feels more "
    "like {them}self.",
]
RELIST_SUMMARIES = [
    "Waiting for the {thing}; not enough to decide on today.",
    "Seen by the matron this week; the {thing} is not back yet.",
    "Things changed since the agenda went out; the {thing} is booked for next week.",
]
RELIST_THINGS = [
    "occupational therapy home assessment",
    "memory clinic letter",
    "echocardiogram result",
    "social care assessment",
    "medication review",
    "falls clinic assessment",
]
CHECKS = [
    "the care package has started",
    "the rescue pack is in the house",
    "the pendant alarm is fitted",
    "the befriender has been",
    "the medicines are in a blister pack",
]
ESCALATIONS = [
    ("Two admissions in a month and struggling at night.", "community rapid-response team"),
    ("Low mood, not eating and has stopped answering the door.", "community mental health team"),
    ("Bruising noticed by the carers; safeguarding concern raised.", "adult social care duty team"),
    ("Weight loss and more pain; may be nearing the end of life.", "hospice at home team"),
]
DECISIONS = {
    Discussion.Outcome.CONTINUE: [
        "Continue with the plan; review at the MDT in {weeks} weeks.",
        "No change to the plan. Review in {weeks} weeks, sooner if anything changes.",
        "Support stays as it is; the navigator lists {them} for review in {weeks} weeks.",
    ],
    Discussion.Outcome.RELIST: ["Re-list at the next MDT with the {thing}."],
    Discussion.Outcome.ESCALATE: [
        "Escalated to the {service} today; review at the MDT in {weeks} weeks.",
    ],
}
FINAL = {
    EntryStatus.STEPPED_DOWN: (
        Discussion.Outcome.STEP_DOWN,
        "Goals met and managing well; {they} and {their} family agree.",
        "Step down to the practice team, who carry on; the plan stays on the record and the "
        "practice can refer again at any time.",
    ),
    EntryStatus.DISCHARGED: (
        Discussion.Outcome.DISCHARGE,
        "Moving into a care home out of area next week; the family have found a place near "
        "{their} son.",
        "Discharge from the MDT; hand over to the new practice and the care home with a copy "
        "of the plan.",
    ),
    EntryStatus.DIED: (
        Discussion.Outcome.CONTINUE,
        "Deteriorating over the last fortnight: sleeping most of the day and eating little. "
        "{They} wants to stay at home.",
        "End-of-life care at home: DNACPR in place, anticipatory medicines prescribed; the "
        "district nurses lead with the hospice at home team; daily contact with the family.",
    ),
}
COMPLETION_NOTES = [
    "Done.",
    "Done; letter on the record.",
    "Seen at home; all in place.",
    "Referral accepted; first visit booked.",
    "Done; the family know.",
    "Done; see the notes in the practice record.",
]
# What an action is, by who does it: (what, weeks to do it in).
ACTIONS = {
    Profession.GP: [
        ("Review the medicines and repeat the bloods (kidney function, full blood count)", 2),
        ("Talk through treatment escalation and DNACPR with {them} and the family", 3),
        ("Write to the heart failure clinic about the diuretic dose", 1),
        ("Refer to the memory clinic", 2),
    ],
    Profession.COMMUNITY_MATRON: [
        ("Home visit to review breathlessness and check the rescue pack", 1),
        ("Re-assessment at home: mood, falls and function", 4),
        ("Update the care plan after the visit and propose it for the MDT", 3),
    ],
    Profession.CARE_NAVIGATOR: [
        ("Let {them} and the family know the outcome of the MDT", 1),
        ("Send the updated plan to {them} and the practice", 2),
        ("Chase the hospital discharge letter", 1),
    ],
    Profession.DISTRICT_NURSE: [
        ("Weekly visits for the leg dressings; report back at the review", 6),
        ("Pressure area check and a pressure-relieving mattress", 2),
    ],
    Profession.PRACTICE_NURSE: [
        ("COPD review and a written self-management plan", 4),
        ("Diabetes review: HbA1c and a foot check", 4),
        ("Flu and pneumococcal vaccines at home", 3),
    ],
    Profession.SOCIAL_WORKER: [
        ("Care Act assessment", 4),
        ("Review the care package: add a tea-time call", 2),
        ("Carer's assessment for the main carer", 4),
    ],
    Profession.MENTAL_HEALTH_PRACTITIONER: [
        ("Mood review at home and repeat the PHQ-9", 3),
        ("Memory assessment and referral to the memory service", 4),
    ],
    Profession.PHARMACIST: [
        ("Structured medication review", 3),
        ("Blister pack and a medicines chart with the community pharmacy", 2),
    ],
    Profession.GERIATRICIAN: [
        ("Comprehensive geriatric assessment in the frailty clinic", 6),
        ("Lying and standing blood pressure; review the medicines that add to falls", 3),
    ],
    Profession.OCCUPATIONAL_THERAPIST: [
        ("Home assessment: grab rails, a perching stool and a raised toilet seat", 3),
        ("Pendant alarm and a key safe", 2),
    ],
    Profession.PHYSIOTHERAPIST: [
        ("Strength and balance programme at home, six weeks", 6),
        ("Walking aid assessment", 2),
    ],
    Profession.VOLUNTARY_SECTOR_NAVIGATOR: [
        ("Befriending referral", 3),
        ("Community transport to the lunch club", 2),
        ("Benefits check: help with the Attendance Allowance claim", 4),
    ],
}
# Who the MDT turns to first, by the person's primary need.
PROFESSIONS_BY_NEED = {
    PrimaryNeed.PHYSICAL_HEALTH: [
        Profession.GP,
        Profession.COMMUNITY_MATRON,
        Profession.PRACTICE_NURSE,
        Profession.PHARMACIST,
        Profession.DISTRICT_NURSE,
    ],
    PrimaryNeed.FRAILTY: [
        Profession.OCCUPATIONAL_THERAPIST,
        Profession.PHYSIOTHERAPIST,
        Profession.GERIATRICIAN,
        Profession.COMMUNITY_MATRON,
        Profession.PHARMACIST,
    ],
    PrimaryNeed.MENTAL_HEALTH: [
        Profession.MENTAL_HEALTH_PRACTITIONER,
        Profession.VOLUNTARY_SECTOR_NAVIGATOR,
        Profession.GP,
    ],
    PrimaryNeed.SOCIAL_CARE: [
        Profession.SOCIAL_WORKER,
        Profession.VOLUNTARY_SECTOR_NAVIGATOR,
        Profession.OCCUPATIONAL_THERAPIST,
    ],
    PrimaryNeed.END_OF_LIFE: [Profession.GP, Profession.DISTRICT_NURSE],
    PrimaryNeed.OTHER: [Profession.CARE_NAVIGATOR, Profession.GP, Profession.SOCIAL_WORKER],
}
# The team that owns an action when no member of the network has the
# profession: an organisation of that type (a practice: the person's own).
TEAMS = {
    Profession.GP: Kind.GP_PRACTICE,
    Profession.PRACTICE_NURSE: Kind.GP_PRACTICE,
    Profession.PHARMACIST: Kind.GP_PRACTICE,
    Profession.COMMUNITY_MATRON: Kind.COMMUNITY_TRUST,
    Profession.DISTRICT_NURSE: Kind.COMMUNITY_TRUST,
    Profession.OCCUPATIONAL_THERAPIST: Kind.COMMUNITY_TRUST,
    Profession.PHYSIOTHERAPIST: Kind.COMMUNITY_TRUST,
    Profession.SOCIAL_WORKER: Kind.LOCAL_AUTHORITY,
    Profession.MENTAL_HEALTH_PRACTITIONER: Kind.MENTAL_HEALTH_TRUST,
    Profession.GERIATRICIAN: Kind.ACUTE_TRUST,
    Profession.VOLUNTARY_SECTOR_NAVIGATOR: Kind.VOLUNTARY_ORGANISATION,
}
# Mary Okafor's first MDT (docs: EXAMPLE.md): the actions, who does them
# and how many days after the meeting they are due.
MARYS_ACTIONS = [
    ("Home assessment and grab rails", Profession.OCCUPATIONAL_THERAPIST, 17),
    ("Review of her care package", Profession.SOCIAL_WORKER, 28),
    ("Befriending, and transport to church on Sundays", Profession.VOLUNTARY_SECTOR_NAVIGATOR, 28),
    ("COPD rescue pack and self-management plan", Profession.PRACTICE_NURSE, 7),
    ("Medication review", Profession.PHARMACIST, 14),
]


def meetings_load(*, today: dt.date) -> int:
    """Give each network with a GP chair and a navigator, and no meetings
    yet, its year of meetings (see the module's docstring). Returns how many
    meetings were made."""
    made = 0
    for network in Network.objects.order_by("code"):
        if Meeting.objects.filter(network=network).exists():
            continue
        team = _Team.of(network)
        if team is None:
            continue
        made += _NetworkYear(network, team, today).load()
    return made


# --- who is in the MDT ------------------------------------------------------------------------


@dataclass
class _Team:
    chair: User
    navigator: User
    members: list[User]  # invited to every meeting: everyone but the admins
    by_profession: dict[str, list[User]]
    teams: dict[str, Organisation]  # an organisation of each type

    @classmethod
    def of(cls, network: Network) -> _Team | None:
        memberships = list(
            Membership.objects.filter(network=network)
            .select_related("user__organisation")
            .order_by("user__username")
        )
        chairs = [m.user for m in memberships if m.role == Membership.Role.GP_CHAIR]
        navigators = [m.user for m in memberships if m.role == Membership.Role.NAVIGATOR]
        if not chairs or not navigators:
            return None
        members = [m.user for m in memberships if m.role != Membership.Role.ADMIN]
        by_profession: dict[str, list[User]] = {}
        for user in members:
            by_profession.setdefault(user.profession, []).append(user)
        teams: dict[str, Organisation] = {}
        for organisation in Organisation.objects.exclude(
            type=Organisation.Type.GP_PRACTICE
        ).order_by("name"):
            teams.setdefault(organisation.type, organisation)
        return cls(chairs[0], navigators[0], members, by_profession, teams)


# --- the calendar -----------------------------------------------------------------------------


def _fortnights(anchor: dt.date, start: dt.date, end: dt.date) -> list[dt.date]:
    """The days from ``start`` to ``end`` a whole number of fortnights from ``anchor``."""
    first = start + dt.timedelta(days=(anchor - start).days % 14)
    return [first + FORTNIGHT * n for n in range((end - first).days // 14 + 1)]


def _cancelled(
    dates: list[dt.date], today: dt.date, rng: random.Random
) -> dict[int, tuple[str, bool]]:
    """The past meetings cancelled, with why and whether a meeting was held
    a week earlier instead, with the reviews due: each on a bank holiday or
    in Christmas week (one was); in a series without either, one the chair
    could not make, at short notice (none was)."""
    past = [index for index, day in enumerate(dates) if day < today]
    if len(past) < 4:
        return {}
    cancelled = {}
    for index in past[1:-1]:
        day = dates[index]
        holiday = BANK_HOLIDAYS.get((day.month, day.day))
        before = day - dt.timedelta(weeks=1)
        instead = f"held a week earlier, on {before:%A} {before.day} {before:%B}"
        if holiday:
            cancelled[index] = (
                f"Bank holiday ({holiday}): {instead}, with the reviews due; the rest are on "
                "the next agenda",
                True,
            )
        elif (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 2):
            cancelled[index] = (
                f"Christmas week, too many of the team on leave: {instead}, with the reviews "
                "due; the rest moved to the next meeting",
                True,
            )
    if cancelled:
        return cancelled
    return {
        rng.choice(past[1:-1]): (
            "GP chair off sick and no deputy free at short notice; moved to the next meeting",
            False,
        )
    }


# --- one person's discussions -----------------------------------------------------------------


@dataclass
class _Visit:
    """A person on one past meeting's agenda, and what came of it."""

    meeting: int  # index into the held meetings
    entry: RegisterEntry
    reason: str
    outcome: str = ""  # "" when not reached
    plan: CarePlan | None = None  # ratified in this discussion
    next_review_on: dt.date | None = None
    check_in_on: dt.date | None = None  # sooner than the plan's review
    summary: str = ""
    decisions: str = ""
    first: bool = False
    settled: bool = False  # no need to come back to the MDT
    final: bool = False  # the last before the episode ended
    detail: str = ""  # what the person was escalated to
    follow_up: str = ""  # what the MDT waits for, when it re-lists them
    actions: list[tuple[str, str, int, str]] = field(default_factory=list)


@dataclass
class _Due:
    """When a person is next due at the MDT: the held meeting (an index), why,
    and since when. To even out the agendas a review can move (``movable``)
    and a new person be introduced at another meeting (``early``: all but
    Mary Okafor); re-listed people, those carried forward, plans to ratify
    and episodes to close stay where they are."""

    meeting: int
    reason: str
    since: dt.date
    movable: bool = False
    early: bool = False  # a new person who can be introduced at another meeting


class _Person:
    """Works out when one person was discussed and what was decided, one
    meeting at a time (``start``, then ``attend`` each meeting they are on
    the agenda of)."""

    def __init__(self, entry, *, held, plans, assessment, rng):
        self.entry = entry
        self.patient = entry.patient
        self.held = held
        self.rng = rng
        self.assessment = assessment
        self.words = _pronouns(self.patient)
        self.tier = entry.tier or 2
        self.plans = plans
        self.visits: list[_Visit] = []
        self.targets: dict[int, CarePlan] = {}  # the meetings that ratify a plan version
        self.closes = entry.closed_on if entry.status != EntryStatus.ACTIVE else None
        self.first_allowed = self.at_or_after(entry.decided_on + dt.timedelta(days=3))
        self.last_allowed = (
            bisect.bisect_right(held, self.closes) - 1 if self.closes else len(held) - 1
        )
        self.budget = 1  # discussions before the MDT hands them over (start sets it)
        self.discussed = 0  # so far, the one that closes the episode aside

    def at_or_after(self, day: dt.date) -> int:
        return bisect.bisect_left(self.held, day)

    def _ratified_at(self, plan, low: int, high: int) -> int | None:
        """The meeting nearest the day the chair ratified ``plan``, within a
        week of it (Mary Okafor's, within a fortnight: her MDT is the worked
        example's) and not before it was proposed."""
        ratified_on = timezone.localdate(plan.ratified_at)
        proposed_on = timezone.localdate(plan.proposed_at) if plan.proposed_at else ratified_on
        within = 13 if _is_mary(self.patient) else 7
        candidates = [
            index
            for index in range(max(low, 0), min(high, len(self.held) - 1) + 1)
            if self.held[index] >= proposed_on
            and abs((self.held[index] - ratified_on).days) <= within
        ]
        return min(candidates, key=lambda i: abs((self.held[i] - ratified_on).days), default=None)

    def start(self) -> _Due | None:
        """The person's first discussion (a new referral): soon after their
        referral was accepted and they were assessed, or at the meeting that
        ratified their first plan; None if there is none before the
        episode ended."""
        entry, rng = self.entry, self.rng
        if self.first_allowed > self.last_allowed:
            return None
        # Each ratified version, at the meeting nearest its ratification.
        for plan in self.plans:
            index = self._ratified_at(plan, self.first_allowed, self.last_allowed)
            if index is not None:
                self.targets[index] = plan  # a later version wins a shared meeting
        self.budget = rng.choice(DISCUSSIONS_BY_TIER.get(self.tier, DISCUSSIONS_BY_TIER[2]))
        ready = entry.decided_on + dt.timedelta(days=rng.randint(7, 21))
        if self.assessment is not None:
            ready = max(ready, self.assessment.assessed_on + dt.timedelta(days=2))
        index = self.at_or_after(ready)
        if self.targets:
            index = min(self.targets)
        elif self.closes is not None:
            index = min(index, self.last_allowed)  # discussed before the episode ended
        early = not _is_mary(self.patient)  # her first MDT is the worked example's
        return _Due(index, AgendaItem.Reason.NEW_REFERRAL, ready, early=early)

    def can_move(self, due: _Due, to: int) -> bool:
        """Whether a review due at one meeting can be at meeting ``to``:
        after their last discussion, not past a plan to ratify or the end
        of their episode."""
        if not due.movable:
            return False
        after = self.visits[-1].meeting if self.visits else self.first_allowed - 1
        # Past the last meeting held, a review is the next agenda's.
        end = self.last_allowed if self.closes is not None else len(self.held)
        return after < to <= min([index for index in self.targets if index > after] + [end])

    def wait(self, due: _Due, index: int) -> _Due | None:
        """A review at meeting ``index`` that waits for the next. After
        MOST_WAITED, the clinical lead reviews the person instead (an
        episode that ends still closes at the MDT)."""
        if self.held[index] - due.since < MOST_WAITED:
            return dataclasses.replace(due, meeting=index + 1)
        if self.closes is not None and self.last_allowed > index:
            return _Due(self.last_allowed, AgendaItem.Reason.REVIEW_DUE, due.since)
        return None

    def can_unlink(self, due: _Due, index: int) -> bool:
        """Whether the plan version meeting ``index`` would ratify at a review
        can be ratified outside it: a later version, not at the end of the
        episode."""
        return (
            due.reason == AgendaItem.Reason.REVIEW_DUE
            and bool(self.visits)
            and index in self.targets
            and index != self.last_allowed
        )

    def unlink(self, due: _Due, index: int) -> _Due | None:
        """The plan version ratified outside meeting ``index``: the person
        waits for the next meeting as a review (``wait``)."""
        del self.targets[index]
        return self.wait(dataclasses.replace(due, movable=True), index)

    def attend(self, due: _Due, *, overrun: bool = True, relist: bool = True) -> _Due | None:
        """The person on the agenda ``due`` says: what came of it, and when
        they are due next (None: not again). Now and then a meeting that
        may ``overrun`` does not reach them; the MDT may ``relist`` them
        unless the next agenda is full."""
        index = due.meeting
        final = self.closes is not None and index == self.last_allowed
        plan = self.targets.get(index) if not final else None
        first = not any(each.outcome for each in self.visits)  # the first discussion
        visit = _Visit(index, self.entry, due.reason, first=first, final=final, plan=plan)
        self.visits.append(visit)
        if not final and plan is None and self.rng.random() < NOT_REACHED and overrun:
            return _Due(index + 1, AgendaItem.Reason.CARRIED_FORWARD, due.since)
        later = [each for each in self.targets if each > index]
        self.discussed += not final
        # The last of an open episode's discussions hands the person over.
        last = not final and self.closes is None and self.discussed >= self.budget
        review_on = self.held[min(later)] if later else None
        self._decide(visit, review_on=review_on, last=last, relist=relist)
        return self._next(visit, later)

    def _decide(
        self, visit: _Visit, *, review_on: dt.date | None, last: bool, relist: bool = True
    ) -> None:
        """The outcome, summary and decisions. ``review_on`` is the meeting
        that ratifies the next plan version, when there is one; after the
        ``last`` discussion the clinical lead carries on without the MDT."""
        rng, words = self.rng, self.words
        day = self.held[visit.meeting]
        weeks = rng.choice(REVIEW_WEEKS)
        if review_on is not None:
            weeks = max(1, round((review_on - day).days / 7))
        summary = self._opening(visit, day)
        if visit.final:
            visit.outcome, said, decided = FINAL[self.entry.status]
            if self.entry.status == EntryStatus.DIED and rng.random() < 0.3:
                visit.outcome = Discussion.Outcome.ESCALATE
            visit.summary = _join(summary, said.format(**words))
            visit.decisions = decided.format(**words)
            return
        relisting = relist
        relist = RELIST_BY_TIER.get(self.tier, 0.25) if relisting else 0.0
        if visit.plan is not None:
            plan = visit.plan
            visit.outcome = Discussion.Outcome.CONTINUE
            visit.next_review_on = plan.next_review_on
            lead = plan.clinical_lead or self.entry.clinical_lead
            visit.summary = _join(
                summary, "" if visit.first else rng.choice(REVIEW_SUMMARIES).format(**words)
            )
            visit.decisions = (
                f"Care and support plan (version {plan.number}) agreed and ratified. "
                + (f"Clinical lead: {lead.get_full_name()}. " if lead else "")
                + f"Review in {plan.review_interval_weeks} weeks."
            )
            if last:
                visit.settled = True
                visit.decisions += HANDED_OVER.format(**words)
            elif plan.review_interval_weeks >= 8 and rng.random() < 0.6:
                weeks = rng.choice([4, 4, 6])
                visit.check_in_on = day + dt.timedelta(weeks=weeks)
                visit.decisions += f" Check-in at the MDT in {weeks} weeks."
            elif rng.random() < relist and not _is_mary(self.patient):
                # Agreed, but the MDT wants to hear the support has started.
                check = rng.choice(CHECKS)
                visit.outcome = Discussion.Outcome.RELIST
                visit.decisions += f" Re-list at the next MDT to check that {check}."
                visit.follow_up = f"Check that {check}; report back at the next MDT"
            return
        roll = rng.random()
        relist += 0.1 if visit.first and relisting else 0
        if last:
            visit.outcome = Discussion.Outcome.CONTINUE
            visit.summary = _join(
                summary, "" if visit.first else rng.choice(REVIEW_SUMMARIES).format(**words)
            )
            visit.settled = True
            visit.decisions = SETTLED.format(**words)
        elif roll < ESCALATE and not visit.first:
            said, service = rng.choice(ESCALATIONS)
            visit.outcome = Discussion.Outcome.ESCALATE
            visit.detail = service
            weeks = rng.choice([2, 3, 4])
            visit.summary = _join(summary, said)
            visit.decisions = rng.choice(DECISIONS[visit.outcome]).format(
                service=service, weeks=weeks, **words
            )
            visit.next_review_on = day + dt.timedelta(weeks=weeks)
        elif roll < ESCALATE + relist:
            thing = rng.choice(RELIST_THINGS)
            visit.outcome = Discussion.Outcome.RELIST
            visit.summary = _join(summary, rng.choice(RELIST_SUMMARIES).format(thing=thing))
            visit.decisions = rng.choice(DECISIONS[visit.outcome]).format(thing=thing)
            visit.follow_up = f"Bring the {thing} back to the next MDT"
        else:
            visit.outcome = Discussion.Outcome.CONTINUE
            visit.summary = _join(
                summary, "" if visit.first else rng.choice(REVIEW_SUMMARIES).format(**words)
            )
            visit.decisions = rng.choice(DECISIONS[visit.outcome]).format(weeks=weeks, **words)
            visit.next_review_on = review_on or day + dt.timedelta(weeks=weeks)

    def _opening(self, visit: _Visit, day: dt.date) -> str:
        """A new person is introduced: why they were referred and, once
        assessed, what the assessment found and what matters to them."""
        if not visit.first:
            return ""
        entry = self.entry
        text = (
            f"New to the MDT: referred on {entry.referred_on:%d/%m/%Y} "
            f"({entry.get_source_display()}). {entry.reason}."
        )
        assessment = self.assessment
        if assessment is not None and assessment.assessed_on < day:
            scores = assessment.scores or {}
            found = []
            if "cfs" in scores:
                found.append(f"Clinical Frailty Scale {scores['cfs']['total']}")
            if "barthel" in scores:
                found.append(f"Barthel {scores['barthel']['total']}/20")
            text += f" Holistic assessment at home on {assessment.assessed_on:%d/%m/%Y}"
            text += f" ({', '.join(found)})." if found else "."
            statements = assessment.answers.get("what_matters", {}).get("i_statements", [])
            if statements:
                text += f" What matters to {self.words['them']}: \u201c{statements[0]}\u201d."
        return text

    def _next(self, visit: _Visit, later: list[int]) -> _Due | None:
        """When the person is due back, and why."""
        following = visit.meeting + 1
        day = self.held[visit.meeting]
        if visit.outcome == Discussion.Outcome.RELIST:
            return _Due(following, AgendaItem.Reason.RELISTED, day)
        if visit.final or visit.settled:
            return None
        closes = self.closes
        if closes is not None and self.discussed >= self.budget:
            # Back only to close the episode.
            return _Due(self.last_allowed, AgendaItem.Reason.REVIEW_DUE, closes)
        back_on = visit.check_in_on or visit.next_review_on or day
        index = max(self.at_or_after(back_on), following)
        if later:
            index = min(index, min(later))
        elif self.targets and closes is None:
            # Back for a check-in before the plan's own review; not at or
            # after it: that review has not come round yet, or the team is
            # behind with it (the plans show it overdue).
            plan = self.targets[max(self.targets)]
            if index >= len(self.held) or self.held[index] >= plan.next_review_on:
                return None
        reason = AgendaItem.Reason.REVIEW_DUE
        if visit.outcome == Discussion.Outcome.ESCALATE and self.rng.random() < 0.3:
            reason = AgendaItem.Reason.URGENT
        if closes is not None:
            index = min(index, self.last_allowed)  # in time for the decision to close
        movable = (
            reason == AgendaItem.Reason.REVIEW_DUE
            and index not in self.targets
            and not (closes is not None and index == self.last_allowed)
        )
        return _Due(index, reason, back_on, movable)


def _is_mary(patient) -> bool:
    """Mary Okafor, whose journey the worked example follows (EXAMPLE.md).
    Her first discussion is the example's MDT, but does not point at the
    plan it ratified: tests of the plans' top-up delete her plan and load it
    again, which a discussion pointing at it would refuse (PROTECT)."""
    return (patient.given_name, patient.family_name) == ("Mary", "Okafor")


def _pronouns(patient) -> dict[str, str]:
    if patient.sex == patient.Sex.MALE:
        words = {"they": "he", "them": "him", "their": "his"}
    else:
        words = {"they": "she", "them": "her", "their": "her"}
    return words | {key.capitalize(): value.capitalize() for key, value in words.items()}


def _weekday_before(day: dt.date, days: int) -> dt.date:
    """``days`` before ``day``, or the Friday before if that is a weekend."""
    before = day - dt.timedelta(days=days)
    return before - dt.timedelta(days=max(0, before.weekday() - 4))


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def _at(day: dt.date, time: dt.time, minutes: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time) + dt.timedelta(minutes=minutes))


@contextlib.contextmanager
def _dated_as_written(*models):
    """Keep the ``created_at`` and ``updated_at`` given to each row: a year
    of meetings was not all written today, and the pre-meeting pack reads
    what happened since a discussion from when it was recorded."""
    fields = [
        model._meta.get_field(name) for model in models for name in ("created_at", "updated_at")
    ]
    saved = [(each, each.auto_now, each.auto_now_add) for each in fields]
    for each in fields:
        each.auto_now = each.auto_now_add = False
    try:
        yield
    finally:
        for each, auto_now, auto_now_add in saved:
            each.auto_now, each.auto_now_add = auto_now, auto_now_add


# --- one network's year -----------------------------------------------------------------------


class _NetworkYear:
    def __init__(self, network: Network, team: _Team, today: dt.date):
        self.network = network
        self.team = team
        self.today = today
        self.how = ARRANGEMENTS.get(network.code, OTHER_NETWORKS)
        self.rng = random.Random(f"{SEED}-meetings-{network.code}")
        self.meetings: list[Meeting] = []
        self.items: list[AgendaItem] = []
        self.discussions: list[Discussion] = []
        self.actions: list[Action] = []
        self.attendance: list[Attendance] = []

    def load(self) -> int:
        """Work out the year, then write it in bulk; returns how many meetings."""
        episodes = list(
            RegisterEntry.objects.filter(
                patient__practice__network=self.network,
                status__in=[
                    EntryStatus.ACTIVE,
                    EntryStatus.STEPPED_DOWN,
                    EntryStatus.DISCHARGED,
                    EntryStatus.DIED,
                ],
                decided_on__isnull=False,
            )
            .select_related("patient__practice", "clinical_lead")
            .order_by("patient__nhs_number")
        )
        if not episodes:
            return 0
        plans, assessments = self._plans_and_assessments(episodes)

        def people(held_dates):
            for entry in episodes:
                yield _Person(
                    entry,
                    held=held_dates,
                    plans=plans.get(entry.pk, []),
                    assessment=assessments.get(entry.patient_id),
                    rng=random.Random(f"{SEED}-meetings-{entry.patient.nhs_number}"),
                )

        # The series starts with the first meeting that had someone to discuss.
        start = max(self.today - HISTORY, min(entry.decided_on for entry in episodes))
        dates = _fortnights(self.how.anchor, start, self.today + AHEAD)
        past = [day for day in dates if day < self.today]
        firsts = [due.meeting for due in map(_Person.start, people(past)) if due is not None]
        firsts = [index for index in firsts if index < len(past)]
        if firsts:
            dates = [day for day in dates if day >= past[min(firsts)]]
        cancelled = _cancelled(dates, self.today, self.rng)
        self._schedule(dates, cancelled)
        held = [m for m in self.meetings if m.status == Meeting.Status.CLOSED]
        brought_forward = [dates[index] for index, (_, early) in cancelled.items() if early]
        visits = self._visits(people([m.date for m in held]), brought_forward)
        self._minutes(held, visits)
        with _dated_as_written(MeetingSeries, Meeting, AgendaItem, Discussion, Attendance, Action):
            self.series.save()
            Meeting.objects.bulk_create(self.meetings)
            Meeting.invited.through.objects.bulk_create(
                Meeting.invited.through(meeting_id=meeting.pk, user_id=user.pk)
                for meeting in self.meetings
                for user in self.team.members
            )
            Attendance.objects.bulk_create(self.attendance)
            AgendaItem.objects.bulk_create(self.items)
            Discussion.objects.bulk_create(self.discussions)
            Action.objects.bulk_create(self.actions)
        self._next_agenda()
        return len(self.meetings)

    # --- meetings ----------------------------------------------------------------------------

    def _schedule(self, dates, cancelled) -> None:
        """The series and its meetings, as the navigator scheduled them three
        weeks before the first; the past ones closed (or cancelled, and then
        perhaps held a week earlier, a one-off meeting)."""
        how, navigator, rng = self.how, self.team.navigator, self.rng
        scheduled_at = _at(dates[0] - dt.timedelta(weeks=3), dt.time(10, 0))
        self.series = MeetingSeries(
            network=self.network,
            frequency=MeetingSeries.Frequency.FORTNIGHTLY,
            first_on=dates[0],
            until=dates[-1],
            created_by=navigator,
            created_at=scheduled_at,
            updated_at=scheduled_at,
        )

        def meeting_on(day, venue, roll, series, created_at):
            meeting = Meeting(
                network=self.network,
                series=series,
                date=day,
                starts_at=how.starts_at,
                ends_at=how.ends_at,
                format=Meeting.Format.FACE_TO_FACE,
                venue=venue,
                chair=self.team.chair,
                created_by=navigator,
                created_at=created_at,
                updated_at=created_at,
            )
            if roll < how.teleconference:
                meeting.format, meeting.venue = Meeting.Format.TELECONFERENCE, ""
                meeting.dial_in = TEAMS_LINK
            elif roll < how.teleconference + how.hybrid:
                meeting.format, meeting.dial_in = Meeting.Format.HYBRID, TEAMS_LINK
            if day < self.today:
                meeting.status = Meeting.Status.CLOSED
                meeting.started_at = _at(day, how.starts_at, rng.randint(0, 6))
                meeting.closed_at = _at(day, how.ends_at, rng.randint(-10, 8))
                meeting.closed_by = self.team.chair
                meeting.updated_at = meeting.closed_at
            return meeting

        for index, day in enumerate(dates):
            venue = how.venues[index % len(how.venues)]
            meeting = meeting_on(day, venue, rng.random(), self.series, scheduled_at)
            if index in cancelled:
                reason, held_before = cancelled[index]
                cancelled_at = _at(day - dt.timedelta(days=rng.randint(14, 28)), dt.time(9))
                meeting.status, meeting.cancel_reason = Meeting.Status.CANCELLED, reason
                meeting.started_at = meeting.closed_at = meeting.closed_by = None
                meeting.updated_at = cancelled_at
                if held_before:
                    earlier = day - dt.timedelta(weeks=1)
                    self.meetings.append(
                        meeting_on(earlier, venue, rng.random(), None, cancelled_at)
                    )
            self.meetings.append(meeting)

    @staticmethod
    def _plans_and_assessments(episodes) -> tuple[dict, dict]:
        """Each episode's ratified plan versions in order, and each person's
        first signed assessment."""
        plans: dict = {}
        for plan in (
            CarePlan.objects.filter(
                entry_id__in=[entry.pk for entry in episodes], ratified_at__isnull=False
            )
            .select_related("clinical_lead")
            .order_by("number")
        ):
            plans.setdefault(plan.entry_id, []).append(plan)
        first_assessment = {}
        for assessment in Assessment.objects.filter(
            patient_id__in=[entry.patient_id for entry in episodes],
            status=Assessment.Status.COMPLETED,
        ).order_by("-assessed_on"):
            first_assessment[assessment.patient_id] = assessment
        return plans, first_assessment

    def _visits(self, people, brought_forward: list[dt.date]) -> dict[int, list[_Visit]]:
        """Everyone's discussions, with the actions agreed, by meeting: the
        meetings in turn, each agenda evened out (``_even_out``) before the
        people on it are discussed."""
        people = list(people)
        held = people[0].held if people else []
        due: dict[int, list[tuple[_Person, _Due]]] = {}
        for person in people:
            first = person.start()
            if first is not None and first.meeting < len(held):
                due.setdefault(first.meeting, []).append((person, first))
        _even_out_new(due, held, brought_forward)
        planned = _month_sizes(held, due, brought_forward, self.rng)
        meetings_left = Counter(_month(day) for day in held)
        for index in range(len(held)):
            month = _month(held[index])
            size = -(-planned[month] // meetings_left[month])  # the rest, shared out
            meetings_left[month] -= 1
            agenda = self._even_out(index, due, held, brought_forward, size)
            # Only a long agenda overruns; the meeting before a holiday gets
            # through its agenda however long.
            overrun = len(agenda) > OVERRUNS_BEYOND and not _before_holiday(
                index, held, brought_forward
            )
            for person, this in agenda:
                # The next agenda has room for only so many who cannot wait.
                fixed = sum(not each.movable for _, each in due.get(index + 1, []))
                after = person.attend(this, overrun=overrun, relist=fixed < RELISTED_AT_MOST)
                planned[month] -= bool(person.visits[-1].outcome)
                if after is not None:  # past the last meeting held: due after today
                    due.setdefault(min(after.meeting, len(held)), []).append((person, after))
        by_meeting: dict[int, list[_Visit]] = {}
        for person in people:
            for visit in person.visits:
                visit.actions = self._agreed(visit, person)
                by_meeting.setdefault(visit.meeting, []).append(visit)
        self._not_reached_last_time(by_meeting, len(held) - 1)
        return by_meeting

    @staticmethod
    def _even_out(index, due, held, brought_forward, size) -> list[tuple[_Person, _Due]]:
        """The agenda of held meeting ``index``, for about ``size`` people.
        Beyond it, the reviews due latest wait for the next meeting
        (``_Person.wait``), and if need be the chair ratifies later plan
        versions outside the meeting. Short of it, the reviews due soonest
        at the next two meetings come forward; before a meeting cancelled
        for a holiday, those due at it first."""
        agenda = due.pop(index, [])

        def movable(pairs, to):
            pairs = [pair for pair in pairs if pair[0].can_move(pair[1], to)]
            return sorted(pairs, key=lambda pair: (pair[1].since, pair[0].patient.nhs_number))

        if len(agenda) > size:
            for person, this in movable(agenda, index + 1)[size - len(agenda) :]:
                agenda.remove((person, this))
                later = person.wait(this, index)
                if later is not None:
                    due.setdefault(later.meeting, []).append((person, later))
            # Still too many: the chair ratifies some new plan versions
            # outside the meeting, and those people wait for their review.
            ratifying = [pair for pair in agenda if pair[0].can_unlink(pair[1], index)]
            ratifying.sort(key=lambda pair: (pair[1].since, pair[0].patient.nhs_number))
            for person, this in ratifying[::-1][: max(len(agenda) - size, 0)]:
                agenda.remove((person, this))
                later = person.unlink(this, index)
                if later is not None:
                    due.setdefault(later.meeting, []).append((person, later))
            return [(person, dataclasses.replace(this, meeting=index)) for person, this in agenda]
        holiday = _before_holiday(index, held, brought_forward)
        # Reviews due by the meeting after next, within four weeks (after a
        # holiday, the one after that).
        reach = 3 if holiday is not None else 2
        ahead = [due.setdefault(index + step, []) for step in range(1, reach + 1)]
        soon = held[index] + dt.timedelta(weeks=6 if holiday else 4)
        coming = movable(
            [pair for pairs in ahead for pair in pairs if pair[1].since <= soon], index
        )
        # Before a holiday, the reviews due at the meeting cancelled first.
        early = [pair for pair in coming if holiday is not None and pair[1].since <= holiday]
        coming = early + [pair for pair in coming if pair not in early]
        for pair in coming[: size - len(agenda)]:
            next(pairs for pairs in ahead if pair in pairs).remove(pair)
            agenda.append(pair)
        return [(person, dataclasses.replace(this, meeting=index)) for person, this in agenda]

    @staticmethod
    def _not_reached_last_time(by_meeting, last: int) -> None:
        """The last meeting ran over: its last person still on the caseload
        was not reached, so the next agenda carries them forward."""
        visits = by_meeting.get(last, [])
        if any(not visit.outcome for visit in visits):
            return
        candidates = [
            visit
            for visit in visits
            if visit.entry.status == EntryStatus.ACTIVE and visit.plan is None
        ]
        if candidates:
            visit = max(candidates, key=_agenda_order)
            visit.outcome, visit.actions, visit.next_review_on = "", [], None

    # --- actions -------------------------------------------------------------------------------

    def _agreed(self, visit: _Visit, person: _Person) -> list[tuple[str, str, int, str]]:
        """The actions agreed in a discussion: (what, the profession of who
        does it, days to do it in, priority)."""
        if not visit.outcome:
            return []
        rng, words = person.rng, person.words
        patient = person.patient
        if visit.first and _is_mary(patient):
            return [(what, who, days, "routine") for what, who, days in MARYS_ACTIONS]
        navigator = Profession.CARE_NAVIGATOR
        if visit.outcome == Discussion.Outcome.STEP_DOWN:
            return [("Write to the practice: stepped down, with the plan", navigator, 7, "routine")]
        if visit.outcome == Discussion.Outcome.DISCHARGE:
            return [
                (
                    "Hand over to the new practice and the care home; send the plan",
                    navigator,
                    7,
                    "high",
                )
            ]
        if visit.final and person.entry.status == EntryStatus.DIED:
            return [
                (
                    "Anticipatory medicines in the house; syringe driver if needed",
                    Profession.DISTRICT_NURSE,
                    7,
                    "urgent",
                ),
                (
                    "Talk with the family about where {they} wants to be cared for".format(**words),
                    Profession.GP,
                    7,
                    "high",
                ),
            ]
        agreed = []
        if visit.outcome == Discussion.Outcome.ESCALATE:
            owner = {
                "community rapid-response team": Profession.COMMUNITY_MATRON,
                "community mental health team": Profession.MENTAL_HEALTH_PRACTITIONER,
                "adult social care duty team": Profession.SOCIAL_WORKER,
                "hospice at home team": Profession.GP,
            }[visit.detail]
            agreed.append((f"Urgent referral to the {visit.detail}", owner, 7, "urgent"))
        elif visit.outcome == Discussion.Outcome.RELIST:
            agreed.append((visit.follow_up, Profession.COMMUNITY_MATRON, 12, "routine"))
        count = rng.choice([0, 1, 1, 1, 2, 2] if agreed else [0, 1, 1, 1, 2, 2, 2, 3])
        need = person.entry.primary_need or PrimaryNeed.OTHER
        professions = PROFESSIONS_BY_NEED.get(need, PROFESSIONS_BY_NEED[PrimaryNeed.OTHER])
        if visit.first and rng.random() < 0.5:
            agreed.append(
                (
                    "Let {them} and the family know the outcome of the MDT".format(**words),
                    navigator,
                    7,
                    "routine",
                )
            )
            count -= 1
        chosen = set()
        for _ in range(max(count, 0)):
            profession = rng.choice(professions + list(ACTIONS))
            what, weeks = rng.choice(ACTIONS[profession])
            if what in chosen:
                continue
            chosen.add(what)
            priority = rng.choice(["routine"] * 8 + ["high"])
            days = 7 * max(1, min(6, weeks + rng.choice([-1, 0, 0, 1, 2])))
            agreed.append((what.format(**words), profession, days, priority))
        return agreed

    def _owner(self, profession: str, patient, rng) -> tuple[User | None, Organisation | None]:
        """A member of the network of that profession, else the team of a
        partner organisation (or the person's practice) that has it, else
        the navigator."""
        if profession == Profession.CARE_NAVIGATOR:
            return self.team.navigator, None
        members = self.team.by_profession.get(profession)
        if members:
            return rng.choice(members), None
        kind = TEAMS.get(profession)
        if kind == Organisation.Type.GP_PRACTICE:
            return None, patient.practice
        if kind in self.team.teams:
            return None, self.team.teams[kind]
        return self.team.navigator, None

    def _action(self, discussion, visit, what, who, days, priority, rng) -> Action:
        """One action as ``action_add`` makes it, then taken as far as it got
        by today: most done on time, some late, a few overdue; those of a
        person whose episode ended since are done or cancelled."""
        meeting = discussion.item.meeting
        entry = visit.entry
        owner, organisation = self._owner(who, entry.patient, rng)
        if priority == "urgent":
            days = min(days, 7)
        due_on = meeting.date + dt.timedelta(days=days)
        created_at = discussion.created_at + dt.timedelta(minutes=1)
        action = Action(
            patient=entry.patient,
            what=what[:500],
            owner=owner,
            owner_organisation=organisation,
            due_on=due_on,
            priority=priority,
            source=Action.Source.DISCUSSION,
            discussion=discussion,
            created_by=self.team.chair,
            created_at=created_at,
            updated_at=created_at,
        )
        roll = rng.random()
        done_on = None
        if due_on < self.today:
            if roll < 0.88:
                done_on = meeting.date + dt.timedelta(days=rng.randint(1, days))
            elif roll < 0.95:
                done_on = due_on + dt.timedelta(days=rng.randint(1, 12))
            elif roll < 0.97:
                action.status = Action.Status.IN_PROGRESS
        else:
            span = (self.today - meeting.date).days
            if span > 1 and roll < 0.45 * span / days:
                done_on = meeting.date + dt.timedelta(days=rng.randint(1, span - 1))
            elif roll < 0.6:
                action.status = Action.Status.IN_PROGRESS
        ended = entry.closed_on if entry.status != EntryStatus.ACTIVE else None
        if visit.outcome in (Discussion.Outcome.STEP_DOWN, Discussion.Outcome.DISCHARGE):
            # The handover that goes with closing the episode is always done.
            done_on = min(meeting.date + dt.timedelta(days=rng.randint(1, days)), self.today)
            done_on = max(done_on - dt.timedelta(days=1), meeting.date + dt.timedelta(days=1))
        elif ended is not None and ended < self.today and (done_on is None or done_on > ended):
            action.status = Action.Status.CANCELLED
            action.completion_note = {
                EntryStatus.STEPPED_DOWN: "No longer needed: stepped down from the MDT",
                EntryStatus.DISCHARGED: "No longer needed: moved out of area",
                EntryStatus.DIED: "No longer needed: died",
            }[entry.status]
            action.updated_at = action.cancelled_at = _at(ended, dt.time(11, 0))
            return action
        if done_on is not None and done_on < self.today:
            action.status = Action.Status.DONE
            action.completed_at = _at(done_on, dt.time(9, 0), rng.randint(0, 8 * 60))
            action.completed_by = owner or self.team.navigator
            action.completion_note = rng.choice(COMPLETION_NOTES)
            action.updated_at = action.completed_at
        elif action.status == Action.Status.IN_PROGRESS:
            started = min(meeting.date + dt.timedelta(days=rng.randint(1, 7)), self.today)
            action.updated_at = max(created_at, _at(started, dt.time(10, 0)))
        return action

    # --- the minutes ---------------------------------------------------------------------------

    def _minutes(self, held: list[Meeting], visits: dict[int, list[_Visit]]) -> None:
        team, chair, navigator = self.team, self.team.chair, self.team.navigator
        guests = GUESTS.get(self.network.code, [])
        for index, meeting in enumerate(held):
            rng = random.Random(f"{SEED}-meetings-{self.network.code}-{meeting.date}")
            agenda = sorted(visits.get(index, []), key=_agenda_order)
            published = _at(_weekday_before(meeting.date, rng.randint(2, 5)), dt.time(11, 0))
            meeting.agenda_published_at, meeting.agenda_published_by = published, navigator
            # Raised once for each person added to the agenda.
            meeting.revision = 1 + len(agenda)
            for member in team.members:
                present = member in (chair, navigator) or rng.random() < (
                    0.9 if member.profession == Profession.COMMUNITY_MATRON else 0.65
                )
                if not present and rng.random() < 0.3:
                    continue  # neither came nor sent apologies
                self.attendance.append(
                    Attendance(
                        meeting=meeting,
                        user=member,
                        name=member.get_full_name() or member.username,
                        # As ``attendance_record`` stores it: the label, not the code.
                        profession=member.get_profession_display(),
                        status=AttendanceStatus.PRESENT if present else AttendanceStatus.APOLOGIES,
                        created_by=chair,
                        created_at=meeting.started_at,
                        updated_at=meeting.started_at,
                    )
                )
            for name, profession, kind, share in guests:
                if rng.random() < share:
                    self.attendance.append(
                        Attendance(
                            meeting=meeting,
                            name=name,
                            profession=Profession(profession).label,
                            organisation=self._guest_organisation(kind),
                            created_by=chair,
                            created_at=meeting.started_at,
                            updated_at=meeting.started_at,
                        )
                    )
            minutes_each = max(
                3, (_minutes_between(meeting.started_at, meeting.closed_at)) // max(len(agenda), 1)
            )
            for position, visit in enumerate(agenda, start=1):
                item = AgendaItem(
                    meeting=meeting,
                    patient=visit.entry.patient,
                    reason=visit.reason,
                    position=position,
                    not_reached=not visit.outcome,
                    created_by=navigator,
                    created_at=published - dt.timedelta(hours=1, minutes=len(agenda) - position),
                    updated_at=published - dt.timedelta(hours=1, minutes=len(agenda) - position),
                )
                self.items.append(item)
                if not visit.outcome:
                    continue
                self._discussion(item, visit, meeting, position, minutes_each)

    def _discussion(self, item, visit, meeting, position, minutes_each) -> None:
        rng = random.Random(f"{SEED}-meetings-{visit.entry.patient.nhs_number}-{meeting.date}")
        recorded = meeting.started_at + dt.timedelta(minutes=minutes_each * position)
        recorded = min(recorded, meeting.closed_at - dt.timedelta(minutes=1))
        entry = visit.entry
        discussion = Discussion(
            item=item,
            summary=visit.summary,
            decisions=visit.decisions,
            outcome=visit.outcome,
            ratified_plan=None if _is_mary(entry.patient) else visit.plan,
            next_review_on=visit.next_review_on,
            recorded_by=self.team.chair,
            # Saved once; now and then corrected before the meeting closed.
            revision=1 if rng.random() < 0.85 else 2,
            created_by=self.team.chair,
            created_at=recorded,
            updated_at=recorded,
        )
        if visit.first:
            # The MDT sets the primary need and clinical lead: the episode's.
            discussion.primary_need = entry.primary_need
            discussion.clinical_lead = entry.clinical_lead
        self.discussions.append(discussion)
        for what, who, days, priority in visit.actions:
            self.actions.append(self._action(discussion, visit, what, who, days, priority, rng))

    def _guest_organisation(self, kind: str) -> str:
        if kind == Organisation.Type.GP_PRACTICE:
            practice = self.network.practices.order_by("name").last()
            return practice.name if practice else ""
        organisation = self.team.teams.get(kind)
        return organisation.name if organisation else ""

    # --- the next meeting ----------------------------------------------------------------------

    def _next_agenda(self) -> None:
        """The next meeting's agenda, as the navigator accepts what
        ``agenda_proposals`` proposes (not published yet); the meetings after
        it have none."""
        upcoming = [m for m in self.meetings if m.status == Meeting.Status.SCHEDULED]
        if not upcoming:
            return
        meeting = upcoming[0]
        proposals = agenda_proposals(meeting)
        AgendaItem.objects.bulk_create(
            AgendaItem(
                meeting=meeting,
                patient=proposal.patient,
                reason=proposal.reason,
                position=position,
                created_by=self.team.navigator,
            )
            for position, proposal in enumerate(proposals, start=1)
        )
        Meeting.objects.filter(pk=meeting.pk).update(revision=1 + len(proposals))


def _month(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def _before_holiday(
    index: int, held: list[dt.date], brought_forward: list[dt.date]
) -> dt.date | None:
    """The holiday (a cancelled meeting whose reviews were brought forward)
    between held meeting ``index`` and the next, if there is one."""
    if index + 1 >= len(held):
        return None
    return next((day for day in brought_forward if held[index] < day < held[index + 1]), None)


def _even_out_new(due: dict, held: list[dt.date], brought_forward: list[dt.date]) -> None:
    """Even out how many new people each month's meetings introduce (``due``:
    everyone's first discussion), as a navigator would: as NEW_PER_MONTH
    says for a month of that many meetings. Short of it, people due at the
    next two meetings come forward if accepted in time (those whose plan a
    later meeting ratifies are introduced first, then come back for it).
    Beyond it, those ready last come to the month before if they have a
    plan to ratify and it has room, else wait for the next month (the chair
    ratifying the plan outside the meeting)."""
    months: dict[str, list[int]] = {}
    for index, day in enumerate(held):
        months.setdefault(_month(day), []).append(index)
    order = list(months)

    def bounds(month):
        return NEW_PER_MONTH[min(len(months[month]), 3)]

    def new(month):
        return sum(len(due.setdefault(index, [])) for index in months[month])

    def by_readiness(pairs):
        return sorted(pairs, key=lambda pair: (pair[1].since, pair[0].patient.nhs_number))

    for position, month in enumerate(order):
        indices = months[month]
        low, high = bounds(month)
        last = indices[-1]
        ahead = [due.setdefault(later, []) for later in (last + 1, last + 2) if later < len(held)]
        coming = by_readiness(
            pair
            for pairs in ahead
            for pair in pairs
            if pair[1].early and pair[0].first_allowed <= last
        )
        for person, this in coming[: max(low - new(month), 0)]:
            next(pairs for pairs in ahead if (person, this) in pairs).remove((person, this))
            index = max(person.first_allowed, indices[0])
            index = min((i for i in indices if i >= index), key=lambda i: len(due[i]))
            due[index].append((person, this))
        if new(month) <= high:
            continue
        before = order[position - 1] if position else None
        for index in reversed(indices):
            for person, this in by_readiness(pair for pair in due[index] if pair[1].early)[::-1]:
                if new(month) <= high:
                    break
                if (
                    person.targets
                    and before is not None
                    and person.first_allowed <= months[before][-1]
                    and new(before) < bounds(before)[1]
                ):
                    due[index].remove((person, this))
                    due[months[before][-1]].append((person, this))
                elif last < person.last_allowed or person.closes is None:
                    # Their plan, if this month ratified it, was ratified outside the MDT.
                    for target in [target for target in person.targets if target <= last]:
                        del person.targets[target]
                    due[index].remove((person, this))
                    due.setdefault(last + 1, []).append((person, this))


def _month_sizes(
    held: list[dt.date], due: dict, brought_forward: list[dt.date], rng: random.Random
) -> Counter:
    """How many people each month's meetings discuss: PER_NEW_PERSON (as
    ``rng`` has it) for each new person due that month (``due``: everyone's
    first discussion), within the bounds for a month of that many meetings
    (one fewer at least in a month with one meeting, or with the meeting
    before a holiday, which gets through its agenda)."""
    meetings = Counter(_month(day) for day in held)
    holidays = {
        _month(day)
        for index, day in enumerate(held)
        if _before_holiday(index, held, brought_forward)
    }
    new = Counter()
    for index, pairs in due.items():
        if index < len(held):
            new[_month(held[index])] += len(pairs)
    sizes = Counter()
    for month, count in meetings.items():
        least = max(MONTH_LEAST - (count == 1 or month in holidays), 10 * count)
        most = max(min(MONTH_MOST, 18 * count), least + 4)
        planned = round(rng.uniform(*PER_NEW_PERSON) * new[month])
        sizes[month] = min(max(planned, least), most)
    return sizes


def _agenda_order(visit: _Visit):
    """Carried forward first, then urgent, re-listed, reviews and new
    people; anyone not reached was at the end."""
    patient = visit.entry.patient
    return (
        not visit.outcome,
        REASON_ORDER[visit.reason],
        patient.family_name,
        patient.given_name,
    )


def _minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    return int((end - start).total_seconds() // 60)
