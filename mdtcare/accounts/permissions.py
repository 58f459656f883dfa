"""Who may do what, by their role in the network a record belongs to.

Services call ``require_role`` before they change anything; views and the
API turn the PermissionDenied it raises into a 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from mdtcare.accounts.models import Membership
from mdtcare.accounts.selectors import memberships_cached

Role = Membership.Role

# Every role takes part in the MDT; these sets name who does more.
ALL_ROLES = frozenset(Role.values)
TRIAGE_ROLES = frozenset({Role.NAVIGATOR, Role.ADMIN})
CASE_MANAGEMENT_ROLES = frozenset({Role.NAVIGATOR, Role.MATRON, Role.GP_CHAIR})
REGISTER_KEEPERS = frozenset({Role.NAVIGATOR, Role.ADMIN, Role.MATRON, Role.GP_CHAIR})
IMPORT_ROLES = frozenset({Role.NAVIGATOR, Role.ADMIN})
# Who sees a network's reports (monthly activity, the outcome evaluation).
REPORT_ROLES = frozenset({Role.ADMIN, Role.GP_CHAIR})


def role_in(*, user, network_id) -> str | None:
    return (
        Membership.objects.filter(user_id=user.pk, network_id=network_id)
        .values_list("role", flat=True)
        .first()
    )


def require_role(*, user, network_id, roles: frozenset[str], action: str) -> str:
    """The user's role in the network, or PermissionDenied naming the action."""
    role = role_in(user=user, network_id=network_id)
    if role not in roles:
        raise PermissionDenied(f"Your role does not allow you to {action}.")
    return role


def page_role(*, request, network_id) -> str | None:
    """The request user's role in the network, from the memberships the
    request has loaded already (no query): for what a page offers."""
    return next(
        (m.role for m in memberships_cached(request=request) if m.network_id == network_id),
        None,
    )


def require_page_role(*, request, network_id, roles: frozenset[str], action: str) -> str:
    """``require_role`` for a page that shows a form: refused (403) before the
    form is shown to someone whose sending it the service would refuse."""
    role = page_role(request=request, network_id=network_id)
    if role not in roles:
        raise PermissionDenied(f"Your role does not allow you to {action}.")
    return role
