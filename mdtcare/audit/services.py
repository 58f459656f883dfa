"""Writing access events: who looked at which patients' data, and why the
gate let them."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import transaction

from mdtcare.audit.models import AccessEvent, AccessEventPatient


class AccessAlreadyRecorded(RuntimeError):
    """A request records exactly one access event."""


def access_record(
    *,
    request,
    what: str,
    patient_ids: Iterable[UUID] = (),
    network_ids: Iterable[UUID] = (),
    emergency=None,
) -> AccessEvent:
    """Record that ``request.user`` was shown data of ``patient_ids``.

    Guarantees one event per request (a second call raises), written in the
    caller's transaction if there is one, with the role the user holds in
    the networks the data came from as the reason it was allowed; or, for
    a record opened by emergency access (``emergency``, the user's
    ``EmergencyAccess`` in force, or a list of them), the reasons they gave.
    """
    if getattr(request, "_mdtcare_access_event", None) is not None:
        raise AccessAlreadyRecorded(what)
    from mdtcare.accounts.selectors import membership_roles

    user = request.user
    patient_ids = list(dict.fromkeys(patient_ids))
    if emergency is not None:
        # One access, or (a list of the user's) several, each with its reason.
        accesses = emergency if isinstance(emergency, list | tuple) else [emergency]
        roles = [("", "emergency access")]
        reason = "emergency access: " + "; ".join(dict.fromkeys(a.reason for a in accesses))
    else:
        roles = membership_roles(request=request, network_ids=set(network_ids))
        reason = "; ".join(f"member of {name} as {role}" for name, role in roles) or (
            "no patient shown"
        )
    with transaction.atomic():
        event = AccessEvent.objects.create(
            user=user,
            role=", ".join(sorted({role for _, role in roles})),
            what=what,
            path=request.path[:500],
            method=request.method,
            request_id=getattr(request, "request_id", ""),
            reason=reason[:500],
            patient_count=len(patient_ids),
            emergency=emergency is not None,
        )
        AccessEventPatient.objects.bulk_create(
            AccessEventPatient(event=event, patient_id=patient_id) for patient_id in patient_ids
        )
    request._mdtcare_access_event = event
    return event
