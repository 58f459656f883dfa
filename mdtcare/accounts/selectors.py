"""Reading users, networks and memberships."""

from __future__ import annotations

from mdtcare.accounts.models import Membership, Network, User


def memberships_of(*, user):
    return Membership.objects.filter(user_id=user.pk).select_related("network")


def memberships_cached(*, request) -> list[Membership]:
    """The request user's memberships with their networks, read once per
    request and shared by the header, two-factor check and audit reasons."""
    request = getattr(request, "_request", request)  # a DRF request wraps Django's
    if getattr(request, "_mdtcare_memberships_for", None) != request.user.pk:
        request._mdtcare_memberships = (
            list(memberships_of(user=request.user)) if request.user.is_authenticated else []
        )
        request._mdtcare_memberships_for = request.user.pk
    return request._mdtcare_memberships


def membership_roles(*, request, network_ids: set) -> list[tuple[str, str]]:
    """(network name, role label) for the user's memberships in those networks."""
    return sorted(
        (m.network.name, m.get_role_display())
        for m in memberships_cached(request=request)
        if m.network_id in network_ids
    )


def current_membership(*, request) -> Membership | None:
    """The membership the user is working in: the network chosen in this
    session, else their first."""
    memberships = memberships_cached(request=request)
    chosen = request.session.get("network_id") if hasattr(request, "session") else None
    return next(
        (m for m in memberships if str(m.network_id) == chosen),
        memberships[0] if memberships else None,
    )


def user_has_role(*, user, roles: set[str]) -> bool:
    return Membership.objects.filter(user_id=user.pk, role__in=roles).exists()


def networks_visible_to(*, user):
    return Network.objects.filter(memberships__user_id=user.pk).distinct()


def account_of(*, user):
    """The user with their organisation, for their own account page: one
    primary-key read (the networks and roles come from the memberships every
    page's header has already read, ``memberships_cached``)."""
    return User.objects.select_related("organisation").get(pk=user.pk)
