"""The case-finding list: people at or above the risk threshold, or in the
top N% of their network, who are not on the register yet."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import Rank

from patients.models import (
    Patient,
    RegisterEntry,
)

TOP_PERCENT_RANGE = (1, 50)


def case_finding_list(
    *, user, threshold: Decimal | int | None = None, top_percent: int | None = None
) -> QuerySet[Patient]:
    """People who may benefit from case management, highest risk score first.

    The user's networks' living people with a latest risk score at or above
    ``threshold`` (default: setting ``CASE_FINDING_THRESHOLD``) — or, with
    ``top_percent``, in the top N% by score of their network's scored people
    (ties at the cut-off all in) — who have no open referral or episode on
    the register. One query, whatever the number of people."""
    people = Patient.objects.visible_to(user).filter(
        risk_score__isnull=False, date_of_death__isnull=True
    )
    if top_percent is None:
        if threshold is None:
            threshold = settings.CASE_FINDING_THRESHOLD
        chosen = people.filter(risk_score__gte=threshold)
    else:
        # Ranked among everyone scored in the network, those already on the
        # register included: "top 10%" is of the population, not of the rest.
        network = F("practice__network_id")
        ranked = people.annotate(
            rank=Window(Rank(), partition_by=network, order_by=F("risk_score").desc()),
            scored=Window(Count("pk"), partition_by=network),
        ).alias(
            # rank <= ceil(scored * N / 100), in whole numbers on every database.
            ranked_after=(F("rank") - 1) * 100,
            cut_off=F("scored") * top_percent,
        )
        chosen = people.filter(pk__in=ranked.filter(ranked_after__lt=F("cut_off")).values("pk"))
    on_register = RegisterEntry.objects.filter(
        patient_id=OuterRef("pk"), status__in=RegisterEntry.OPEN_STATUSES
    )
    return (
        chosen.filter(~Exists(on_register))
        .select_related("practice")
        .order_by("-risk_score", "family_name", "given_name", "pk")
    )
