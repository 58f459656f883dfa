"""The pre-meeting pack: the meeting's details, then the card of every
person on the agenda in order with their time slot, one per printed page.

Read through the gate (404 outside it); every member of the network may
read it, whatever their role. One access event names everyone in the pack.
A fixed number of queries however long the agenda (``meetings.cards``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.shortcuts import render
from django.views.decorators.http import require_GET

from mdtcare.audit.services import access_record
from meetings.cards import Card, patient_cards
from meetings.selectors import meeting_get_for_user
from meetings.views.schedule import time_slots


@dataclass(frozen=True)
class PackPage:
    number: int
    starts_at: dt.time
    ends_at: dt.time
    card: Card


@require_GET
def meeting_pack(request, meeting_id):
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    # Only the order and who: the cards read each person and meeting again.
    items = list(meeting.agenda.order_by("position", "created_at"))
    access_record(
        request=request,
        what="meeting.pack",
        patient_ids=[item.patient_id for item in items],
        network_ids={meeting.network_id},
    )
    cards = patient_cards(items)
    pages = [
        PackPage(number, starts_at, ends_at, cards[item.pk])
        for number, (item, (starts_at, ends_at)) in enumerate(
            zip(items, time_slots(meeting, len(items)), strict=True), start=1
        )
    ]
    return render(request, "meetings/pack/pack.html", {"meeting": meeting, "pages": pages})
