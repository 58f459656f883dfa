"""Care plan review reminders (the daily job).

Each plan in force is reminded to its episode's clinical lead and navigator
when its review date comes into a window: 14 days away (due in 8-14 days),
7 days away (due in 1-7 days) and overdue (due before today), with the
windows from ``REMINDER_WINDOWS``. A reminder is raised once per plan
version, review date, window and recipient: its event id names all of
them, and the outbox keeps one row per (kind, event id, recipient). So the
job may run twice a day, or be missed for a day, and the windows still
give each reminder exactly once; a changed review date gets its own.

The plans are read in batches along the index of plans by status and
review date (keyset pagination, never all at once); each batch leaves out
the reminders already made with one read and raises the rest with one
``notifications_raise_many``, so a batch costs the same queries however
many plans it holds.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from careplans.models import CarePlan
from careplans.plan_selectors import IN_FORCE, review_state
from mdtcare.notifications.models import Notification
from mdtcare.notifications.services import notifications_raise_many
from patients.models import RegisterEntry

logger = logging.getLogger(__name__)

# The notification kind of each "days before" window a setting may name.
REVIEW_DUE_KINDS = {
    14: Notification.Kind.REVIEW_DUE_14,
    7: Notification.Kind.REVIEW_DUE_7,
}


@dataclass(frozen=True)
class ReviewWindow:
    """Plans due from ``nearest`` to ``farthest`` days from today (inclusive)
    get ``kind``; the overdue window has no farthest day."""

    kind: str
    label: str  # the last part of the event id: "14", "7" or "overdue"
    nearest: int | None
    farthest: int | None


class _Due(NamedTuple):
    """A plan's reminder for today, to be raised unless it was already."""

    plan: tuple  # a candidate row
    window: ReviewWindow
    event_id: str
    recipient_ids: list


@dataclass(frozen=True)
class ReminderRun:
    plans: int  # plans in force read (due within the windows, or overdue)
    batches: int
    made: int  # notifications made (one per plan, window and recipient)


def review_windows(days: Sequence[int] | None = None) -> list[ReviewWindow]:
    """The windows for ``days`` before the review (``REMINDER_WINDOWS`` by
    default), farthest first, then overdue. Each window runs to the next
    nearer one, so a daily job, or one that missed a day, finds every plan
    in exactly one window."""
    days = sorted(set(settings.REMINDER_WINDOWS if days is None else days), reverse=True)
    unknown = [day for day in days if day not in REVIEW_DUE_KINDS]
    if unknown:
        raise ImproperlyConfigured(
            f"REMINDER_WINDOWS may name only {sorted(REVIEW_DUE_KINDS)} days before the review, "
            f"each with its own notification; not {unknown}."
        )
    # Every window lies inside what the plan pages call "review due"
    # (REVIEW_DUE_WITHIN, 14 days), so ``review_state`` decides for all.
    nearer = [*days[1:], 0] if days else []
    windows = [
        ReviewWindow(REVIEW_DUE_KINDS[day], str(day), nearest=next_day + 1, farthest=day)
        for day, next_day in zip(days, nearer, strict=True)
    ]
    windows.append(ReviewWindow(Notification.Kind.REVIEW_OVERDUE, "overdue", None, None))
    return windows


def window_for(plan, *, today: dt.date, windows: Sequence[ReviewWindow]) -> ReviewWindow | None:
    """The window the plan's review date is in today, if any. Overdue and
    due are the plan pages' own rule (``review_state``, which reads only the
    plan's status and next review date: a plan or a candidate row)."""
    state = review_state(plan, today)
    if state == "overdue":
        return windows[-1]
    if state == "due":
        days_left = (plan.next_review_on - today).days
        for window in windows[:-1]:
            if window.nearest <= days_left <= window.farthest:
                return window
    return None


def review_event_id(plan, window: ReviewWindow) -> str:
    """One event per plan version, review date and window, e.g.
    ``plan:<uuid>:2026-03-24:14``."""
    return f"plan:{plan.id}:{plan.next_review_on.isoformat()}:{window.label}"


