"""Which networks' reports a user may see: those where they are a service
admin or the GP chair. Reports hold counts, not people, but they are still
read through the gate: a network the user is not in is 404, a network where
their role does not include reports is 403."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.http import Http404

from mdtcare.accounts.models import Membership, Network
from mdtcare.accounts.permissions import REPORT_ROLES

NOT_A_REPORTER = "Reports are for service admins and GP chairs of the network."


def report_networks(*, user) -> list[Network]:
    """The networks whose reports the user may see, by name (one query)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return list(
        Network.objects.filter(
            memberships__user_id=user.pk, memberships__role__in=REPORT_ROLES
        ).order_by("name")
    )


def require_reporter(*, user) -> list[Network]:
    """The user's report networks, or PermissionDenied when there are none."""
    networks = report_networks(user=user)
    if not networks:
        raise PermissionDenied(NOT_A_REPORTER)
    return networks


def networks_chosen(
    *, user, codes: Iterable[str], allowed: list[Network] | None = None
) -> list[Network]:
    """The networks named by ``codes`` (all the user's report networks when
    none is named). A code the user is not a member of is 404, as if it did
    not exist; one where they are a member without a reporting role is 403.
    ``allowed`` is the user's report networks when the caller has them."""
    if allowed is None:
        allowed = report_networks(user=user)
    codes = [code for code in dict.fromkeys(codes) if code]
    by_code = {network.code: network for network in allowed}
    missing = [code for code in codes if code not in by_code]
    if missing:
        # Named but not reportable: unknown (or not theirs) is 404 whatever
        # their roles elsewhere; a network of theirs without the role, 403.
        member_of = set(
            Membership.objects.filter(user_id=user.pk, network__code__in=missing).values_list(
                "network__code", flat=True
            )
        )
        if set(missing) - member_of:
            raise Http404("No such network")
        raise PermissionDenied(NOT_A_REPORTER)
    if not allowed:
        raise PermissionDenied(NOT_A_REPORTER)
    if not codes:
        return allowed
    return [by_code[code] for code in codes]
