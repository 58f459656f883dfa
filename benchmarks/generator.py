"""The design-ceiling data set: a PostgreSQL database filled to what mdtcare
is designed to hold, for the benchmarks.

    manage.py generate_ceiling_data --patients 250000 --seed 20261125 \\
        [--months 24] [--networks 12] [--today YYYY-MM-DD] [--replace]

Everything scales from the number of people on the register (P): 0.4 P
open episodes, 1.9 P care plan versions, 0.6 P assessments and 0.4 P MDT
discussions a year (70% of the people discussed are discussed again), 4 P
actions, 4.5 P months of hospital activity, P / 100 practitioners. So
250,000 people give the ceiling (100,000 on the caseload, ~150,000
assessments and ~100,000 discussions a year, ~1,000,000 actions, 2,500
practitioners; benchmarks/README.md has the counts of a full run) and 1,000
a small set of the same shape. The MDT meetings scale too: each network's
practices are grouped into localities, each with a weekly meeting series,
as many as give meetings of about 30 people (``meeting_series``): six a
network at the ceiling.

How it is made (``generate``):

1. The world, held in memory (it is small): networks of ~20 GP practices;
   trusts, councils and voluntary organisations that serve several
   networks; practitioners and their memberships (in every network the
   logins of ``LOGINS``, with the password given); each network's
   localities and their MDT meeting series (weekly, or one fortnightly in
   a small network), over the months and four weeks ahead.
2. One pass over the people, in order. Each person: on the register from a
   referral or from risk stratification; their episodes (referrals come at
   a steady rate, and an episode is open today if it has not yet ended, so
   referrals and closures are steady month by month); in each accepted
   episode their assessments and the versions of their care plan, each
   ratified at an MDT discussion or by the GP chair, reviewed at its review
   date (often some weeks late); their discussions at their locality's
   meetings (the first at the meeting that ratifies their first plan, later
   ones at reviews, re-listings and hand-overs, now and then not reached and
   carried forward); the actions
   agreed; their hospital activity month by month. Rows go to one temporary
   file per table as COPY text, so nothing large is held in memory.
3. The meetings (their agenda revision is known only now), attendance and
   invitations. Then each table is loaded with one COPY, in one transaction
   with the audit triggers and foreign-key checks skipped (the data is right
   by construction; check and unique constraints still apply), and ANALYZE.

Deterministic: one ``random.Random(seed)`` decides everything in a fixed
order, UUIDs included, and every date and moment is worked out from
``today``: the same seed, ``today`` and options give byte-identical tables.
(Names come from Faker's en_GB lists, pinned in the requirements.)

Re-running: refused when the database has networks, organisations, patients
or meetings; ``replace=True`` first empties every table the generator fills
(TRUNCATE … RESTART IDENTITY CASCADE, which also empties what refers to
them: notifications, exports, the audit tables, sessions, tokens, devices)
and keeps superusers. It refuses to replace a database with NHS numbers
outside the 999 test range. PostgreSQL only.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from faker.providers.person.en_GB import Provider as Names

from benchmarks import common
from careplans.models import Assessment, CarePlan
from careplans.scoring import assessment_scores
from mdtcare.accounts.models import Membership, Network, Organisation, Profession, User
from mdtcare.audit.models import AccessEvent, AccessEventPatient
from mdtcare.core import nhs_number
from meetings.models import Action, AgendaItem, Attendance, Discussion, Meeting, MeetingSeries
from patients.models import (
    HospitalActivity,
    LongTermCondition,
    Patient,
    PatientCondition,
    RegisterEntry,
    RiskScore,
)

DEFAULT_SEED = 20261125
DEFAULT_PASSWORD = "bench-ceiling-password"  # noqa: S105 (logins of a made-up data set)
# Known logins in every network (``code`` is the network's code, e.g. "aire"),
# all with the password given. Admins must use a second factor: each admin has
# a confirmed TOTP device whose key is in otp_totp_totpdevice.
LOGINS = {
    "admin": "bench-admin-{code}",
    "gp_chair": "bench-chair-{code}",
    "matron": "bench-matron-{code}",
    "navigator": "bench-navigator-{code}",
}
EMAIL_DOMAIN = "bench.invalid"


class _Weights:
    """Choices with weights, picked with one random number (bisect on the
    running totals): several times faster than ``random.choices``."""

    def __init__(self, weights: dict):
        self.keys = tuple(weights)
        self.totals = []
        total = 0
        for weight in weights.values():
            total += weight
            self.totals.append(total)
        self.total = total

    def pick(self, random_number: float):
        return self.keys[bisect.bisect_right(self.totals, random_number * self.total)]


# --- the shape ---------------------------------------------------------------------------

# People on the register: most were referred (one episode, a few an earlier
# one as well), the rest found by risk stratification and never referred.
# Referrals come at a steady rate; an episode lasts EPISODE_DAYS plus an
# exponential time, so about 0.4 P are open today.
REFERRED_SHARE = 0.74
EARLIER_EPISODE = 0.06
DECLINED = 0.07
EPISODE_DAYS = (45, 900)  # the least, and the mean time beyond it
HISTORY_BEFORE_WINDOW = 450  # days of referrals before the months (the caseload at the start)
PRACTICE_LIST = 1_040  # people on the register per practice: ~20 practices a network at 250,000
PATIENTS_PER_PRACTITIONER = 100
MIN_PATIENTS_PER_NETWORK = 100
ENDINGS = _Weights({"discharged": 47, "stepped_down": 36, "died": 17})
REVIEW_WEEKS = _Weights({26: 76, 12: 16, 8: 5, 6: 2, 4: 1})
REVIEW_LATENESS = (0, 75)  # days from a plan's review date to its next version's proposal
# About half the people are complex enough for the MDT: their first plan is
# ratified at the meeting that first discusses them, most later versions at a
# review there too. The others' plans are ratified by the GP chair.
MDT_CASES = 0.65
FIRST_PLAN_AT_MDT = 0.95
LATER_PLAN_AT_MDT = 0.5
FOLLOWED_UP = 0.22  # a new person discussed again 4 to 8 weeks on (no new version)
MAX_WAIT = 28  # days from a plan's proposal to the MDT that ratifies it, at most
RELISTED = 0.08
NOT_REACHED = 0.15  # of the discussions that ratify no plan (3 to 4% of all items)
HANDED_OVER_AT_MDT = 0.8  # a step-down or discharge decided at a meeting
REASSESSED_AT_REVIEW = 0.75
REVIEW_LEFT_OVERDUE = 0.35  # an open episode's review in the last 45 days not yet held
NEXT_VERSION_STARTED = 0.3  # a plan due for review with its next version started
DRAFT_ASSESSMENT = 0.03
CANCELLED_MEETING = 0.025
# Each network's MDT meets in localities (a few practices each, like primary
# care networks), each locality weekly, so that a held meeting discusses
# about MEETING_ITEMS people. How many localities follows from the agenda
# items a network expects a week: AGENDA_ITEMS_A_YEAR per person on the
# register (the rate the stories below make in the last year, measured),
# shared among the meetings held (HELD_SHARE: a few are cancelled, and those
# of Christmas week). A network with too few for a weekly meeting of
# MEETING_ITEMS_WEEKLY_LEAST has one fortnightly MDT. An agenda takes at most
# MEETING_ITEMS_MOST people: after a break (Christmas) the rest wait for the
# next meeting.
MEETING_ITEMS = 30
MEETING_ITEMS_WEEKLY_LEAST = 20
MEETING_ITEMS_MOST = 60
AGENDA_ITEMS_A_YEAR = 0.42
HELD_SHARE = 0.95
# The sessions a locality's MDT is held in (minutes after midnight: start,
# end): the first five localities of a network in the afternoons of the five
# weekdays, the next five in the mornings; a network with more than ten
# localities has meetings that overlap.
MEETING_SESSIONS = ((780, 960), (540, 720))
MINUTES_AN_ITEM = 5
ACTIONS_PER_DISCUSSION = (0, 1, 1, 2, 2, 2, 3, 3)
ACTIONS_PER_PLAN = (0, 1, 1, 2)
OTHER_ACTIONS_PER_YEAR = 0.9  # per year of a plan in force
ACTION_DUE_DAYS = (7, 14, 14, 21, 28, 28, 42, 56)
HOSPITAL_EVENTS_PER_MONTH = 0.22  # per person, before their own level (skewed) and risk
HOSPITAL_KINDS = _Weights({0: 24, 1: 11, 2: 5, 3: 60})  # A&E, emergency, elective, outpatient

# Rivers of Yorkshire; a network's code is its name in lower case.
NETWORK_NAMES = ("Aire", "Calder", "Wharfe", "Nidd", "Swale", "Ure", "Derwent", "Ouse", "Don")
NETWORK_NAMES += ("Rother", "Colne", "Hebble", "Dearne", "Esk", "Rye", "Foss")
POSTCODE_AREAS = ("LS", "BD", "HX", "HG", "DL", "YO", "WF", "HD", "S", "DN", "HU", "OL")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
STREETS = ("Station", "Church", "Park", "Victoria", "Mill", "Chapel", "Green", "Manor")
STREETS += ("Westfield", "Moor", "Beech", "Hall", "Albert", "Springfield", "Queens", "Kings")
STREET_KINDS = ("Road", "Street", "Lane", "Avenue", "Close", "Grove", "Terrace", "Drive")
TOWN_ENDINGS = ("ton", "ley", "by", "field", "thorpe", "bridge")
PRACTICE_KINDS = ("Surgery", "Medical Centre", "Health Centre", "Medical Practice")
MONTH_NAMES = ("", "January", "February", "March", "April", "May", "June", "July")
MONTH_NAMES += ("August", "September", "October", "November", "December")
LANGUAGES = _Weights(
    {"English": 92, "Polish": 2, "Urdu": 2, "Punjabi": 1, "Bengali": 1, "Gujarati": 1}
)
SEXES = _Weights({"female": 550, "male": 440, "indeterminate": 5, "not_known": 5})
SOURCES = _Weights(
    {
        "gp_practice": 40,
        "community_nursing": 15,
        "social_care": 8,
        "mental_health": 5,
        "hospital_discharge": 12,
        "voluntary_sector": 5,
        "risk_stratification": 10,
        "self_or_family": 5,
    }
)
NEEDS = _Weights(
    {
        "physical_health": 35,
        "frailty": 30,
        "mental_health": 10,
        "social_care": 12,
        "end_of_life": 5,
        "other": 8,
    }
)
TIERS = _Weights({1: 30, 2: 45, 3: 25})
SETTINGS = _Weights({"home": 70, "clinic": 10, "phone": 15, "video": 5})
SHARING = _Weights({"in_person": 50, "post": 25, "email": 15, "portal": 10})
PRIORITIES = _Weights({"routine": 80, "high": 15, "urgent": 5})
CONTINUING = _Weights({"continue": 90, "escalate": 10})  # re-listing and hand-overs apart
MEMBER_PROFESSIONS = _Weights(
    {
        "gp": 14,
        "district_nurse": 16,
        "practice_nurse": 12,
        "social_worker": 12,
        "mental_health_practitioner": 8,
        "pharmacist": 8,
        "geriatrician": 4,
        "occupational_therapist": 9,
        "physiotherapist": 9,
        "community_matron": 8,
    }
)
ROLE_PROFESSIONS = {
    "admin": "service_admin",
    "gp_chair": "gp",
    "matron": "community_matron",
    "navigator": "care_navigator",
}
# Who may be a person's clinical lead.
LEADS = ("community_matron", "district_nurse", "gp", "practice_nurse", "mental_health_practitioner")
REASONS = (
    "Falls at home and a recent admission",
    "Several long-term conditions and struggling at home",
    "Carer no longer able to cope",
    "Repeated A&E attendances",
    "Declining mobility, lives alone",
    "Heart failure, poorly controlled",
    "COPD with two exacerbations this winter",
    "Memory concerns and missed medicines",
    "Low mood and isolation",
    "Home from hospital after a fall",
)
SUMMARIES = (
    "Settled since the last MDT; the daughter visits daily.",
    "Two falls this month; physiotherapy started.",
    "Breathless on exertion; the heart failure nurse has increased the diuretic.",
    "Mood better since the befriending service started.",
    "Carer under strain; respite discussed.",
    "Medicines reviewed; two stopped.",
)
DECISIONS = (
    "Continue the plan; review at the date set.",
    "Refer to the falls service and arrange equipment.",
    "Social worker to arrange a carer's assessment.",
    "GP to review the medicines with the pharmacist.",
    "Start advance care planning conversations.",
)
ACTIONS = (
    "Review medicines with the practice pharmacist",
    "Refer to the falls clinic",
    "Arrange a carer's assessment",
    "Book a joint home visit",
    "Refer to social prescribing",
    "Request an occupational therapy assessment",
    "Check blood pressure in two weeks",
    "Send the updated plan to the person and their family",
    "Refer to the community mental health team",
    "Arrange bathroom equipment",
    "Start an advance care plan",
    "Chase the cardiology clinic letter",
    "Check benefits (Attendance Allowance)",
    "Book a review with the heart failure nurse",
)
REVIEW_ACTIONS = ACTIONS[:6]
SELF_MANAGEMENT = (
    "Walks to the shop with a stick every morning; uses the pill organiser.",
    "Weighs himself daily and rings the nurse if up 2 kg in 3 days.",
    "Uses the rescue pack as agreed; keeps the diary of breathlessness.",
)
CONTINGENCY = (
    "If more breathless, ring the community matron (weekdays) or 111.",
    "After a fall, press the pendant alarm; the response team attends.",
    "If confused or unwell, the daughter rings the practice for a same-day visit.",
)
CARER_INVOLVEMENT = ("", "Daughter visits daily and manages the medicines.", "Wife is main carer.")
PEOPLE_PRESENT = ("", "", "Her daughter", "His wife", "Carer from the agency", "Son, by phone")
CANCEL_REASONS = ("Chair unwell", "Clash with the practices' training afternoon", "Bank holiday")
VENUES = ("Community hub, meeting room 2", "Practice education room", "Town hall annex")
MEETING_FORMATS = ("face_to_face", "teleconference", "hybrid", "hybrid")
GUEST_PROFESSIONS = ("social_worker", "pharmacist", "occupational_therapist")
SHARED_ORGANISATIONS = {
    # type: (how many networks each serves, name)
    "community_trust": (4, "{} Community Health NHS Trust"),
    "local_authority": (3, "{} Council Adult Social Care"),
    "mental_health_trust": (6, "{} Mental Health NHS Foundation Trust"),
    "acute_trust": (4, "{} Hospitals NHS Trust"),
    "voluntary_organisation": (2, "{} Age Concern"),
}


# --- COPY text -----------------------------------------------------------------------------


class _Verbatim(str):
    """A value already in COPY text form (JSON made and escaped once)."""


def _escape(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        value = value.replace("\r", "\\r")
    return value


# Values other than text as COPY's text format wants them. Dates and moments
# are made as text (``_Generator.day`` and ``at``); text is written as it is,
# which is safe because every text comes from the fixed lists checked by
# ``_check_texts`` (or is JSON, escaped once).
_FORMAT: dict[type, Callable] = {
    _Verbatim: str.__str__,
    int: int.__repr__,
    bool: lambda value: "t" if value else "f",
    type(None): lambda value: "\\N",
}
_CLOCK = [f"{minutes // 60:02d}:{minutes % 60:02d}:00" for minutes in range(24 * 60)]


def _check_texts() -> None:
    """Every text the generator writes comes from these lists (or is made of
    digits and their words): none may need escaping in COPY text."""
    texts = [*Names.first_names_female, *Names.first_names_male, *Names.last_names]
    for name, value in globals().items():
        if name.isupper() and isinstance(value, tuple | list | dict):
            texts += [str(item) for item in value]
    bad = [text for text in texts if _escape(text) != text]
    if bad:
        raise ValueError(f"Texts that COPY would need escaped: {bad[:5]}")


def _json(value) -> _Verbatim:
    return _Verbatim(_escape(json.dumps(value, cls=DjangoJSONEncoder)))


class Table:
    """One table's rows as COPY text in a temporary file, loaded with one
    COPY. The columns are named; every NOT NULL column must be among them,
    so a column added later without a default fails here, by name."""

    FLUSH_ROWS = 20_000

    def __init__(self, model, columns: str):
        self.name = model._meta.db_table
        self.columns = tuple(columns.split())
        concrete = {f.column: f for f in model._meta.concrete_fields}
        unknown = [c for c in self.columns if c not in concrete]
        missing = [c for c, f in concrete.items() if not f.null and c not in self.columns]
        if unknown or missing:
            raise ValueError(f"{self.name}: unknown columns {unknown}, missing {missing}")
        self.rows = 0
        self.first_id = self.last_id = None
        self.seconds = 0.0  # COPY
        self.index_seconds = 0.0  # building its plain indexes afterwards
        self._lines: list[str] = []
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by load)

    @property
    def sql(self) -> str:
        columns = ", ".join(f'"{column}"' for column in self.columns)
        return f'COPY "{self.name}" ({columns}) FROM STDIN'

    def add(self, *row) -> None:
        fmt = _FORMAT
        self._lines.append(
            "\t".join(
                [value if value.__class__ is str else fmt[value.__class__](value) for value in row]
            )
        )
        if not self.rows:
            self.first_id = row[0]
        self.last_id = row[0]
        self.rows += 1
        if len(self._lines) >= self.FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._lines:
            self._lines.append("")
            self._file.write("\n".join(self._lines).encode())
            self._lines.clear()

    def load(self, cursor) -> None:
        """COPY the rows in (see ``indexes_built_after`` for the indexes)."""
        self._flush()
        self._file.seek(0)
        with indexes_built_after(cursor, self):
            with cursor.copy(self.sql) as copy:
                while chunk := self._file.read(1 << 20):
                    copy.write(chunk)
            self._file.close()

    def summary(self) -> dict:
        return {
            "table": self.name,
            "rows": self.rows,
            "seconds": self.seconds,
            "index_seconds": self.index_seconds,
            "first_id": self.first_id,
            "last_id": self.last_id,
        }


@contextlib.contextmanager
def indexes_built_after(cursor, table: Table):
    """Load ``table`` with its plain indexes dropped, and build them again
    afterwards: building an index from all the rows at once is several times
    faster than inserting a million random UUIDs into it one by one. Unique
    and primary-key constraints keep their indexes, so they are checked as
    the rows arrive; a unique index without a constraint (one open episode
    a person) is built again, which checks it as well. Times both parts."""
    cursor.execute(
        "SELECT index.relname, pg_get_indexdef(index.oid) FROM pg_index "
        "JOIN pg_class index ON index.oid = pg_index.indexrelid "
        "WHERE pg_index.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint WHERE conindid = index.oid AND contype IN ('p', 'u'))",
        [table.name],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    started = time.perf_counter()
    yield
    table.seconds = time.perf_counter() - started
    started = time.perf_counter()
    for _, definition in indexes:
        cursor.execute(definition)
    table.index_seconds = time.perf_counter() - started


def _tables() -> dict[str, Table]:
    """Every table the generator writes, in loading order, with its columns."""
    base = "id created_at updated_at created_by_id"
    return {
        "network": Table(Network, f"{base} name code"),
        "organisation": Table(Organisation, f"{base} name type ods_code network_id"),
        "user": Table(
            User,
            "id password last_login is_superuser username first_name last_name email "
            "is_staff is_active date_joined profession organisation_id is_demo",
        ),
        "membership": Table(Membership, f"{base} user_id network_id role"),
        "patient": Table(
            Patient,
            f"{base} nhs_number title given_name family_name date_of_birth sex address "
            "postcode phone practice_id preferred_language interpreter_needed "
            "accessibility_needs date_of_death risk_score risk_scored_on frailty_category",
        ),
        "risk_score": Table(
            RiskScore, "id patient_id score frailty_category scored_on imported_at imported_by_id"
        ),
        "condition": Table(PatientCondition, f"{base} patient_id condition_id diagnosed_on"),
        "entry": Table(
            RegisterEntry,
            f"{base} patient_id status source referrer_name referring_organisation_id reason "
            "urgency referred_on submission_key decided_on tier primary_need clinical_lead_id "
            "navigator_id closed_on",
        ),
        "assessment": Table(
            Assessment,
            f"{base} patient_id kind previous_id assessor_id assessed_on setting "
            "people_present status answers version signed_by_id signed_at scores",
        ),
        "plan": Table(
            CarePlan,
            f"{base} patient_id entry_id number previous_id from_assessment_id status "
            "primary_need clinical_lead_id navigator_id self_management contingency "
            "carer_involvement review_interval_weeks starts_on next_review_on revision "
            "proposed_by_id proposed_at ratified_by_id ratified_at ratification_note "
            "shared_by_id shared_on shared_how",
        ),
        "series": Table(MeetingSeries, f"{base} network_id frequency first_on until"),
        "meeting": Table(
            Meeting,
            f"{base} network_id series_id date starts_at ends_at format venue dial_in chair_id "
            "status cancel_reason agenda_published_at agenda_published_by_id started_at "
            "closed_at closed_by_id acting_chair_reason revision",
        ),
        "invited": Table(Meeting.invited.through, "id meeting_id user_id"),
        "attendance": Table(
            Attendance, f"{base} meeting_id user_id name profession organisation status"
        ),
        "item": Table(AgendaItem, f"{base} meeting_id patient_id reason position note not_reached"),
        "discussion": Table(
            Discussion,
            f"{base} item_id summary decisions outcome primary_need clinical_lead_id "
            "ratified_plan_id next_review_on recorded_by_id revision",
        ),
        "action": Table(
            Action,
            f"{base} patient_id what owner_id owner_organisation_id due_on priority status "
            "source discussion_id plan_id completion_note completed_at completed_by_id "
            "cancelled_at network_id",
        ),
        "hospital": Table(
            HospitalActivity,
            f"{base} patient_id month ae_attendances non_elective_admissions "
            "elective_admissions outpatient_attendances bed_days",
        ),
    }


# --- the world -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """What ``generate`` will make, worked out from the options."""

    patients: int
    seed: int
    months: int
    networks: int
    today: dt.date
    practices_per_network: int
    practitioners: int
    window_start: dt.date  # the first day of the first month
    series_per_network: int  # localities, each with its MDT meeting series
    frequency: str  # of every series: "weekly" or "fortnightly"

    @classmethod
    def of(cls, *, patients: int, seed: int, months: int, networks: int, today: dt.date):
        if patients < MIN_PATIENTS_PER_NETWORK:
            raise ValueError(f"Make at least {MIN_PATIENTS_PER_NETWORK} people.")
        if not 1 <= months <= 120:
            raise ValueError("Months: from 1 to 120.")
        if networks < 1:
            raise ValueError("Networks: at least 1.")
        # At most one network per 100 people (so each has meetings worth
        # holding), and as many as there are names.
        networks = min(networks, len(NETWORK_NAMES), patients // MIN_PATIENTS_PER_NETWORK)
        index = today.year * 12 + today.month - 1 - months
        practices = max(2, min(25, round(patients / networks / PRACTICE_LIST)))
        series, frequency = meeting_series(patients / networks, practices)
        return cls(
            patients=patients,
            seed=seed,
            months=months,
            networks=networks,
            today=today,
            practices_per_network=practices,
            practitioners=max(networks * 10, round(patients / PATIENTS_PER_PRACTITIONER)),
            window_start=dt.date(index // 12, index % 12 + 1, 1),
            series_per_network=series,
            frequency=frequency,
        )


def meeting_series(people: float, practices: int) -> tuple[int, str]:
    """(how many MDT meeting series, how often they meet) for a network of
    ``people`` on the register and ``practices`` practices: weekly, as many
    as make meetings of about MEETING_ITEMS items (a locality has at least a
    practice); one fortnightly when a weekly one would be too small."""
    a_week = AGENDA_ITEMS_A_YEAR * people * 7 / 365.25 / HELD_SHARE
    if a_week < MEETING_ITEMS_WEEKLY_LEAST:
        return 1, "fortnightly"
    return max(1, min(practices, round(a_week / MEETING_ITEMS))), "weekly"


@dataclass(eq=False)
class _Practitioner:
    id: str
    name: str
    profession: str
    organisation: str  # its name, as attendance records it


@dataclass(eq=False)
class _Meeting:
    id: str
    day: int  # ordinal
    status: str
    starts: int  # minutes after midnight
    ends: int
    cancel_reason: str = ""
    items: int = 0  # on its agenda so far

    def moment(self, position: int) -> int:
        """When the item at ``position`` is discussed (minutes after midnight)."""
        return self.starts + min(self.ends - self.starts - 10, MINUTES_AN_ITEM * position)


@dataclass(eq=False)
class _Series:
    """A locality of a network (some of its practices) and its MDT meetings."""

    id: str
    weekday: int
    starts: int
    ends: int
    meetings: list[_Meeting] = field(default_factory=list)
    held: list[_Meeting] = field(default_factory=list)  # closed, in date order
    held_days: list[int] = field(default_factory=list)
    upcoming: _Meeting | None = None  # the next meeting, whose agenda is filling


@dataclass(eq=False)
class _Network:
    index: int
    id: str
    name: str
    code: str
    practices: list[tuple[str, str]] = field(default_factory=list)  # (id, town)
    practice_weights: _Weights | None = None
    # The organisations that serve it, by type.
    serving: dict[str, str] = field(default_factory=dict)
    chair: _Practitioner | None = None
    staff: list[_Practitioner] = field(default_factory=list)  # active members
    leads: list[_Practitioner] = field(default_factory=list)
    navigators: list[_Practitioner] = field(default_factory=list)
    series: list[_Series] = field(default_factory=list)  # one a locality
    locality: list[int] = field(default_factory=list)  # a practice's series, by its index


def _localities(weights: list[float], count: int) -> list[int]:
    """Each practice's locality (0 to ``count`` - 1), from the practices' list
    sizes, so that the localities are about the same size: the largest
    practice first, each to the locality with the fewest people so far."""
    sizes = [0.0] * count
    locality = [0] * len(weights)
    for practice in sorted(range(len(weights)), key=lambda n: (-weights[n], n)):
        smallest = min(range(count), key=lambda n: (sizes[n], n))
        locality[practice] = smallest
        sizes[smallest] += weights[practice]
    return locality


class _Generator:
    """The world and the random choices, shared by every person's story."""

    def __init__(self, scale: Scale, *, password_hash: str, out):
        self.scale = scale
        self.out = out
        self.rng = random.Random(scale.seed)
        self.random = self.rng.random
        self.getrandbits = self.rng.getrandbits
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.today = scale.today.toordinal()
        self.start = scale.window_start.toordinal()
        self.password_hash = password_hash
        self.tables = _tables()
        self.networks: list[_Network] = []
        self.organisation_names: dict[str, str] = {}
        self.patient_ids: list[str] = []
        self.totp: list[tuple[str, str]] = []  # (admin's id, key)
        self.answers = _answer_pool(random.Random(scale.seed + 1))
        self.conditions = list(
            LongTermCondition.objects.order_by("key").values_list("key", flat=True)
        )
        self.family_names = list(Names.last_names)
        self.hospital_months = self._hospital_months()
        self._days: dict[int, tuple[str, str]] = {}

    # -- random choices, fast (``random.randint`` and ``choice`` cost several calls each) --

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def one_of(self, items: Sequence):
        return items[int(self.random() * len(items))]

    def pick(self, weights: _Weights):
        return weights.pick(self.random())

    def uuid(self) -> str:
        """A version 4 UUID from the seeded generator, as text: the same as
        ``str(uuid.UUID(int=getrandbits(128), version=4))``, faster."""
        bits = self.getrandbits(128) & ~(0xC000 << 48) | (0x8000 << 48)
        text = f"{bits & ~(0xF000 << 64) | (4 << 76):032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    # -- dates and moments, as COPY text --

    def day(self, day: int) -> str:
        return (self._days.get(day) or self._day(day))[0]

    def _day(self, day: int) -> tuple[str, str]:
        """(the date, its London offset at noon) as text, remembered."""
        date = dt.date.fromordinal(day)
        noon = dt.datetime(date.year, date.month, date.day, 12, tzinfo=self.zone)
        hours = int(noon.utcoffset().total_seconds()) // 3600
        found = self._days[day] = (date.isoformat(), f"{hours:+03d}:00")
        return found

    def at(self, day: int, minutes: int) -> str:
        """A moment ``minutes`` after midnight London time on ``day`` (in the
        day's working hours, never at a clock change)."""
        date, offset = self._days.get(day) or self._day(day)
        return f"{date}T{_CLOCK[minutes]}{offset}"

    def office_hours(self, day: int) -> str:
        return self.at(day, 480 + int(self.random() * 600))

    def long_date(self, day: int) -> str:
        date = dt.date.fromordinal(day)
        return f"{date.day} {MONTH_NAMES[date.month]} {date.year}"

    # -- the world --

    def world(self) -> None:
        scale, tables = self.scale, self.tables
        made = self.at(self.start - HISTORY_BEFORE_WINDOW - 60, 540)
        shared: dict[str, list[str]] = {}
        code = 0
        for kind, (networks_each, title) in SHARED_ORGANISATIONS.items():
            shared[kind] = []
            for n in range(max(1, scale.networks // networks_each)):
                organisation = self.uuid()
                name = title.format(NETWORK_NAMES[n] + " Valley")
                ods = None if kind == "voluntary_organisation" else f"R{code:04d}"
                code += 1
                tables["organisation"].add(organisation, made, made, None, name, kind, ods, None)
                self.organisation_names[organisation] = name
                shared[kind].append(organisation)
        number = 0
        for n in range(scale.networks):
            name = NETWORK_NAMES[n]
            network = _Network(
                index=n, id=self.uuid(), name=f"{name} Integrated Care Network", code=name.lower()
            )
            network.serving = {kind: ids[n % len(ids)] for kind, ids in shared.items()}
            tables["network"].add(network.id, made, made, None, network.name, network.code)
            weights = {}
            for _ in range(scale.practices_per_network):
                practice = self.uuid()
                town = name + self.one_of(TOWN_ENDINGS)
                title = f"{self.one_of(STREETS)} {self.one_of(PRACTICE_KINDS)}, {town}"
                ods = f"X{number:05d}"
                number += 1
                tables["organisation"].add(
                    practice, made, made, None, title, "gp_practice", ods, network.id
                )
                self.organisation_names[practice] = title
                network.practices.append((practice, town))
                # List sizes vary about threefold between practices.
                weights[len(weights)] = 0.5 + self.random()
            network.practice_weights = _Weights(weights)
            network.locality = _localities(list(weights.values()), scale.series_per_network)
            self.networks.append(network)
        self._practitioners()
        for network in self.networks:
            self._meetings(network, made)

    def _practitioners(self) -> None:
        scale, tables = self.scale, self.tables
        per_network = [scale.practitioners // scale.networks] * scale.networks
        for n in range(scale.practitioners % scale.networks):
            per_network[n] += 1
        number = 0
        visiting = []  # (practitioner, joined, home network): members of a second network
        for network, count in zip(self.networks, per_network, strict=True):
            matrons = max(1, round(count * 0.10))
            navigators = max(1, round(count * 0.12))
            roles = ["admin", "gp_chair"] + ["matron"] * matrons + ["navigator"] * navigators
            roles += ["member"] * max(1, count - len(roles))
            seen = set()
            for role in roles:
                login = LOGINS.get(role) if role not in seen else None
                seen.add(role)
                if role == "member":
                    profession = self.pick(MEMBER_PROFESSIONS)
                elif role == "navigator" and self.random() < 0.2:
                    profession = "voluntary_sector_navigator"
                else:
                    profession = ROLE_PROFESSIONS[role]
                organisation = self._employer(network, profession)
                first = self.one_of(
                    Names.first_names_female if self.random() < 0.7 else Names.first_names_male
                )
                last = self.one_of(self.family_names)
                if login:
                    username = login.format(code=network.code)
                else:
                    username = f"bench-{network.code}-{number:05d}"
                number += 1
                active = bool(login) or self.random() > 0.02  # a few have left
                user = _Practitioner(
                    id=self.uuid(),
                    name=f"{first} {last}",
                    profession=profession,
                    organisation=self.organisation_names[organisation],
                )
                joined = self.at(self.start - HISTORY_BEFORE_WINDOW - self.between(0, 400), 540)
                tables["user"].add(
                    user.id,
                    self.password_hash if login else "!",  # "!": an unusable password
                    None,
                    False,
                    username,
                    first,
                    last,
                    f"{username}@{EMAIL_DOMAIN}",
                    role == "admin",
                    active,
                    joined,
                    profession,
                    organisation,
                    False,
                )
                tables["membership"].add(
                    self.uuid(), joined, joined, None, user.id, network.id, role
                )
                if role == "admin":
                    self.totp.append((user.id, f"{self.getrandbits(160):040x}"))
                elif role == "gp_chair":
                    network.chair = user
                if not active:
                    continue
                network.staff.append(user)
                if role == "navigator":
                    network.navigators.append(user)
                elif profession in LEADS and role != "gp_chair":
                    network.leads.append(user)
                if role == "member" and scale.networks > 1 and self.random() < 0.08:
                    visiting.append((user, joined, network))
        # Some practitioners (a geriatrician, a pharmacist) belong to two networks.
        for user, joined, home in visiting:
            other = self.networks[
                (home.index + 1 + int(self.random() * (scale.networks - 1))) % scale.networks
            ]
            tables["membership"].add(self.uuid(), joined, joined, None, user.id, other.id, "member")
            other.staff.append(user)

    def _employer(self, network: _Network, profession: str) -> str:
        if profession in ("gp", "practice_nurse", "pharmacist", "care_navigator"):
            return self.one_of(network.practices)[0]
        kind = {
            "social_worker": "local_authority",
            "mental_health_practitioner": "mental_health_trust",
            "geriatrician": "acute_trust",
            "voluntary_sector_navigator": "voluntary_organisation",
        }.get(profession, "community_trust")
        return network.serving[kind]

    def _meetings(self, network: _Network, made: str) -> None:
        """Each locality's MDT series (weekly, or one fortnightly in a small
        network), on a weekday and session of its own, from the first month
        to four weeks ahead: those before today held (closed), except a few
        cancelled and every one in Christmas week; the rest scheduled."""
        scale = self.scale
        step = 7 if scale.frequency == "weekly" else 14
        start_weekday = dt.date.fromordinal(self.start).weekday()
        for number in range(scale.series_per_network):
            starts, ends = MEETING_SESSIONS[number // 5 % len(MEETING_SESSIONS)]
            weekday = (network.index + number) % 5
            series = _Series(id=self.uuid(), weekday=weekday, starts=starts, ends=ends)
            first = self.start + (weekday - start_weekday) % 7
            days = list(range(first, self.today + 28, step))
            self.tables["series"].add(
                series.id,
                made,
                made,
                network.chair.id,
                network.id,
                scale.frequency,
                self.day(days[0]),
                self.day(days[-1]),
            )
            for day in days:
                date = dt.date.fromordinal(day)
                meeting = _Meeting(
                    id=self.uuid(), day=day, status="closed", starts=starts, ends=ends
                )
                christmas = (date.month, date.day) >= (12, 22) or (date.month, date.day) <= (1, 1)
                if day >= self.today:
                    meeting.status = "scheduled"
                    series.upcoming = series.upcoming or meeting
                elif christmas or self.random() < CANCELLED_MEETING:
                    meeting.status = "cancelled"
                    meeting.cancel_reason = (
                        "Christmas week" if christmas else self.one_of(CANCEL_REASONS)
                    )
                else:
                    series.held.append(meeting)
                    series.held_days.append(day)
                series.meetings.append(meeting)
            network.series.append(series)

    def _hospital_months(self) -> list[int]:
        """The months of hospital activity (ordinals of their first days):
        those of the window whose extract was imported (on the 10th of the
        month after) before today."""
        months = []
        index = self.scale.window_start.year * 12 + self.scale.window_start.month - 1
        while True:
            first = dt.date(index // 12, index % 12 + 1, 1)
            imported = dt.date((index + 1) // 12, (index + 1) % 12 + 1, 10)
            if imported.toordinal() >= self.today:
                return months
            months.append(first.toordinal())
            index += 1

    # -- people --

    def people(self) -> None:
        numbers = nhs_number.test_range_numbers()
        patients = self.scale.patients
        step = max(1, patients // 10)
        started = time.perf_counter()
        for index in range(patients):
            _Person(self, next(numbers)).make()
            if (index + 1) % step == 0:
                seconds = time.perf_counter() - started
                self.out.write(f"  {index + 1:,} people made ({seconds:.0f} s)\n")
                self.out.flush()

    # -- meetings, once their agendas are known --

    def meetings(self) -> None:
        invited = 0
        for network in self.networks:
            chair = network.chair
            others = [user for user in network.staff if user is not chair]
            for series in network.series:
                created = self.at(series.meetings[0].day - 21, 600)
                for meeting in series.meetings:
                    invited = self._meeting(network, series, meeting, created, others, invited)

    def _meeting(
        self,
        network: _Network,
        series: _Series,
        meeting: _Meeting,
        created: str,
        others: list[_Practitioner],
        invited: int,
    ) -> int:
        """The meeting's row, its invitations and (when held) its attendance;
        returns the last invitation's id."""
        tables = self.tables
        chair = network.chair
        day = meeting.day
        held = meeting.status == "closed"
        published = bool(meeting.items) and (held or day - 2 < self.today)
        published_at = self.at(min(day - 2, self.today - 1), 960) if published else None
        publisher = self.one_of(network.navigators or [chair]) if published else None
        closed_at = self.at(day, meeting.ends + 10) if held else None
        meeting_format = self.one_of(MEETING_FORMATS)
        tables["meeting"].add(
            meeting.id,
            created,
            closed_at or published_at or created,
            chair.id,
            network.id,
            series.id,
            self.day(day),
            _CLOCK[meeting.starts],
            _CLOCK[meeting.ends],
            meeting_format,
            "" if meeting_format == "teleconference" else self.one_of(VENUES),
            "" if meeting_format == "face_to_face" else "Teams link in the invitation",
            chair.id,
            meeting.status,
            meeting.cancel_reason,
            published_at,
            publisher.id if publisher else None,
            self.at(day, meeting.starts) if held else None,
            closed_at,
            chair.id if held else None,
            "",
            meeting.items + 1,  # raised by each item added
        )
        if meeting.status == "cancelled":
            return invited
        team = [chair, *self.rng.sample(others, min(len(others), self.between(12, 20)))]
        for user in team:
            invited += 1
            tables["invited"].add(invited, meeting.id, user.id)
        if held:
            self._attendance(meeting, team, chair)
        return invited

    def _attendance(self, meeting: _Meeting, team: list[_Practitioner], chair) -> None:
        started = self.at(meeting.day, meeting.starts)
        for user in team:
            present = user is chair or self.random() < 0.88
            self.tables["attendance"].add(
                self.uuid(),
                started,
                started,
                chair.id,
                meeting.id,
                user.id,
                user.name,
                Profession(user.profession).label,  # as attendance_record stores it
                user.organisation,
                "present" if present else "apologies",
            )
        for _ in range(self.one_of((0, 0, 1, 2))):
            guest = f"{self.one_of(Names.first_names_female)} {self.one_of(self.family_names)}"
            self.tables["attendance"].add(
                self.uuid(),
                started,
                started,
                chair.id,
                meeting.id,
                None,
                guest,
                Profession(self.one_of(GUEST_PROFESSIONS)).label,
                "Guest",
                "present",
            )


class _Person:
    """One person on the register and everything that happened to them."""

    def __init__(self, generator: _Generator, number: str):
        self.g = generator
        self.number = number
        self.id = generator.uuid()
        self.on_agendas: set[str] = set()  # (meeting, patient) is unique on an agenda
        self.assessments: list[tuple[str, int]] = []  # (id, day), signed
        self.first_discussed: int | None = None
        self.died_on: int | None = None

    def make(self) -> None:
        g = self.g
        self.network = network = g.networks[int(g.random() * len(g.networks))]
        practice = g.pick(network.practice_weights)
        self.practice, town = network.practices[practice]
        self.series = network.series[network.locality[practice]]  # their locality's MDT
        episodes = self._episodes()
        if episodes:
            self.registered = episodes[0]["referred"]
        else:
            self.registered = g.between(g.start - HISTORY_BEFORE_WINDOW, g.today - 1)
        self._patient(town, open_now=bool(episodes) and "closed" not in episodes[-1])
        for episode in episodes:
            self._episode(episode)
        self._hospital_activity()

    # -- who they are --

    def _patient(self, town: str, *, open_now: bool) -> None:
        g = self.g
        tables = g.tables
        sex = g.pick(SEXES)
        if sex == "male" or (sex != "female" and g.random() < 0.5):
            given, title = g.one_of(Names.first_names_male), g.one_of(("Mr", "Mr", ""))
        else:
            given, title = g.one_of(Names.first_names_female), g.one_of(("Mrs", "Ms", "Miss", ""))
        # Most are old, the oldest very old; a quarter are younger adults.
        age = round(g.rng.triangular(65, 101, 83)) if g.random() < 0.75 else g.between(18, 64)
        born = g.today - age * 365 - g.between(0, 364)
        # Risk: most low, a long tail; people on the caseload higher.
        self.risk = risk = min(99.9, g.rng.expovariate(1 / 13) + (12 if open_now else 0))
        score = f"{risk:.1f}" if g.random() < 0.95 else None
        if age < 65 and risk < 20:
            frailty = ""
        else:
            frailty = ("fit", "mild", "moderate", "severe")[min(3, int(risk // 15))]
        language = g.pick(LANGUAGES)
        created = g.office_hours(self.registered)
        scored_on = g.day(g.today - g.between(5, 120))
        area = POSTCODE_AREAS[self.network.index % len(POSTCODE_AREAS)]
        tables["patient"].add(
            self.id,
            created,
            created,
            None,
            self.number,
            title,
            given,
            g.one_of(g.family_names),
            dt.date.fromordinal(born).isoformat(),
            sex,
            f"{g.between(1, 180)} {g.one_of(STREETS)} {g.one_of(STREET_KINDS)}, {town}",
            f"{area}{self.network.index + 1} {g.between(1, 9)}"
            f"{g.one_of(POSTCODE_LETTERS)}{g.one_of(POSTCODE_LETTERS)}",
            f"07700 900{g.between(0, 999):03d}",  # Ofcom's range for drama
            self.practice,
            language,
            language != "English" and g.random() < 0.5,
            "Hard of hearing: face them when speaking" if g.random() < 0.03 else "",
            g.day(self.died_on) if self.died_on else None,
            score,
            scored_on if score else None,
            frailty,
        )
        g.patient_ids.append(self.id)
        if score:
            # Imported yesterday by the network's navigator (the risk import).
            imported = g.at(g.today - 1, 600)
            importer = self.network.navigators[0].id
            tables["risk_score"].add(
                len(g.patient_ids), self.id, score, frailty, scored_on, imported, importer
            )
        for key in g.rng.sample(
            g.conditions, min(g.one_of((0, 1, 1, 2, 2, 2, 3, 3, 4)), len(g.conditions))
        ):
            diagnosed = g.day(born + g.between(age * 365 // 2, age * 365 - 30))
            tables["condition"].add(g.uuid(), created, created, None, self.id, key, diagnosed)

    # -- episodes --

    def _episodes(self) -> list[dict]:
        """Their episodes, oldest first: {referred, status, decided, closed}."""
        g = self.g
        earliest = g.start - HISTORY_BEFORE_WINDOW
        if g.random() >= REFERRED_SHARE:
            return []  # on the register from risk stratification, never referred
        last = self._referral(g.between(earliest, g.today - 1), g.today)
        episodes = [last]
        if g.random() < EARLIER_EPISODE and last["referred"] - earliest > 240:
            referred = g.between(earliest, last["referred"] - 240)
            # Closed some weeks before the next referral at the latest.
            episodes.insert(0, self._referral(referred, last["referred"] - g.between(30, 90)))
        return episodes

    def _referral(self, referred: int, ends_by: int) -> dict:
        """An episode referred on ``referred``: open when it lasts to
        ``ends_by`` (today), else closed before then."""
        g = self.g
        episode = {"referred": referred, "status": "active"}
        if referred >= g.today - 14 and g.random() < 0.4:
            episode["status"] = "referred"  # awaiting triage
            return episode
        least, mean = EPISODE_DAYS
        decided = episode["decided"] = min(referred + g.between(1, 10), g.today - 1)
        if g.random() < DECLINED:
            episode["status"], episode["closed"] = "declined", decided
        else:
            ends = decided + least + int(g.rng.expovariate(1 / mean))
            if ends < ends_by:
                episode["status"], episode["closed"] = g.pick(ENDINGS), ends
            elif ends_by < g.today:  # an earlier episode: closed before the next
                episode["status"], episode["closed"] = g.pick(ENDINGS), ends_by
        if episode["status"] == "died":
            self.died_on = episode["closed"]
        return episode

    def _episode(self, episode: dict) -> None:
        g = self.g
        network = self.network
        self.status = status = episode["status"]
        self.entry = entry = g.uuid()
        accepted = status not in ("referred", "declined")
        self.lead = g.one_of(network.leads or network.staff) if accepted else None
        self.navigator = g.one_of(network.navigators or network.staff) if accepted else None
        self.need = g.pick(NEEDS) if accepted else ""
        self.end = episode.get("closed", g.today)  # the day it ended, or today
        self.open = "closed" not in episode
        self.plans: list[dict] = []
        self.last_discussed = 0
        if accepted:
            self._care(episode)
        if status == "active" and not any(plan["ratified"] for plan in self.plans):
            status = "accepted"  # waiting for their first plan
        source = g.pick(SOURCES)
        referrer_organisation = {
            "gp_practice": self.practice,
            "community_nursing": network.serving["community_trust"],
            "social_care": network.serving["local_authority"],
            "mental_health": network.serving["mental_health_trust"],
            "hospital_discharge": network.serving["acute_trust"],
            "voluntary_sector": network.serving["voluntary_organisation"],
        }.get(source)
        if source == "gp_practice":
            referrer = f"Dr {g.one_of(g.family_names)}"
        else:
            referrer = f"{g.one_of(Names.first_names_female)} {g.one_of(g.family_names)}"
        created = g.office_hours(episode["referred"])
        decided = episode.get("decided")
        g.tables["entry"].add(
            entry,
            created,
            g.at(decided, 660) if decided else created,
            self.navigator.id if self.navigator else None,
            self.id,
            status,
            source,
            referrer,
            referrer_organisation,
            g.one_of(REASONS),
            "urgent" if g.random() < 0.1 else "routine",
            g.day(episode["referred"]),
            None,
            g.day(decided) if decided else None,
            g.pick(TIERS) if accepted else None,
            self.need,
            self.lead.id if self.lead else None,
            self.navigator.id if self.navigator else None,
            None if self.open else g.day(episode["closed"]),
        )

    # -- assessments, plans and discussions --

    def _care(self, episode: dict) -> None:
        """The episode's assessments and plan versions: each version ratified
        at an MDT discussion or by the chair, reviewed around its review date
        with a new version, until the episode ended or today."""
        g = self.g
        end = self.end
        day = episode["decided"] + g.between(3, 21)
        if day >= end:
            if self.open and g.random() < 0.3:
                started = max(episode["decided"], g.today - g.between(1, 10))
                self._assessment(started, kind="initial", draft=True)
            return
        self._assessment(day, kind="initial")
        proposed = day + g.between(1, 10)
        mdt_case = g.random() < MDT_CASES
        while proposed < end:
            at_mdt = mdt_case and g.random() < (
                LATER_PLAN_AT_MDT if self.plans else FIRST_PLAN_AT_MDT
            )
            reason = "review_due" if self.first_discussed else "new_referral"
            meeting = self._meeting_from(proposed) if at_mdt else None
            if at_mdt and meeting is None and self.open and self._on_next_agenda(proposed, reason):
                self._version(proposed, status="proposed")
                break
            if meeting is not None:
                ratified = meeting.day
            else:
                ratified = proposed + g.between(0, 7)
                if ratified >= end:
                    if self.open:
                        self._version(proposed, status=g.one_of(("draft", "proposed")))
                    break
            plan = self._version(proposed, ratified=ratified, meeting=meeting)
            if meeting is not None:
                relisted = g.random() < RELISTED
                self._discussion(meeting, reason, plan=plan, outcome="relist" if relisted else "")
                later = self._meeting_from(meeting.day + 1) if relisted else None
                if later is not None:
                    self._discussion(later, "relisted")
                elif relisted and self.open and self._on_next_agenda(meeting.day + 1, "relisted"):
                    pass  # re-listed at the last meeting held: on the next one's agenda
                elif reason == "new_referral" and g.random() < FOLLOWED_UP:
                    later = self._meeting_from(meeting.day + g.between(28, 56))
                    if later is not None and later.day < plan["review"]:
                        self._discussion(later, "review_due")
            self._plan_actions(plan)
            review = plan["review"]
            if review >= end:
                break
            if self.open and review > g.today - 45 and g.random() < REVIEW_LEFT_OVERDUE:
                break  # due, not yet reviewed
            if g.random() < REASSESSED_AT_REVIEW:
                self._assessment(max(ratified + 1, review - g.between(0, 14)), kind="reassessment")
            # The next version follows the review (and any re-assessment it is made from).
            proposed = max(
                ratified + 1, review + g.between(*REVIEW_LATENESS), self.assessments[-1][1]
            )
        self._finish_plans()
        if self.open and self.assessments and g.random() < DRAFT_ASSESSMENT:
            started = max(self.assessments[-1][1] + 1, g.today - g.between(1, 10))
            if started < g.today:
                self._assessment(started, kind="reassessment", draft=True)

    def _version(self, proposed: int, *, status="", ratified=None, meeting=None) -> dict:
        g = self.g
        weeks = g.pick(REVIEW_WEEKS)
        starts = ratified if ratified is not None else max(proposed, g.today - 1)
        plan = {
            "id": g.uuid(),
            "number": len(self.plans) + 1,
            "previous": self.plans[-1]["id"] if self.plans else None,
            "assessment": self.assessments[-1][0] if self.assessments else None,
            "status": status,
            "proposed": proposed,
            "ratified": ratified,
            "ratified_at": None,
            "meeting": meeting,
            "weeks": weeks,
            "starts": starts,
            "review": starts + 7 * weeks,
            "shared": None,
        }
        if ratified is not None:
            if meeting is not None:
                # The moment of the discussion that ratifies it, the next item.
                plan["ratified_at"] = g.at(ratified, meeting.moment(meeting.items + 1))
            else:
                plan["ratified_at"] = g.office_hours(ratified)
            if g.random() < 0.7:
                shared = ratified + g.between(0, 14)
                if shared < self.end:
                    plan["shared"] = shared
        self.plans.append(plan)
        return plan

    def _finish_plans(self) -> None:
        """The versions' final statuses, and their rows: each superseded by
        the next ratified one; the last closed with the episode, or in force
        today (perhaps with its next version started)."""
        g = self.g
        in_force = [plan for plan in self.plans if plan["ratified"] is not None]
        if in_force:
            last = in_force[-1]
            for plan in in_force[:-1]:
                plan["status"] = "superseded"
            if not self.open:
                last["status"] = "closed"
                if self.status in ("discharged", "stepped_down"):
                    self._closing_discussion()
            else:
                last["status"] = "shared" if last["shared"] else "ratified"
                if (
                    last is self.plans[-1]
                    and last["review"] < g.today + 21
                    and g.random() < NEXT_VERSION_STARTED
                ):
                    started = max(last["ratified"] + 1, g.today - g.between(1, 14))
                    self._version(started, status=g.one_of(("draft", "proposed")))
        for plan in self.plans:
            self._plan_row(plan)

    def _plan_row(self, plan: dict) -> None:
        g = self.g
        chair, lead, navigator = self.network.chair, self.lead, self.navigator
        ratified, shared = plan["ratified"], plan["shared"]
        proposed = plan["status"] != "draft"
        proposed_day = min(plan["proposed"], g.today - 1)
        created = g.office_hours(proposed_day - g.between(0, 3))
        ratified_at = plan["ratified_at"]
        if ratified is None:
            note = ""
        elif plan["meeting"] is not None:
            note = f"Ratified at the MDT on {g.long_date(ratified)}"
        else:
            note = "Ratified by the GP chair between meetings"
        g.tables["plan"].add(
            plan["id"],
            created,
            max(ratified_at, created) if ratified_at else created,
            lead.id,
            self.id,
            self.entry,
            plan["number"],
            plan["previous"],
            plan["assessment"],
            plan["status"],
            self.need,
            lead.id,
            navigator.id,
            g.one_of(SELF_MANAGEMENT),
            g.one_of(CONTINGENCY),
            g.one_of(CARER_INVOLVEMENT),
            plan["weeks"],
            g.day(plan["starts"]),
            g.day(plan["review"]),
            g.between(1, 6),
            lead.id if proposed else None,
            g.at(proposed_day, 900) if proposed else None,
            chair.id if ratified is not None else None,
            ratified_at,
            note,
            navigator.id if shared else None,
            g.day(shared) if shared else None,
            g.pick(SHARING) if shared else "",
        )

    def _assessment(self, day: int, *, kind: str, draft: bool = False) -> None:
        g = self.g
        assessor = self.lead
        assessment = g.uuid()
        previous = self.assessments[-1][0] if kind == "reassessment" and self.assessments else None
        answers, scores = g.one_of(g.answers["draft" if draft else "signed"])
        created = g.at(day, 540 + g.between(0, 300))
        signed_at = None if draft else g.at(day, 960 + g.between(0, 120))
        g.tables["assessment"].add(
            assessment,
            created,
            signed_at or created,
            assessor.id,
            self.id,
            kind,
            previous,
            assessor.id,
            g.day(day),
            g.pick(SETTINGS),
            g.one_of(PEOPLE_PRESENT),
            "draft" if draft else "completed",
            answers,
            g.between(6, 14),  # a save per section, then the signing
            None if draft else assessor.id,
            signed_at,
            scores,
        )
        if not draft:
            self.assessments.append((assessment, day))
            if kind == "reassessment" and g.random() < 0.4:
                self._action(day, signed_at, source="review", choices=REVIEW_ACTIONS)

    def _meeting_from(self, day: int) -> _Meeting | None:
        """The first held meeting of their locality on or after ``day``, within
        MAX_WAIT days and while the episode lasts, where the person is not on
        the agenda and the agenda is not full."""
        series = self.series
        index = bisect.bisect_left(series.held_days, day)
        while index < len(series.held):
            meeting = series.held[index]
            if meeting.day >= self.end or meeting.day > day + MAX_WAIT:
                return None
            if meeting.items < MEETING_ITEMS_MOST and meeting.id not in self.on_agendas:
                return meeting
            index += 1
        return None

    def _on_next_agenda(self, proposed: int, reason: str) -> bool:
        """On the next meeting's agenda, when it is the one that will ratify."""
        upcoming = self.series.upcoming
        if upcoming is None or upcoming.day > proposed + MAX_WAIT or upcoming.id in self.on_agendas:
            return False
        self._item(upcoming, reason)
        return True

    def _item(self, meeting: _Meeting, reason: str, *, not_reached: bool = False) -> str:
        g = self.g
        self.on_agendas.add(meeting.id)
        meeting.items += 1
        item = g.uuid()
        created = g.at(max(meeting.day - 7, self.registered), 600)
        g.tables["item"].add(
            item,
            created,
            g.at(meeting.day, meeting.ends + 10) if not_reached else created,
            self.navigator.id,
            meeting.id,
            self.id,
            reason,
            meeting.items,
            "",
            not_reached,
        )
        return item

    def _discussion(self, meeting: _Meeting, reason: str, *, plan=None, outcome="") -> None:
        g = self.g
        if plan is None and g.random() < NOT_REACHED:
            later = self._meeting_from(meeting.day + 1)
            if later is not None:
                self._item(meeting, reason, not_reached=True)
                meeting, reason = later, "carried_forward"
        item = self._item(meeting, reason)
        chair = self.network.chair
        at = g.at(meeting.day, meeting.moment(meeting.items))
        discussion = g.uuid()
        g.tables["discussion"].add(
            discussion,
            at,
            at,
            chair.id,
            item,
            g.one_of(SUMMARIES),
            g.one_of(DECISIONS),
            outcome or g.pick(CONTINUING),
            self.need,
            self.lead.id,
            plan["id"] if plan else None,
            g.day(plan["review"]) if plan else None,
            chair.id,
            1,
        )
        if self.first_discussed is None:
            self.first_discussed = meeting.day
        self.last_discussed = max(self.last_discussed, meeting.day)
        plan_id = plan["id"] if plan else None
        for _ in range(g.one_of(ACTIONS_PER_DISCUSSION)):
            self._action(meeting.day, at, source="discussion", discussion=discussion, plan=plan_id)

    def _closing_discussion(self) -> None:
        """The step-down or discharge decided at the last meeting before it."""
        g, series = self.g, self.series
        if not self.last_discussed or g.random() >= HANDED_OVER_AT_MDT:
            return  # handed over by the clinical lead, not at an MDT
        index = bisect.bisect_right(series.held_days, self.end) - 1
        if index < 0:
            return
        meeting = series.held[index]
        if meeting.day <= self.last_discussed or meeting.day < self.end - 30:
            return
        if meeting.id in self.on_agendas or meeting.items >= MEETING_ITEMS_MOST:
            return
        outcome = "discharge" if self.status == "discharged" else "step_down"
        self._discussion(meeting, "review_due", outcome=outcome)

    def _plan_actions(self, plan: dict) -> None:
        g = self.g
        for _ in range(g.one_of(ACTIONS_PER_PLAN)):
            self._action(plan["ratified"], plan["ratified_at"], source="plan", plan=plan["id"])
        # Others, over the plan's time in force.
        span = max(0, min(plan["review"], self.end) - plan["ratified"])
        for _ in range(_poisson(g.random, OTHER_ACTIONS_PER_YEAR * span / 365)):
            day = plan["ratified"] + g.between(0, span)
            if day < g.today:
                self._action(day, g.office_hours(day), source="other")

    def _action(
        self,
        day: int,
        at: str,
        *,
        source: str,
        discussion: str | None = None,
        plan: str | None = None,
        choices: Sequence[str] = ACTIONS,
    ) -> None:
        """An action agreed on ``day``: most done, a few cancelled, and of
        those still to do some overdue, more of them among the recent; those
        left when the episode ends are cancelled then."""
        g = self.g
        serving = self.network.serving
        left = g.today - day  # days since it was agreed
        due = day + g.one_of(ACTION_DUE_DAYS)
        roll = g.random()
        if roll < 0.80:
            owner, team = self._owner(), None
        elif roll < 0.97 or left > 14:
            kind = g.one_of(("community_trust", "local_authority", "voluntary_organisation"))
            owner, team = None, serving[kind]
        else:
            owner = team = None  # not yet assigned
        status, completed, cancelled = "open", None, None
        if g.random() < 0.03 and left > 1:
            status = "cancelled"
            cancelled = g.office_hours(day + g.between(1, min(left - 1, 60)))
        elif owner is not None or team is not None:
            # Done by its due date mostly, some late; still to do if not yet.
            late = g.random() >= 0.8
            took = due - day + g.between(1, 60) if late else g.between(0, due - day)
            still_to_do = 0.025 + 0.25 * math.exp(-left / 40)
            if took < left and g.random() >= still_to_do:
                status = "done"
                completed = g.office_hours(day + took)
            elif g.random() < 0.4:
                status = "in_progress"
        if status in ("open", "in_progress") and not self.open:
            status = "cancelled"  # what is left to do when the episode ends
            cancelled = g.office_hours(self.end)
        g.tables["action"].add(
            g.uuid(),
            at,
            completed or cancelled or at,
            self.lead.id,
            self.id,
            g.one_of(choices),
            owner,
            team,
            g.day(due),
            g.pick(PRIORITIES),
            status,
            source,
            discussion,
            plan,
            "Done" if completed and g.random() < 0.3 else "",
            completed,
            (owner or self.lead.id) if completed else None,
            cancelled,
            self.network.id,  # the person's (Action.network)
        )

    def _owner(self) -> str:
        g = self.g
        roll = g.random()
        if roll < 0.4:
            return self.lead.id
        if roll < 0.6:
            return self.navigator.id
        return g.one_of(self.network.staff).id

    # -- hospital activity --

    def _hospital_activity(self) -> None:
        """Their hospital use month by month, a row for each month with any:
        a personal level (skewed: a few people account for much of it)
        rising with risk; A&E and emergency admissions a quarter fewer after
        their first MDT discussion; nothing after death."""
        g = self.g
        months = g.hospital_months
        last = len(months)
        if self.died_on is not None:
            last = bisect.bisect_right(months, self.died_on)
        if not last:
            return
        level = g.rng.gammavariate(0.5, 2.0) * (0.4 + self.risk / 20)
        events = _poisson(g.random, HOSPITAL_EVENTS_PER_MONTH * level * len(months))
        counts: dict[int, list[int]] = {}
        first_discussed = self.first_discussed or g.today
        for _ in range(events):
            month = months[int(g.random() * last)]
            kind = g.pick(HOSPITAL_KINDS)
            if kind < 2 and month > first_discussed and g.random() < 0.25:
                continue
            row = counts.get(month)
            if row is None:
                row = counts[month] = [0, 0, 0, 0, 0]
            row[kind] += 1
            if kind == 1:
                row[4] += 1 + int(g.rng.expovariate(1 / 7))  # bed days
            elif kind == 2 and g.random() < 0.25:
                row[4] += 1
        for month in sorted(counts):
            first = dt.date.fromordinal(month)
            imported = dt.date(first.year + first.month // 12, first.month % 12 + 1, 10)
            at = g.at(imported.toordinal(), 660)
            g.tables["hospital"].add(g.uuid(), at, at, None, self.id, g.day(month), *counts[month])


def _poisson(random_number: Callable[[], float], mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # near enough normal, and Knuth's method would take long
        return max(0, round(mean + math.sqrt(mean) * _normal(random_number)))
    limit, count, product = math.exp(-mean), 0, random_number()
    while product > limit:
        count += 1
        product *= random_number()
    return count


def _normal(random_number: Callable[[], float]) -> float:
    return math.sqrt(-2 * math.log(1 - random_number())) * math.cos(2 * math.pi * random_number())


def _answer_pool(rng: random.Random) -> dict[str, list[tuple[_Verbatim, _Verbatim]]]:
    """A few dozen complete, valid sets of answers (every mandatory section
    completed, instrument items with published values) with the scores as
    signing freezes them (``assessment_complete``); and drafts' first sections."""
    signed, drafts = [], []
    for _ in range(48):
        function = {
            "bowels": 2,
            "bladder": rng.choice((1, 2, 2)),
            "grooming": 1,
            "toilet": rng.choice((1, 2)),
            "feeding": 2,
            "transfer": rng.choice((2, 3)),
            "mobility": rng.choice((1, 2, 3)),
            "dressing": rng.choice((1, 2)),
            "stairs": rng.choice((0, 1, 2)),
            "bathing": rng.choice((0, 1)),
        }
        low = rng.random() < 0.3
        mood = {f"phq9_{n}": rng.choice((0, 1, 2, 3) if low else (0, 0, 1)) for n in range(1, 9)}
        mood["phq9_9"] = 0
        mood |= {f"gad7_{n}": rng.choice((0, 1, 2) if low else (0, 0, 1)) for n in range(1, 8)}
        mood["memory_concerns"] = rng.choice(("no", "no", "yes"))
        fell = rng.random() < 0.4
        falls = {
            "fell_last_12_months": "yes" if fell else "no",
            "tug_seconds": f"{rng.uniform(8, 25):.1f}",
        }
        if fell:
            falls["falls_count"] = rng.randint(1, 4)
        answers = {
            "physical_health": {
                "health_in_own_words": "Tired, and my legs are not what they were",
                "admissions_last_12_months": rng.choice((0, 1, 2)),
            },
            "medicines": {"medicines_count": rng.randint(4, 14), "problems_taking": "no"},
            "function": function,
            "falls": falls,
            "continence": {"continence_problems": "yes" if function["bladder"] < 2 else "no"},
            "mood": mood,
            "frailty": {"cfs": rng.randint(3, 7)},
            "social": {
                "lives_alone": rng.choice(("yes", "no")),
                "has_carer": rng.choice(("yes", "no")),
            },
            "what_matters": {
                "i_statements": ["I want to stay in my own home", "I want to get to the shops"]
            },
        }
        scores = {
            key: {
                "total": score.total,
                "maximum": score.maximum,
                "band": score.band,
                "flags": list(score.flags),
            }
            for key, score in assessment_scores(answers).items()
        }
        signed.append((_json(answers), _json(scores)))
        draft = {key: answers[key] for key in ("physical_health", "medicines", "frailty")}
        drafts.append((_json(draft), _json({})))
    return {"signed": signed, "draft": drafts}


# --- running it --------------------------------------------------------------------------

# What replace=True empties (CASCADE also empties whatever refers to these).
GENERATED_TABLES = (
    "accounts_network",
    "accounts_organisation",
    "accounts_user",
    "accounts_membership",
    "patients_patient",
    "patients_riskscore",
    "patients_patientcondition",
    "patients_registerentry",
    "patients_hospitalactivity",
    "careplans_assessment",
    "careplans_careplan",
    "meetings_meetingseries",
    "meetings_meeting",
    "meetings_meeting_invited",
    "meetings_attendance",
    "meetings_agendaitem",
    "meetings_discussion",
    "meetings_action",
    "audit_accessevent",
    "audit_accesseventpatient",
    "audit_changeevent",
    "django_session",
)
# Refused (unless replace=True) when any of these has rows.
GUARDED = (Network, Organisation, Patient, Meeting)


class GeneratorError(Exception):
    """Why the generator will not run, for the person running it."""


@dataclass
class Result:
    scale: Scale
    tables: list[dict]  # {table, rows, seconds (its COPY), first_id, last_id}
    generate_seconds: float
    load_seconds: float
    audit_seconds: float
    analyze_seconds: float
    total_seconds: float
    logins: dict[str, dict[str, str]]  # network code -> role -> username

    def rows(self, table: str) -> int:
        return next((t["rows"] for t in self.tables if t["table"] == table), 0)

    def report(self) -> str:
        """The Markdown table of rows and COPY times per table, and the phases."""
        lines = [
            "| table | rows | COPY (s) | indexes (s) | rows/s |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for t in [*self.tables, _total(self.tables)]:
            seconds = t["seconds"] + t["index_seconds"]
            rate = t["rows"] / seconds if seconds else 0
            lines.append(
                f"| {t['table']} | {t['rows']:,} | {t['seconds']:.1f} | "
                f"{t['index_seconds']:.1f} | {rate:,.0f} |"
            )
        rows = _total(self.tables)["rows"]
        lines += [
            "",
            f"Generating the rows (Python, one pass, to temporary files): "
            f"{self.generate_seconds:.1f} s; loading them (COPY, sequences, TOTP devices): "
            f"{self.load_seconds:.1f} s; access events: {self.audit_seconds:.1f} s; "
            f"ANALYZE and VACUUM: {self.analyze_seconds:.1f} s. Total {self.total_seconds:.1f} s, "
            f"{rows / self.total_seconds if self.total_seconds else 0:,.0f} rows/s overall.",
        ]
        return "\n".join(lines)


def _total(tables: list[dict]) -> dict:
    return {
        "table": "all",
        "rows": sum(t["rows"] for t in tables),
        "seconds": sum(t["seconds"] for t in tables),
        "index_seconds": sum(t["index_seconds"] for t in tables),
    }


def generate(
    *,
    patients: int,
    seed: int = DEFAULT_SEED,
    months: int = 24,
    networks: int = 12,
    today: dt.date | None = None,
    password: str = DEFAULT_PASSWORD,
    audit_events: int = 0,
    replace: bool = False,
    out=None,
) -> Result:
    """Fill the database with the ceiling data set scaled to ``patients``
    people, in one transaction: all of it or nothing. Raises GeneratorError
    on a database other than PostgreSQL, and when the database holds data
    already, unless ``replace``."""
    from django.utils import timezone

    out = out or sys.stdout
    if connection.vendor != "postgresql":
        raise GeneratorError(
            "The ceiling data generator needs PostgreSQL (it loads with COPY), but "
            f"DATABASE_URL names a {connection.vendor} database: set "
            "DATABASE_URL=postgres://user@host:5432/name."
        )
    _check_texts()
    today = today or timezone.localdate()
    scale = Scale.of(patients=patients, seed=seed, months=months, networks=networks, today=today)
    started = time.perf_counter()
    out.write(
        f"Generating {scale.patients:,} people in {scale.networks} networks of "
        f"{scale.practices_per_network} practices and {scale.series_per_network} "
        f"{scale.frequency} MDT series, {scale.practitioners:,} practitioners, "
        f"{scale.months} months from {scale.window_start} to {scale.today}, seed {scale.seed}\n"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _empty_or_replace(cursor, replace=replace, out=out)
        # One hash for every known login, its salt from the seed: hashing is
        # slow on purpose, and the data must come out the same each time.
        salt = f"{random.Random(seed).getrandbits(64):016x}"
        generator = _Generator(scale, password_hash=make_password(password, salt=salt), out=out)
        generator.world()
        generator.people()
        generator.meetings()
        generate_seconds = time.perf_counter() - started
        out.write(f"Generated in {generate_seconds:.1f} s; loading:\n")
        out.flush()
        load_started = time.perf_counter()
        # Index builds sort in memory, not on disk, with this (for this
        # transaction only).
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        with common.audit_triggers_skipped(cursor):
            for table in generator.tables.values():
                table.load(cursor.cursor)
                _progress(out, table)
            _reset_sequences(cursor, [RiskScore, Meeting.invited.through])
            _totp_devices(generator.totp)
            load_seconds = time.perf_counter() - load_started
            audit_started = time.perf_counter()
            audit_tables = _access_events(cursor, generator, audit_events, out=out)
            audit_seconds = time.perf_counter() - audit_started
        analyze_started = time.perf_counter()
        tables = [*generator.tables.values(), *audit_tables]
        names = ", ".join(f'"{table.name}"' for table in tables)
        cursor.execute(f"ANALYZE {names}")
    if not connection.in_atomic_block:  # not a test's transaction
        # The visibility map that index-only scans need, as autovacuum would
        # have made it in a database in use (and some servers run without it).
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {names}")
    analyze_seconds = time.perf_counter() - analyze_started
    return Result(
        scale=scale,
        tables=[table.summary() for table in tables],
        generate_seconds=generate_seconds,
        load_seconds=load_seconds,
        audit_seconds=audit_seconds,
        analyze_seconds=analyze_seconds,
        total_seconds=time.perf_counter() - started,
        logins={
            network.code: {role: login.format(code=network.code) for role, login in LOGINS.items()}
            for network in generator.networks
        },
    )


def _progress(out, table: Table) -> None:
    seconds = table.seconds + table.index_seconds
    rate = table.rows / seconds if seconds else 0
    out.write(
        f"  {table.name:<28} {table.rows:>11,} rows  COPY {table.seconds:6.1f} s  "
        f"indexes {table.index_seconds:5.1f} s  {rate:>9,.0f} rows/s\n"
    )
    out.flush()


def _empty_or_replace(cursor, *, replace: bool, out) -> None:
    found = [model._meta.db_table for model in GUARDED if model.objects.exists()]
    if not found:
        return
    if not replace:
        raise GeneratorError(
            f"The database has data already ({', '.join(found)}). Generate into an empty "
            "database, or pass --replace to empty the generated tables first."
        )
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM patients_patient WHERE nhs_number NOT LIKE %s)",
        [nhs_number.TEST_RANGE_PREFIX + "%"],
    )
    if cursor.fetchone()[0]:
        raise GeneratorError(
            "Not replacing: the database has patients outside the 999 test range of NHS "
            "numbers, so it is not a generated one."
        )
    started = time.perf_counter()
    # Superusers made by hand to look around are kept (without their sessions,
    # tokens and devices). The audit tables refuse TRUNCATE with a trigger,
    # skipped here like the others.
    cursor.execute(
        "CREATE TEMPORARY TABLE generator_kept_users AS "
        "SELECT * FROM accounts_user WHERE is_superuser AND email NOT LIKE %s",
        ["%@" + EMAIL_DOMAIN],
    )
    with common.audit_triggers_skipped(cursor):
        tables = ", ".join(f'"{name}"' for name in GENERATED_TABLES)
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        cursor.execute("INSERT INTO accounts_user SELECT * FROM generator_kept_users")
    cursor.execute("DROP TABLE generator_kept_users")
    out.write(f"Emptied the generated tables in {time.perf_counter() - started:.1f} s\n")


def _totp_devices(devices: list[tuple[str, str]]) -> None:
    """A confirmed authenticator for each network's admin (admins must use a
    second factor); its key is in the table, for a benchmark to make codes."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.bulk_create(
        TOTPDevice(user_id=user, name="Benchmark authenticator", confirmed=True, key=key)
        for user, key in devices
    )


def _reset_sequences(cursor, models) -> None:
    """After rows with explicit integer ids: the next id the database gives."""
    for model in models:
        table = model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'COALESCE(MAX(id), 0) + 1, false) FROM "{table}"'
        )


ACCESS_KINDS = _Weights(
    {
        # (what, path, patients shown): share
        ("patient.view", "/patients/{id}/", 1): 70,
        ("care_plan.view", "/careplans/{id}/", 1): 10,
        ("patient.list", "/patients/", 25): 12,
        ("patient.search", "/patients/?search=smith", 10): 5,
        ("actions.worklist", "/actions/", 0): 3,
    }
)


def _access_events(cursor, generator: _Generator, count: int, *, out) -> list[Table]:
    """``count`` access events by the networks' practitioners over the months
    (a record viewed, a list or search shown), with the patients each showed:
    two COPYs made from the same seeded sequence, read twice."""
    if count <= 0:
        return []
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM audit_accessevent")
    first_event = cursor.fetchone()[0] + 1
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM audit_accesseventpatient")
    first_link = cursor.fetchone()[0] + 1
    patients = generator.patient_ids
    networks = [network for network in generator.networks if network.staff]
    base = dt.datetime.fromordinal(generator.start).replace(tzinfo=dt.UTC)
    seconds = (generator.today - generator.start) * 86_400

    def events():
        rng = random.Random(generator.scale.seed + 2)
        number = rng.random
        for n in range(count):
            network = networks[n % len(networks)]
            user = network.staff[int(number() * len(network.staff))]
            what, path, shown = ACCESS_KINDS.pick(number())
            at = base + dt.timedelta(seconds=int(number() * seconds))
            ids = [patients[int(number() * len(patients))] for _ in range(shown)]
            yield (
                first_event + n,
                user,
                what,
                path.format(id=ids[0] if ids else ""),
                at,
                ids,
                network,
            )

    events_table = Table(
        AccessEvent, "id at user_id role what path method request_id reason patient_count"
    )
    links_table = Table(AccessEventPatient, "id event_id patient_id")
    raw = cursor.cursor
    with indexes_built_after(raw, events_table), raw.copy(events_table.sql) as copy:
        for event, user, what, path, at, ids, network in events():
            reason = f"member of {network.name} as member"
            row = (
                event,
                at,
                user.id,
                "member",
                what,
                path,
                "GET",
                f"bench-{event}",
                reason,
                len(ids),
            )
            copy.write_row(row)
    events_table.rows, events_table.first_id = count, first_event
    events_table.last_id = first_event + count - 1
    link = first_link
    with indexes_built_after(raw, links_table), raw.copy(links_table.sql) as copy:
        for event, *_, ids, _ in events():
            for patient in ids:
                copy.write_row((link, event, patient))
                link += 1
    links_table.rows = link - first_link
    links_table.first_id, links_table.last_id = first_link, link - 1
    _reset_sequences(cursor, [AccessEvent, AccessEventPatient])
    for table in (events_table, links_table):
        table._file.close()
        _progress(out, table)
    return [events_table, links_table]
