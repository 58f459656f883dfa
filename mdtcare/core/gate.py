"""The access gate: a practitioner sees a record only if it belongs to one of
their networks. Every list, detail, search, export and API endpoint reads
clinical records through ``visible_to(user)``; outside it the answer is 404.
See docs/access-gate.md.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404


def network_ids_of(user):
    """The networks the user belongs to, as a subquery (no query of its own)."""
    from mdtcare.accounts.models import Membership

    return Membership.objects.filter(user_id=user.pk).values("network_id")


class NetworkScopedQuerySet(models.QuerySet):
    """QuerySet of a model registered with the gate. The model names the path
    from itself to its network in ``network_path`` (e.g. ``"practice__network"``)."""

    def visible_to(self, user) -> NetworkScopedQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(**{f"{self.model.network_path}__in": network_ids_of(user)})


def get_visible_or_404(queryset, user, **lookup):
    """Fetch one record through the gate; a record outside it, or one that
    does not exist, is the same 404 (no existence leak)."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, ValidationError) as exc:
        # A malformed id is as unknown as a missing one.
        raise Http404 from exc
