"""The one-page patient card the MDT reads for each person on an agenda: on
the chair's screen (one item) and in the pre-meeting pack (every item).

``patient_cards`` builds the cards of many agenda items in a fixed number
of queries, however many items there are: one query per kind of record
(agenda history with meetings and outcomes, episodes, status changes,
signed assessments, plan versions, their goals, actions), each for all the
people at once, grouped by patient in Python. Nothing is stored: ages,
score changes, "overdue" and "since the last discussion" are worked out
here from what the models hold.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from careplans.models import Assessment, CarePlan, CarePlanGoal
from careplans.plan_selectors import current_plan, review_state
from meetings.models import Action, AgendaItem, Discussion, Meeting
from patients.models import EntryStatus, EntryStatusChange, Patient, RegisterEntry

# The scores a card shows, in this order, with their short names. A two-item
# screen (PHQ-2, GAD-2) shows only when its full instrument is incomplete.
CARD_SCORES = (
    ("cfs", "CFS"),
    ("barthel", "Barthel"),
    ("phq9", "PHQ-9"),
    ("phq2", "PHQ-2"),
    ("gad7", "GAD-7"),
    ("gad2", "GAD-2"),
    ("falls", "Falls"),
)
SCREEN_OF = {"phq2": "phq9", "gad2": "gad7"}
# Scores that are a level or a count, shown without "of maximum".
NO_MAXIMUM = ("cfs", "falls")
# "Since the last discussion" keeps to a short list: the latest lines win.
SINCE_LINES = 8
MINUS = "\u2212"


@dataclass(frozen=True)
class CardScore:
    """One instrument's frozen score at the latest signed assessment, with
    the one at the signed assessment before it (when both are complete)."""

    key: str
    label: str
    total: int
    maximum: int | None
    band: str
    flags: tuple[str, ...] = ()
    previous: int | None = None

    @property
    def value(self) -> str:
        """``14/27``; ``6`` for the frailty level and the number of falls."""
        if self.key in NO_MAXIMUM or not self.maximum:
            return str(self.total)
        return f"{self.total}/{self.maximum}"

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.total - self.previous

    @property
    def change_text(self) -> str:
        """``was 18, -4`` (with a minus sign); ``was 14, no change``; empty
        without a previous score."""
        if self.change is None:
            return ""
        if self.change == 0:
            return f"was {self.previous}, no change"
        sign = "+" if self.change > 0 else MINUS
        return f"was {self.previous}, {sign}{abs(self.change)}"

    @property
    def band_text(self) -> str:
        """The band as it reads after the score: ``living with moderate frailty``."""
        return f"{self.band[:1].lower()}{self.band[1:]}"

    @property
    def text(self) -> str:
        """``PHQ-9 14/27, moderate (was 18, -4)``."""
        words = f"{self.label} {self.value}"
        if self.band:
            words += f", {self.band_text}"
        if self.change_text:
            words += f" ({self.change_text})"
        return words


@dataclass(frozen=True)
class OpenAction:
    action: Action
    overdue: bool


@dataclass(frozen=True)
class SinceLine:
    """Something that happened between the last discussion and this meeting."""

    on: dt.date
    text: str
    # Orders lines of the same day.
    at: dt.datetime


@dataclass(frozen=True)
class Card:
    """Everything the MDT needs about one person on the agenda."""

    item: AgendaItem  # with its meeting
    patient: Patient  # with its practice
    age: int
    # The open episode, else the latest one (its status, tier, primary need
    # and clinical lead); None for someone never referred.
    entry: RegisterEntry | None
    # The latest signed assessment and the one signed before it.
    assessment: Assessment | None
    previous_assessment: Assessment | None
    what_matters: tuple[str, ...]
    scores: tuple[CardScore, ...]
    plan: CarePlan | None
    # "overdue", "due" or "" (plan_selectors.review_state), for an open episode.
    plan_review: str
    goals: tuple[CarePlanGoal, ...]
    open_actions: tuple[OpenAction, ...]
    # The person's latest discussion at an earlier meeting of the network
    # (with ``item.meeting``), and what happened after it, oldest first.
    previous_discussion: Discussion | None
    since: tuple[SinceLine, ...]
    # Lines left off the short list (the oldest ones).
    since_more: int = 0

    @property
    def entry_is_open(self) -> bool:
        return self.entry is not None and self.entry.is_open

    @property
    def overdue_count(self) -> int:
        return sum(1 for each in self.open_actions if each.overdue)


def _age(patient: Patient, today: dt.date) -> int:
    on = patient.date_of_death or today
    born = patient.date_of_birth
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _meeting_start(meeting: Meeting) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(meeting.date, meeting.starts_at))


def _scores(latest: Assessment, before: Assessment | None) -> tuple[CardScore, ...]:
    """The frozen scores as signed (amendments leave them as they were)."""
    frozen = latest.scores or {}
    earlier = (before.scores or {}) if before is not None else {}
    lines = []
    for key, label in CARD_SCORES:
        score = frozen.get(key)
        if not isinstance(score, dict) or score.get("total") is None:
            continue
        full = frozen.get(SCREEN_OF.get(key, ""))
        if isinstance(full, dict) and full.get("total") is not None:
            continue  # the full instrument is shown instead of its screen
        previous = earlier.get(key)
        previous_total = previous.get("total") if isinstance(previous, dict) else None
        lines.append(
            CardScore(
                key=key,
                label=label,
                total=score["total"],
                maximum=score.get("maximum"),
                band=score.get("band") or "",
                flags=tuple(score.get("flags") or ()),
                previous=previous_total,
            )
        )
    return tuple(lines)


def _what_matters(assessment: Assessment | None) -> tuple[str, ...]:
    if assessment is None:
        return ()
    section = (assessment.answers or {}).get("what_matters") or {}
    statements = section.get("i_statements") or []
    if isinstance(statements, str):
        statements = statements.splitlines()
    return tuple(line.strip() for line in statements if str(line).strip())


def _earlier(meeting: Meeting, than: Meeting) -> bool:
    return (meeting.date, meeting.starts_at) < (than.date, than.starts_at)


def _previous_discussion(item: AgendaItem, history: list[AgendaItem]) -> Discussion | None:
    """The latest discussion of the person at an earlier meeting of the same
    network (a meeting of another network is outside this one's gate)."""
    meeting = item.meeting
    earlier = [
        row
        for row in history
        if row.pk != item.pk
        and getattr(row, "discussion", None) is not None
        and row.meeting.network_id == meeting.network_id
        and _earlier(row.meeting, meeting)
    ]
    if not earlier:
        return None
    latest = max(earlier, key=lambda row: (row.meeting.date, row.meeting.starts_at))
    discussion = latest.discussion
    discussion.item = latest  # so the card reads its meeting without a query
    return discussion


def _since(
    *,
    start: dt.datetime,
    end: dt.datetime,
    end_date: dt.date,
    previous: Discussion,
    assessments: list[Assessment],
    plans: list[CarePlan],
    actions: list[Action],
    changes: list[EntryStatusChange],
) -> list[SinceLine]:
    """What happened from the previous discussion (when it was recorded) to
    the start of this meeting: assessments signed, plan versions ratified or
    shared, actions done and changes of the episode's status."""

    def within(moment) -> bool:
        return moment is not None and start < moment < end

    lines = []
    for assessment in assessments:
        if within(assessment.signed_at):
            lines.append(
                SinceLine(
                    timezone.localdate(assessment.signed_at),
                    f"{assessment.get_kind_display()} signed",
                    assessment.signed_at,
                )
            )
    for plan in plans:
        # The plan the previous discussion itself ratified is its outcome, not news.
        if within(plan.ratified_at) and plan.pk != previous.ratified_plan_id:
            lines.append(
                SinceLine(
                    timezone.localdate(plan.ratified_at),
                    f"Care plan version {plan.number} ratified",
                    plan.ratified_at,
                )
            )
        shared = plan.shared_on
        if shared is not None and timezone.localdate(start) <= shared <= end_date:
            how = f" ({plan.get_shared_how_display().lower()})" if plan.shared_how else ""
            lines.append(
                SinceLine(
                    shared,
                    f"Care plan version {plan.number} shared with the person{how}",
                    timezone.make_aware(dt.datetime.combine(shared, dt.time.max)),
                )
            )
    for action in actions:
        if action.status == Action.Status.DONE and within(action.completed_at):
            lines.append(
                SinceLine(
                    timezone.localdate(action.completed_at),
                    f"Action done: {action.what}",
                    action.completed_at,
                )
            )
    for change in changes:
        if within(change.at):
            if change.from_status:
                text = (
                    f"Episode {EntryStatus(change.from_status).label.lower()} → "
                    f"{EntryStatus(change.to_status).label.lower()}"
                )
            else:
                text = "Referred to the register"
            lines.append(SinceLine(timezone.localdate(change.at), text, change.at))
    return sorted(lines, key=lambda line: (line.on, line.at))


def _grouped(rows: Iterable, key: str) -> dict:
    groups = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return groups


def patient_cards(items: list[AgendaItem]) -> dict[uuid.UUID, Card]:
    """The card of each agenda item, by the item's id.

    A fixed number of queries however many items (at most seven: agenda
    history, episodes, status changes, signed assessments, plan versions,
    goals, actions; a kind with nothing to look at is skipped). The items
    need only their ids and patient ids: their patient (with practice) and
    meeting are read again with the history."""
    if not items:
        return {}
    today = timezone.localdate()
    now = timezone.now()
    patient_ids = {item.patient_id for item in items}

    # Every agenda item of these people, with its meeting and outcome: the
    # items themselves (their meeting) and the people's earlier discussions.
    history_rows = list(
        AgendaItem.objects.filter(patient_id__in=patient_ids).select_related(
            "meeting", "discussion", "patient__practice"
        )
    )
    by_id = {row.pk: row for row in history_rows}
    history = _grouped(history_rows, "patient_id")
    rows = [by_id[item.pk] for item in items if item.pk in by_id]
    previous = {row.pk: _previous_discussion(row, history[row.patient_id]) for row in rows}

    # The window "since the last discussion" of all the cards together: the
    # queries below read it once, each card keeps its own part.
    starts = [d.created_at for d in previous.values() if d is not None]
    since_from = min(starts) if starts else None
    since_to = max(_meeting_start(row.meeting) for row in rows) if rows else now

    entries = _grouped(
        RegisterEntry.objects.filter(patient_id__in=patient_ids)
        .select_related("clinical_lead")
        .order_by("-referred_on", "-created_at"),
        "patient_id",
    )
    changes = defaultdict(list)
    if since_from is not None:
        for change in (
            EntryStatusChange.objects.filter(
                entry__patient_id__in=patient_ids, at__gt=since_from, at__lt=since_to
            )
            .annotate(patient_id=F("entry__patient_id"))
            .order_by("at", "id")
        ):
            changes[change.patient_id].append(change)
    assessments = _grouped(
        Assessment.objects.filter(
            patient_id__in=patient_ids, status=Assessment.Status.COMPLETED
        ).order_by("-assessed_on", "-signed_at", "-created_at"),
        "patient_id",
    )
    plans = _grouped(
        CarePlan.objects.filter(patient_id__in=patient_ids)
        .prefetch_related("goals")
        .order_by("-number", "-created_at"),
        "patient_id",
    )
    still_to_do = Q(status__in=[Action.Status.OPEN, Action.Status.IN_PROGRESS])
    if since_from is not None:
        still_to_do |= Q(status=Action.Status.DONE, completed_at__gt=since_from)
    actions = _grouped(
        Action.objects.filter(patient_id__in=patient_ids)
        .filter(still_to_do)
        .select_related("owner", "owner_organisation")
        .order_by("due_on", "created_at"),
        "patient_id",
    )

    cards = {}
    for row in rows:
        person = row.patient_id
        episodes = entries.get(person, [])
        entry = next((each for each in episodes if each.is_open), episodes[0] if episodes else None)
        signed = assessments.get(person, [])
        latest = signed[0] if signed else None
        before = signed[1] if len(signed) > 1 else None
        plan = current_plan(plans.get(person, []))
        their_actions = actions.get(person, [])
        last = previous[row.pk]
        since = []
        if last is not None:
            since = _since(
                start=last.created_at,
                end=_meeting_start(row.meeting),
                end_date=row.meeting.date,
                previous=last,
                assessments=signed,
                plans=plans.get(person, []),
                actions=their_actions,
                changes=changes.get(person, []),
            )
        cards[row.pk] = Card(
            item=row,
            patient=row.patient,
            age=_age(row.patient, today),
            entry=entry,
            assessment=latest,
            previous_assessment=before,
            what_matters=_what_matters(latest),
            scores=_scores(latest, before) if latest is not None else (),
            plan=plan,
            plan_review=review_state(plan, today) if entry is not None and entry.is_open else "",
            goals=tuple(plan.goals.all()) if plan is not None else (),
            open_actions=tuple(
                OpenAction(action, action.due_on < today)
                for action in their_actions
                if action.status in (Action.Status.OPEN, Action.Status.IN_PROGRESS)
            ),
            previous_discussion=last,
            since=tuple(since[-SINCE_LINES:]),
            since_more=max(0, len(since) - SINCE_LINES),
        )
    return cards
