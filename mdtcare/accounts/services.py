"""Writes to users and memberships: each one transaction, audited by the
change triggers."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from mdtcare.accounts.models import Membership, Network, User


@transaction.atomic
def user_deactivate(*, user: User, by: User | None = None) -> User:
    """Stop a user logging in and end every session they have open.

    Deactivation alone already logs them out (Django refuses inactive users
    on every request); their session rows are deleted too, so nothing of
    theirs outlives it. Sessions are found by decoding, which is fine for the
    size of a network's user base and runs only on this rare action.
    """
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    user_sessions_end(user=user)
    return user


def user_sessions_end(*, user: User) -> int:
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def membership_set(*, user: User, network: Network, role: str) -> Membership:
    """Give the user this role in the network (replacing any other role there)."""
    membership, _ = Membership.objects.update_or_create(
        user=user, network=network, defaults={"role": role}
    )
    return membership


def sessions_clear_expired() -> int:
    """Delete sessions past their expiry; returns how many."""
    deleted, _ = Session.objects.filter(expire_date__lte=timezone.now()).delete()
    return deleted