def reminder_candidates(*, until: dt.date, status: str | None = None):
    """Plans in force (or only those in ``status``) whose review is due by
    ``until``, the overdue ones included, in open episodes, each the latest
    in force of its episode (ratifying a version supersedes the others, so
    this only guards against data that missed that step). Rows, not models:
    the plan's id, patient, status and review date, and its episode's
    clinical lead and navigator with whether each is active. Ordered by
    review date and id, for reading in batches."""
    newer_in_force = CarePlan.objects.filter(
        entry_id=OuterRef("entry_id"), number__gt=OuterRef("number"), status__in=IN_FORCE
    )
    return (
        CarePlan.objects.filter(
            status__in=[status] if status else IN_FORCE,
            next_review_on__lte=until,
            entry__status__in=RegisterEntry.OPEN_STATUSES,
        )
        .filter(~Exists(newer_in_force))
        .annotate(
            # The episode's people (the plan keeps copies of its own).
            lead=F("entry__clinical_lead_id"),
            lead_active=F("entry__clinical_lead__is_active"),
            navigator_of_episode=F("entry__navigator_id"),
            navigator_active=F("entry__navigator__is_active"),
        )
        .order_by("next_review_on", "id")
        .values_list(
            "id",
            "patient_id",
            "status",
            "next_review_on",
            "lead",
            "lead_active",
            "navigator_of_episode",
            "navigator_active",
            named=True,
        )
    )


def _batches(*, until: dt.date, batch_size: int) -> Iterator[list]:
    """The candidates a batch at a time, one status in force after the
    other: within a status, the index ``careplans_plan_review`` (status,
    next_review_on) returns the plans in review-date order, and each batch
    starts after the previous one's (date, id), so a batch reads only its
    own rows however far into the plans it is. (Both statuses at once
    would make every batch read and sort all the plans after it.)"""
    for status in IN_FORCE:
        candidates = reminder_candidates(until=until, status=status)
        after = None
        while True:
            page = candidates
            if after is not None:
                page = page.filter(next_review_on__gte=after.next_review_on).filter(
                    Q(next_review_on__gt=after.next_review_on) | Q(id__gt=after.id)
                )
            batch = list(page[:batch_size])
            if batch:
                yield batch
            if len(batch) < batch_size:
                break
            after = batch[-1]


def _recipient_ids(plan) -> list:
    """The episode's clinical lead and navigator, if set and still active."""
    people = ((plan.lead, plan.lead_active), (plan.navigator_of_episode, plan.navigator_active))
    return list(dict.fromkeys(pk for pk, active in people if pk is not None and active))


def _plan_link_template() -> str:
    """The plan page's address with a ``{}`` for the plan's id: reversed
    once a run, as reversing it for each of thousands of plans costs more
    than reading them."""
    placeholder = uuid.UUID(int=0)
    return reverse("careplans:plan", args=[placeholder]).replace(str(placeholder), "{}")


def _raise_batch(due: list[_Due], *, link: str) -> int:
    """Raise the batch's reminders that are not made yet. Most are made
    already (a plan is read every day of its window, and every day while
    overdue), so one read leaves those out before any row is built; the
    rest go to ``notifications_raise_many`` (the outbox's rule, in one
    transaction) in one call. A batch's queries do not grow with its plans."""
    if not due:
        return 0
    made_already = set(
        Notification.objects.filter(
            kind__in={item.window.kind for item in due},
            event_id__in=[item.event_id for item in due],
        ).values_list("kind", "event_id", "recipient_id")
    )
    rows = [
        Notification(
            recipient_id=recipient_id,
            kind=item.window.kind,
            event_id=item.event_id,
            patient_id=item.plan.patient_id,
            link=link.format(item.plan.id),
        )
        for item in due
        for recipient_id in item.recipient_ids
        if (item.window.kind, item.event_id, recipient_id) not in made_already
    ]
    return notifications_raise_many(notifications=rows) if rows else 0


def review_reminders_raise(
    *, today: dt.date | None = None, batch_size: int | None = None
) -> ReminderRun:
    """Raise today's review reminders (``review_due_14``, ``review_due_7``,
    ``review_overdue``) for every plan in force in an open episode whose
    review date is in a window, to its episode's clinical lead and navigator
    (in-app link to the plan). Idempotent: running again on the same day, or
    on the following days of the same window, makes nothing new. Each batch
    is raised in its own transaction, so a run stopped half-way keeps what
    it made and the next run finishes it."""
    today = today or timezone.localdate()
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    windows = review_windows()
    farthest = max((w.farthest for w in windows if w.farthest is not None), default=-1)
    link = _plan_link_template()
    plans = made = batches = 0
    for batch in _batches(until=today + dt.timedelta(days=farthest), batch_size=batch_size):
        due = []
        for plan in batch:
            window = window_for(plan, today=today, windows=windows)
            recipient_ids = _recipient_ids(plan)
            if window is not None and recipient_ids:
                due.append(_Due(plan, window, review_event_id(plan, window), recipient_ids))
        made += _raise_batch(due, link=link)
        plans += len(batch)
        batches += 1
    logger.info(
        "Review reminders for %s: %s plans read in %s batches, %s notifications made",
        today,
        plans,
        batches,
        made,
    )
    return ReminderRun(plans=plans, batches=batches, made=made)
