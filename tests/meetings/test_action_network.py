"""The network each action keeps (``Action.network``): the person's network
when it is made, however it is made, and moved with the person when they
change practice or their practice changes network. The worklists start
from it, so an action whose network fell behind would drop out of them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from mdtcare.accounts.models import Organisation
from meetings import action_selectors
from meetings.models import Action
from patients.services import patient_update
from tests.factories import MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

DUE = dt.date(2026, 12, 1)


def _action(patient, what="Refer to the falls clinic") -> Action:
    return Action.objects.create(patient=patient, what=what, due_on=DUE)


def _worklist_patients(user) -> set:
    return {action.patient_id for action in action_selectors.worklist(user=user).actions}


def test_an_action_takes_its_persons_network_when_saved_or_made_in_bulk(
    practice_a, practice_b, network_a, network_b
):
    north, south = PatientFactory(practice=practice_a), PatientFactory(practice=practice_b)

    saved = _action(north)
    made = Action.objects.bulk_create(
        [
            Action(patient=south, what="Book a home visit", due_on=DUE),
            Action(patient_id=north.pk, what="Review medication", due_on=DUE),
        ]
    )

    assert saved.network_id == network_a.pk
    assert [action.network_id for action in made] == [network_b.pk, network_a.pk]
    assert set(Action.objects.values_list("network_id", flat=True)) == {network_a.pk, network_b.pk}


def test_a_person_moving_practice_takes_their_actions_to_the_new_network(
    practice_a, practice_b, network_b, navigator, outsider, admin_user
):
    """North's navigator sees the action until the person moves to a South
    practice; then South's user does, and North's does not."""
    person = PatientFactory(practice=practice_a)
    action = _action(person)
    other = _action(PatientFactory(practice=practice_a), what="Stays in North")
    assert _worklist_patients(navigator) == {person.pk, other.patient_id}
    # The move needs a role in both networks (patient_update's rule).
    MembershipFactory(user=admin_user, network=network_b, role="admin")

    patient_update(by=admin_user, patient=person, practice=practice_b)

    action.refresh_from_db()
    other.refresh_from_db()
    assert action.network_id == network_b.pk
    assert other.network_id == practice_a.network_id
    assert _worklist_patients(navigator) == {other.patient_id}
    assert _worklist_patients(outsider) == {person.pk}


def test_a_practice_moved_to_another_network_in_the_admin_takes_its_actions(
    practice_a, network_b, navigator, outsider
):
    action = _action(PatientFactory(practice=practice_a))
    model_admin = site._registry[Organisation]
    request = RequestFactory().post("/admin/accounts/organisation/")
    request.user = UserFactory(username="superuser", is_staff=True, is_superuser=True)
    form = model_admin.get_form(request, practice_a, change=True)(
        data={
            "name": practice_a.name,
            "type": practice_a.type,
            "ods_code": practice_a.ods_code or "",
            "network": network_b.pk,
        },
        instance=practice_a,
    )
    assert form.is_valid(), form.errors
    assert form.changed_data == ["network"]

    model_admin.save_model(request, form.save(commit=False), form, change=True)

    action.refresh_from_db()
    assert action.network_id == network_b.pk
    assert _worklist_patients(outsider) == {action.patient_id}
    assert _worklist_patients(navigator) == set()
