"""The daily meeting and action reminders.

- Overdue actions: one ``actions_overdue`` digest a day to each person who
  owns an overdue action, and one to each navigator of a network with
  overdue actions (whoever owns them, a team included). A digest names no
  patient: it links to the overdue section of "My actions" or of the
  worklist.
- Meetings tomorrow: ``meeting_tomorrow`` to each invited member of a
  meeting still scheduled for tomorrow, once.

Each notification's event id names the person and the day (or the
meeting), so a job run twice makes nothing new.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts.models import Membership, User
from mdtcare.notifications.models import Notification
from mdtcare.notifications.services import notifications_raise_many
from meetings.models import Action, Meeting
from meetings.selectors import actions_with_overdue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigestRun:
    owners: int  # owners with overdue actions (active ones)
    navigators: int  # navigators of networks with overdue actions
    made: int  # notifications made


def overdue_actions(*, today: dt.date):
    """Actions overdue today, by the one rule (``actions_with_overdue``);
    served by the ``meetings_action_due`` index (status, due_on)."""
    return actions_with_overdue(Action.objects.all(), today=today).filter(overdue=True)


def overdue_digests_raise(*, today: dt.date | None = None) -> DigestRun:
    """Raise today's overdue-action digests: one per owner of overdue
    actions (``overdue:<owner>:<date>``) and one per navigator of a network
    with overdue actions (``overdue-network:<navigator>:<date>``); none for
    inactive users, no patient ids. Idempotent for the day. Two reads and
    one ``notifications_raise_many``, however many actions and people."""
    today = today or timezone.localdate()
    overdue = overdue_actions(today=today)
    # The overdue section of the reader's own list, and of their networks' worklist.
    own_link = f"{reverse('meetings:my_actions')}?section=overdue"
    network_link = f"{reverse('meetings:worklist')}?section=overdue"
    owner_ids = list(
        User.objects.filter(is_active=True, pk__in=overdue.values("owner_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    navigator_ids = list(
        User.objects.filter(
            is_active=True,
            pk__in=Membership.objects.filter(
                role=Membership.Role.NAVIGATOR,
                network_id__in=overdue.values("patient__practice__network_id"),
            ).values("user_id"),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    day = today.isoformat()
    made = notifications_raise_many(
        notifications=[
            *(
                Notification(
                    recipient_id=owner_id,
                    kind=Notification.Kind.ACTIONS_OVERDUE,
                    event_id=f"overdue:{owner_id}:{day}",
                    link=own_link,
                )
                for owner_id in owner_ids
            ),
            *(
                Notification(
                    recipient_id=navigator_id,
                    kind=Notification.Kind.ACTIONS_OVERDUE,
                    event_id=f"overdue-network:{navigator_id}:{day}",
                    link=network_link,
                )
                for navigator_id in navigator_ids
            ),
        ]
    )
    logger.info(
        "Overdue digests for %s: %s owners, %s navigators, %s notifications made",
        today,
        len(owner_ids),
        len(navigator_ids),
        made,
    )
    return DigestRun(owners=len(owner_ids), navigators=len(navigator_ids), made=made)


def meeting_reminders_raise(*, today: dt.date | None = None) -> int:
    """Tell each active invited member of every meeting scheduled for
    tomorrow, once (``meeting:<id>:<date>``: a meeting moved to another day
    is reminded again); cancelled, started and closed meetings tell no one. Two reads and one
    ``notifications_raise_many``. Returns how many notifications were made."""
    today = today or timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    meetings = (
        Meeting.objects.filter(date=tomorrow, status=Meeting.Status.SCHEDULED)
        .only("id", "date")
        .prefetch_related(
            Prefetch("invited", queryset=User.objects.filter(is_active=True).only("id"))
        )
        .order_by("starts_at", "id")
    )
    made = notifications_raise_many(
        notifications=[
            Notification(
                recipient_id=member.pk,
                kind=Notification.Kind.MEETING_TOMORROW,
                event_id=f"meeting:{meeting.pk}:{meeting.date:%Y%m%d}",
                link=reverse("meetings:meeting", args=[meeting.pk]),
            )
            for meeting in meetings
            for member in meeting.invited.all()
        ]
    )
    logger.info("Meeting reminders for %s: %s notifications made", tomorrow, made)
    return made
