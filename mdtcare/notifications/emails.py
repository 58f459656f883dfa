"""The e-mails notifications send: what kind of thing needs attention and a
link to mdtcare, never who it is about or anything clinical (ARCHITECTURE.md,
Audit: no NHS numbers, names or clinical free text in e-mails). Their words
are written here, apart from the in-app labels, which may be clinical (the
self-harm alert's label names the question answered)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from mdtcare.notifications.models import Notification, NotificationKind


class Wording(NamedTuple):
    subject: str  # one notification's e-mail
    one: str  # a digest line for one of them
    many: str  # … and for several ("{n}" is the number)


WORDING: Mapping[str, Wording] = {
    NotificationKind.SELF_HARM_ALERT: Wording(
        "An urgent alert needs your attention", "1 urgent alert", "{n} urgent alerts"
    ),
    NotificationKind.REFERRAL_RECEIVED: Wording(
        "A new referral is waiting", "1 new referral", "{n} new referrals"
    ),
    NotificationKind.AGENDA_PUBLISHED: Wording(
        "An MDT meeting agenda has been published",
        "1 MDT meeting agenda published",
        "{n} MDT meeting agendas published",
    ),
    NotificationKind.ACTION_ASSIGNED: Wording(
        "An action has been assigned to you",
        "1 action assigned to you",
        "{n} actions assigned to you",
    ),
    NotificationKind.ACTIONS_OVERDUE: Wording(
        "You have overdue actions",
        "1 reminder of overdue actions",
        "{n} reminders of overdue actions",
    ),
    NotificationKind.REVIEW_DUE_14: Wording(
        "A care plan review is due in 14 days",
        "1 care plan review due in 14 days",
        "{n} care plan reviews due in 14 days",
    ),
    NotificationKind.REVIEW_DUE_7: Wording(
        "A care plan review is due in 7 days",
        "1 care plan review due in 7 days",
        "{n} care plan reviews due in 7 days",
    ),
    NotificationKind.REVIEW_OVERDUE: Wording(
        "A care plan review is overdue",
        "1 overdue care plan review",
        "{n} overdue care plan reviews",
    ),
    NotificationKind.MEETING_TOMORROW: Wording(
        "You have an MDT meeting tomorrow",
        "1 reminder of an MDT meeting",
        "{n} reminders of MDT meetings",
    ),
}
# A kind added later without words of its own still says nothing it should not.
FALLBACK = Wording("Something needs your attention", "1 notification", "{n} notifications")


def wording(kind: str) -> Wording:
    return WORDING.get(kind, FALLBACK)


def _links() -> dict[str, str]:
    site = settings.SITE_URL.rstrip("/")
    return {
        "site_url": site,
        "notifications_url": site + reverse("notifications:list"),
        "settings_url": site + reverse("notifications:settings"),
    }


def _message(*, to: str, subject: str, template: str, context: dict, connection=None):
    text = render_to_string(f"notifications/email/{template}.txt", context)
    html = render_to_string(f"notifications/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


def notification_email(notification: Notification, *, connection=None) -> EmailMultiAlternatives:
    """One notification's e-mail to its recipient: its kind's words and the link."""
    words = wording(notification.kind)
    urgent = notification.urgent
    # An urgent row of an everyday kind says so; urgent kinds' words already do.
    prefix = "Urgent: " if urgent and "urgent" not in words.subject.lower() else ""
    subject = f"{prefix}{words.subject} in mdtcare"
    context = {"headline": words.subject, "urgent": urgent, **_links()}
    return _message(
        to=notification.recipient.email,
        subject=subject,
        template="notification",
        context=context,
        connection=connection,
    )


def digest_lines(counts: Mapping[str, int]) -> list[str]:
    """'3 new referrals', … one line per kind, in the order of the kinds."""
    kinds = [kind for kind in NotificationKind.values if counts.get(kind)]
    kinds += [kind for kind, n in counts.items() if n and kind not in NotificationKind.values]
    return [
        wording(kind).one if counts[kind] == 1 else wording(kind).many.format(n=counts[kind])
        for kind in kinds
    ]


def digest_email(*, to: str, counts: Mapping[str, int], connection=None) -> EmailMultiAlternatives:
    """The daily summary: how many of each kind are waiting, and the link."""
    total = sum(counts.values())
    headline = (
        "1 notification needs your attention"
        if total == 1
        else f"{total} notifications need your attention"
    )
    context = {"headline": headline, "lines": digest_lines(counts), **_links()}
    return _message(
        to=to,
        subject=f"Your daily summary: {headline} in mdtcare",
        template="digest",
        context=context,
        connection=connection,
    )
