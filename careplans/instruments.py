"""The scored instruments of the holistic assessment, with their items as
published and their scoring. Scores are computed here, never typed.

Each instrument takes the answers of its items (``{item key: value}``) and
returns a ``Score``: the total and its band when every item is answered,
"incomplete" otherwise (never a partial total).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    key: str
    wording: str
    options: tuple[Option, ...]

    def allows(self, value) -> bool:
        return any(option.value == value for option in self.options)


@dataclass(frozen=True)
class Band:
    lowest: int
    highest: int
    label: str


@dataclass(frozen=True)
class Score:
    instrument: str
    total: int | None
    maximum: int
    band: str = ""
    flags: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return self.total is not None

    def __str__(self) -> str:
        if self.total is None:
            return "incomplete"
        if not self.maximum:  # a count, such as falls, has no maximum
            return f"{self.total}" + (f" ({self.band})" if self.band else "")
        return f"{self.total}/{self.maximum}" + (f" ({self.band})" if self.band else "")


@dataclass(frozen=True)
class Instrument:
    key: str
    name: str
    question: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()

    @property
    def maximum(self) -> int:
        return sum(max(option.value for option in item.options) for item in self.items)

    def band_for(self, total: int) -> str:
        return next((band.label for band in self.bands if band.lowest <= total <= band.highest), "")

    def score(self, answers: dict) -> Score:
        values = [answers.get(item.key) for item in self.items]
        if any(value is None or value == "" for value in values):
            return Score(self.key, None, self.maximum)
        numbers = [int(value) for value in values]
        for item, number in zip(self.items, numbers, strict=True):
            if not item.allows(number):
                raise ValueError(f"{self.name}: {number} is not an answer to “{item.wording}”")
        total = sum(numbers)
        return Score(self.key, total, self.maximum, self.band_for(total))


# --- Clinical Frailty Scale (version 2.0 labels) --------------------------------

CFS_LEVELS = (
    Option(1, "Very fit: robust, active, energetic and motivated; among the fittest for their age"),
    Option(2, "Fit: no active disease symptoms but less fit than category 1; active occasionally"),
    Option(
        3, "Managing well: medical problems well controlled, not regularly active beyond walking"
    ),
    Option(
        4,
        "Living with very mild frailty: not dependent, but symptoms limit activities; "
        "often complains of being slowed up or tired",
    ),
    Option(
        5,
        "Living with mild frailty: evident slowing; needs help with higher-order "
        "activities such as finances, transport, heavy housework",
    ),
    Option(
        6,
        "Living with moderate frailty: needs help with all outside activities and "
        "keeping house; problems with stairs; needs help with bathing",
    ),
    Option(
        7,
        "Living with severe frailty: completely dependent for personal care, but "
        "stable and not at high risk of dying within 6 months",
    ),
    Option(
        8,
        "Living with very severe frailty: completely dependent, approaching end of "
        "life; typically could not recover even from a minor illness",
    ),
    Option(
        9,
        "Terminally ill: approaching the end of life, life expectancy under 6 months, "
        "not otherwise living with severe frailty",
    ),
)


def cfs_score(level) -> Score:
    """The Clinical Frailty Scale is one judgement, 1 to 9, not a sum."""
    if level in (None, ""):
        return Score("cfs", None, 9)
    level = int(level)
    if not 1 <= level <= 9:
        raise ValueError(f"Clinical Frailty Scale: {level} is not a level from 1 to 9")
    return Score("cfs", level, 9, CFS_LEVELS[level - 1].label.split(":")[0])


# --- Barthel index (UK scoring, 0-20) ---------------------------------------------


def _options(*labels: str) -> tuple[Option, ...]:
    return tuple(Option(value, label) for value, label in enumerate(labels))


BARTHEL = Instrument(
    key="barthel",
    name="Barthel index",
    question="What the person actually does (not what they could do)",
    items=(
        Item(
            "bowels",
            "Bowels",
            _options(
                "Incontinent (or needs enemas)", "Occasional accident (once a week)", "Continent"
            ),
        ),
        Item(
            "bladder",
            "Bladder",
            _options(
                "Incontinent, or catheterised and unable to manage",
                "Occasional accident (at most once in 24 hours)",
                "Continent (for over 7 days)",
            ),
        ),
        Item(
            "grooming",
            "Grooming",
            _options(
                "Needs help with personal care",
                "Independent: face, hair, teeth, shaving (implements provided)",
            ),
        ),
        Item(
            "toilet",
            "Toilet use",
            _options(
                "Dependent",
                "Needs some help, but can do something alone",
                "Independent (on and off, dressing, wiping)",
            ),
        ),
        Item(
            "feeding",
            "Feeding",
            _options("Unable", "Needs help cutting, spreading butter, etc.", "Independent"),
        ),
        Item(
            "transfer",
            "Transfer (bed to chair and back)",
            _options(
                "Unable: no sitting balance",
                "Major help (one or two people, physical), can sit",
                "Minor help (verbal or physical)",
                "Independent",
            ),
        ),
        Item(
            "mobility",
            "Mobility (on level surfaces)",
            _options(
                "Immobile",
                "Wheelchair independent, including corners",
                "Walks with help of one person (verbal or physical)",
                "Independent (but may use any aid, such as a stick)",
            ),
        ),
        Item(
            "dressing",
            "Dressing",
            _options(
                "Dependent",
                "Needs help, but can do about half unaided",
                "Independent (including buttons, zips, laces)",
            ),
        ),
        Item(
            "stairs",
            "Stairs",
            _options(
                "Unable", "Needs help (verbal, physical, carrying aid)", "Independent up and down"
            ),
        ),
        Item("bathing", "Bathing", _options("Dependent", "Independent (or in shower)")),
    ),
    bands=(
        Band(0, 4, "very severe dependency"),
        Band(5, 9, "severe dependency"),
        Band(10, 14, "moderate dependency"),
        Band(15, 19, "mild dependency"),
        Band(20, 20, "independent"),
    ),
)

# --- PHQ-9 and GAD-7 (over the last 2 weeks) --------------------------------------

FREQUENCY = _options("Not at all", "Several days", "More than half the days", "Nearly every day")
OVER_TWO_WEEKS = "Over the last 2 weeks, how often have you been bothered by any of the following?"

PHQ9 = Instrument(
    key="phq9",
    name="PHQ-9",
    question=OVER_TWO_WEEKS,
    items=tuple(
        Item(f"phq9_{number}", wording, FREQUENCY)
        for number, wording in enumerate(
            (
                "Little interest or pleasure in doing things",
                "Feeling down, depressed, or hopeless",
                "Trouble falling or staying asleep, or sleeping too much",
                "Feeling tired or having little energy",
                "Poor appetite or overeating",
                "Feeling bad about yourself, or that you are a failure or have let "
                "yourself or your family down",
                "Trouble concentrating on things, such as reading the newspaper or "
                "watching television",
                "Moving or speaking so slowly that other people could have noticed; or "
                "the opposite, being so fidgety or restless that you have been moving "
                "around a lot more than usual",
                "Thoughts that you would be better off dead, or of hurting yourself in some way",
            ),
            start=1,
        )
    ),
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
)
PHQ9_SELF_HARM_ITEM = "phq9_9"

GAD7 = Instrument(
    key="gad7",
    name="GAD-7",
    question=OVER_TWO_WEEKS,
    items=tuple(
        Item(f"gad7_{number}", wording, FREQUENCY)
        for number, wording in enumerate(
            (
                "Feeling nervous, anxious or on edge",
                "Not being able to stop or control worrying",
                "Worrying too much about different things",
                "Trouble relaxing",
                "Being so restless that it is hard to sit still",
                "Becoming easily annoyed or irritable",
                "Feeling afraid as if something awful might happen",
            ),
            start=1,
        )
    ),
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 21, "severe"),
    ),
)

# The two-item screens are the first two items of each; 3 or more is positive.
SCREEN_POSITIVE_FROM = 3


def two_item_screen(instrument: Instrument, answers: dict, key: str) -> Score:
    first_two = Instrument(
        key, f"{instrument.name[:3]}-2", instrument.question, instrument.items[:2]
    )
    score = first_two.score(answers)
    if score.total is None:
        return score
    band = "positive screen" if score.total >= SCREEN_POSITIVE_FROM else "negative screen"
    return Score(key, score.total, 6, band)


def phq9_self_harm_flag(answers: dict) -> bool:
    """Item 9 (thoughts of being better off dead or of self-harm) above zero."""
    value = answers.get(PHQ9_SELF_HARM_ITEM)
    return value not in (None, "") and int(value) > 0


# --- Falls ------------------------------------------------------------------------

TUG_FLAG_SECONDS = Decimal(12)


def falls_score(answers: dict) -> Score:
    """Falls in 12 months and the Timed Up and Go test; over 12 seconds flagged."""
    fell = answers.get("fell_last_12_months")
    if fell in (None, ""):
        return Score("falls", None, 0)
    count = int(answers.get("falls_count") or 0) if fell == "yes" else 0
    flags = []
    tug = answers.get("tug_seconds")
    if tug not in (None, ""):
        try:
            seconds = Decimal(str(tug))
        except InvalidOperation as exc:
            raise ValueError("Timed Up and Go must be a number of seconds") from exc
        if seconds > TUG_FLAG_SECONDS:
            flags.append(f"Timed Up and Go {seconds} s (over {TUG_FLAG_SECONDS} s)")
    if count >= 2:
        flags.append(f"{count} falls in 12 months")
    return Score("falls", count, 0, "fallen" if count else "no falls", tuple(flags))


INSTRUMENTS = {instrument.key: instrument for instrument in (BARTHEL, PHQ9, GAD7)}
