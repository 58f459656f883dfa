"""Changing actions (start, complete, reassign, cancel, add outside a
meeting), who may, the refusals, the notification of a new owner; and the
reads behind the worklists and the navigator's dashboard."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from careplans.models import CarePlan
from careplans.plan_selectors import attention_reasons, plans_needing_attention
from mdtcare.accounts.models import Membership, Organisation
from mdtcare.notifications.models import Notification
from meetings import action_selectors as selectors
from meetings import actions, services
from meetings.models import Action, Meeting
from patients.models import RegisterEntry
from patients.selectors import REVIEW_DUE, REVIEW_OVERDUE, RegisterFilters, register_rows
from tests.factories import MembershipFactory, PatientFactory, PracticeFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
WHAT = "Ask the falls team about a pendant alarm"


@pytest.fixture
def team(db):
    return Organisation.objects.create(
        name="Leeds Community Therapy", type=Organisation.Type.COMMUNITY_TRUST
    )


@pytest.fixture
def member(network_a, team):
    """An MDT member of network A who works for the therapy team."""
    user = UserFactory(username="member", organisation=team)
    MembershipFactory(user=user, network=network_a, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def patient(practice_a):
    return PatientFactory(practice=practice_a, given_name="Mary", family_name="Okafor")


def make(patient, *, owner=None, due_on=TODAY, status=Action.Status.OPEN, **fields) -> Action:
    return Action.objects.create(
        patient=patient, what=WHAT, owner=owner, due_on=due_on, status=status, **fields
    )


def assigned(user) -> list[Notification]:
    return list(Notification.objects.filter(kind=Notification.Kind.ACTION_ASSIGNED, recipient=user))


# --- start and complete: any member of the network -------------------------------------------


@pytest.mark.parametrize("persona", ["matron", "chair", "navigator", "admin", "member"])
def test_any_member_of_the_network_starts_and_completes_an_action(
    personas, member, patient, persona
):
    by = member if persona == "member" else getattr(personas, persona)
    action = make(patient, owner=personas.matron)

    started = actions.action_start(by=by, action=action)
    done = actions.action_complete(by=by, action=action, note="  Pendant fitted  ")

    assert started.status == Action.Status.IN_PROGRESS
    assert (done.status, done.completion_note, done.completed_by) == ("done", "Pendant fitted", by)
    assert done.completed_at is not None


def test_an_outsider_cannot_change_an_action_of_another_network(personas, patient):
    action = make(patient, owner=personas.matron)

    for change in (actions.action_start, actions.action_complete):
        with pytest.raises(PermissionDenied, match="Only members of this person's network"):
            change(by=personas.outsider, action=action)
    with pytest.raises(PermissionDenied):
        actions.action_cancel(by=personas.outsider, action=action, note="Not needed")
    assert Action.objects.get(pk=action.pk).status == Action.Status.OPEN


def test_starting_an_action_in_progress_again_changes_nothing(matron, patient):
    action = make(patient, owner=matron, status=Action.Status.IN_PROGRESS)
    before = Action.objects.get(pk=action.pk).updated_at

    actions.action_start(by=matron, action=action)

    assert Action.objects.get(pk=action.pk).updated_at == before


def test_a_done_action_cannot_be_started(matron, patient):
    action = make(patient, owner=matron)
    actions.action_complete(by=matron, action=action)

    with pytest.raises(ValidationError, match="This action is done: it cannot be started"):
        actions.action_start(by=matron, action=action)


def test_a_cancelled_action_cannot_be_completed(navigator, matron, patient):
    action = make(patient, owner=matron)
    actions.action_cancel(by=navigator, action=action, note="Moved to another area")

    with pytest.raises(ValidationError, match="This action was cancelled: it cannot be completed"):
        actions.action_complete(by=matron, action=action, note="Done anyway")
    assert Action.objects.get(pk=action.pk).status == Action.Status.CANCELLED


def test_a_done_action_is_not_completed_twice(matron, patient):
    action = make(patient, owner=matron)
    actions.action_complete(by=matron, action=action, note="First")

    with pytest.raises(ValidationError, match=r"marked done on .* already"):
        actions.action_complete(by=matron, action=action, note="Second")
    assert Action.objects.get(pk=action.pk).completion_note == "First"


def test_whoever_starts_an_action_nobody_owns_takes_it(navigator, matron, patient):
    action = make(patient, owner=None)

    started = actions.action_start(by=matron, action=action)

    assert (started.owner, started.status) == (matron, Action.Status.IN_PROGRESS)
    assert assigned(matron) == []  # nobody is told of what they took themselves


def test_a_team_action_stays_the_teams_when_started(member, team, patient):
    action = make(patient, owner_organisation=team)

    started = actions.action_start(by=member, action=action)

    assert (started.owner, started.owner_organisation) == (None, team)


# --- a change based on an old read is refused ----------------------------------------------


def test_a_change_based_on_an_old_status_is_refused(navigator, matron, patient):
    action = make(patient, owner=matron)
    actions.action_start(by=matron, action=action)

    with pytest.raises(actions.StaleAction, match="Someone else changed this action") as stale:
        actions.action_complete(by=navigator, action=action, expected_status="open")

    assert "it is now in progress" in stale.value.messages[0]
    assert Action.objects.get(pk=action.pk).status == Action.Status.IN_PROGRESS


def test_a_change_based_on_an_old_read_is_refused_even_with_the_same_status(
    navigator, matron, chair, patient
):
    action = make(patient, owner=matron)
    seen = Action.objects.get(pk=action.pk).updated_at
    actions.action_reassign(by=navigator, action=action, owner=chair)

    with pytest.raises(actions.StaleAction):
        actions.action_cancel(
            by=navigator,
            action=action,
            note="Not needed",
            expected_status="open",
            expected_updated_at=seen,
        )
    assert Action.objects.get(pk=action.pk).status == Action.Status.OPEN


def test_a_change_based_on_the_current_read_goes_through(navigator, matron, patient):
    action = make(patient, owner=matron)
    current = Action.objects.get(pk=action.pk)

    done = actions.action_complete(
        by=navigator,
        action=action,
        expected_status=current.status,
        expected_updated_at=current.updated_at,
    )

    assert done.status == Action.Status.DONE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_changing_one_action_at_once_one_wins_one_is_told(navigator, matron, patient):
    action = make(patient, owner=matron)
    both_loaded = threading.Barrier(2)
    changed, refused, failures = [], [], []

    def change(service, **kwargs):
        try:
            seen = Action.objects.get(pk=action.pk)
            both_loaded.wait(timeout=10)
            changed.append(service(action=seen, expected_status=seen.status, **kwargs).status)
        except ValidationError as exc:
            refused.append(exc)
        except Exception as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=change, args=(actions.action_complete,), kwargs={"by": matron}),
        threading.Thread(
            target=change,
            args=(actions.action_cancel,),
            kwargs={"by": navigator, "note": "Not needed"},
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert (len(changed), len(refused)) == (1, 1)
    assert Action.objects.get(pk=action.pk).status == changed[0]


# --- reassign and cancel: navigators, admins, GP chairs and the owner ------------------------


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("navigator", True),
        ("admin", True),
        ("chair", True),
        ("owner", True),
        ("team_member", True),
        ("matron", False),
        ("member", False),
        ("outsider", False),
    ],
)
def test_who_may_reassign_and_cancel(personas, member, team, patient, persona, allowed):
    """A matrix of who may, on an action owned by the chair (or, for the
    team member, by the team)."""
    owner_fields = {"owner_organisation": team} if persona == "team_member" else {}
    owner = None if owner_fields else personas.chair
    by = {
        "owner": personas.chair,
        "team_member": member,
        "member": UserFactory(username="plain-member"),
    }.get(persona) or getattr(personas, persona, None)
    if persona == "member":
        MembershipFactory(user=by, network=patient.practice.network, role=Membership.Role.MEMBER)
    first = make(patient, owner=owner, **owner_fields)
    second = make(patient, owner=owner, **owner_fields)
    new_owner = personas.navigator if persona != "navigator" else personas.matron

    if allowed:
        actions.action_reassign(by=by, action=first, owner=new_owner)
        actions.action_cancel(by=by, action=second, note="Duplicate of another action")
        assert Action.objects.get(pk=first.pk).owner == new_owner
        assert Action.objects.get(pk=second.pk).status == Action.Status.CANCELLED
    else:
        with pytest.raises(PermissionDenied):
            actions.action_reassign(by=by, action=first, owner=new_owner)
        with pytest.raises(PermissionDenied):
            actions.action_cancel(by=by, action=second, note="Duplicate of another action")
        assert Action.objects.get(pk=second.pk).status == Action.Status.OPEN


def test_the_refusal_to_reassign_says_who_may(matron, chair, patient):
    action = make(patient, owner=chair)

    with pytest.raises(PermissionDenied, match="owner, or a care navigator, admin or GP chair"):
        actions.action_reassign(by=matron, action=action, owner=matron)


def test_reassigning_to_someone_outside_the_persons_network_is_refused(
    navigator, matron, outsider, patient
):
    action = make(patient, owner=matron)

    with pytest.raises(ValidationError) as refused:
        actions.action_reassign(by=navigator, action=action, owner=outsider)

    assert refused.value.message_dict == {"owner": ["Choose a member of this person's network"]}
    assert Action.objects.get(pk=action.pk).owner == matron
    assert assigned(outsider) == []


def test_reassigning_to_a_deactivated_account_is_refused(navigator, matron, chair, patient):
    action = make(patient, owner=matron)
    chair.is_active = False
    chair.save(update_fields=["is_active"])

    with pytest.raises(ValidationError, match="Choose a member of this person's network"):
        actions.action_reassign(by=navigator, action=action, owner=chair)


def test_reassigning_needs_one_owner_and_a_new_one(navigator, matron, patient, team):
    action = make(patient, owner=matron)

    with pytest.raises(ValidationError, match="Choose who owns the action"):
        actions.action_reassign(by=navigator, action=action)
    with pytest.raises(ValidationError, match="Choose who owns the action"):
        actions.action_reassign(by=navigator, action=action, owner=matron, owner_organisation=team)
    with pytest.raises(ValidationError, match=r"The action is .*'s already"):
        actions.action_reassign(by=navigator, action=action, owner=matron)


def test_reassigning_to_a_team_leaves_no_one_person_on_it(navigator, matron, patient, team):
    action = make(patient, owner=matron)

    changed = actions.action_reassign(
        by=navigator, action=action, owner_organisation=team, note="Needs a therapist's visit"
    )

    assert (changed.owner, changed.owner_organisation) == (None, team)
    assert changed.completion_note == "Needs a therapist's visit"
    assert Notification.objects.count() == 0  # a team has no one person to tell


def test_reassigning_to_another_networks_practice_is_refused(navigator, matron, patient):
    elsewhere = PracticeFactory(name="Harbour Lane Surgery")
    action = make(patient, owner=matron)

    with pytest.raises(ValidationError, match="Choose an organisation that serves this network"):
        actions.action_reassign(by=navigator, action=action, owner_organisation=elsewhere)


def test_a_done_or_cancelled_action_is_not_reassigned(navigator, matron, chair, patient):
    done = make(patient, owner=matron, status=Action.Status.IN_PROGRESS)
    actions.action_complete(by=matron, action=done)
    cancelled = make(patient, owner=matron)
    actions.action_cancel(by=navigator, action=cancelled, note="Not needed")

    with pytest.raises(ValidationError, match="This action is done: it cannot be reassigned"):
        actions.action_reassign(by=navigator, action=done, owner=chair)
    with pytest.raises(ValidationError, match="was cancelled: it cannot be reassigned"):
        actions.action_reassign(by=navigator, action=cancelled, owner=chair)


def test_cancelling_needs_the_reason_and_keeps_it(navigator, matron, patient):
    action = make(patient, owner=matron)

    with pytest.raises(ValidationError) as refused:
        actions.action_cancel(by=navigator, action=action, note="   ")
    assert refused.value.message_dict == {"note": ["Enter why the action is cancelled"]}

    cancelled = actions.action_cancel(by=navigator, action=action, note="Moved out of the area")
    assert (cancelled.status, cancelled.completion_note) == ("cancelled", "Moved out of the area")


def test_a_done_action_is_not_cancelled(navigator, matron, patient):
    action = make(patient, owner=matron)
    actions.action_complete(by=matron, action=action)

    with pytest.raises(ValidationError, match="This action is done: it cannot be cancelled"):
        actions.action_cancel(by=navigator, action=action, note="Not needed")


# --- the new owner is told, once, without the action's words -----------------------------------


def test_reassigning_tells_the_new_owner_once_and_never_the_action_text(
    navigator, matron, chair, patient
):
    action = make(patient, owner=matron)

    actions.action_reassign(by=navigator, action=action, owner=chair, note="You know the family")
    actions.action_reassign(by=navigator, action=action, owner=matron)
    actions.action_reassign(by=navigator, action=action, owner=chair)  # back again

    [told] = assigned(chair)
    assert told.event_id == f"action:{action.pk}"
    assert told.link == "/actions/mine/"
    assert told.patient_id == patient.pk
    assert not told.urgent
    # Nothing of the action's (or the note's) words anywhere in the row.
    row = " ".join(
        str(value) for value in Notification.objects.filter(pk=told.pk).values()[0].values()
    )
    assert "pendant" not in row.lower() and "family" not in row.lower()
    assert len(assigned(matron)) == 1  # given back to her once


def test_adding_an_action_at_the_meeting_tells_its_owner_once(
    navigator, chair, matron, network_a, practice_a
):
    meeting = services.meeting_schedule(
        by=navigator,
        network=network_a,
        date=TODAY + dt.timedelta(days=1),
        starts_at=dt.time(9),
        ends_at=dt.time(11),
    ).meetings[0]
    item = services.agenda_item_add(
        by=navigator, meeting=meeting, patient=PatientFactory(practice=practice_a), reason="urgent"
    )
    services.meeting_start(by=chair, meeting=meeting)
    item.meeting.refresh_from_db()
    services.discussion_save(by=chair, item=item, outcome="continue", summary="Stable")

    added = services.action_add(
        by=chair, item=item, what=WHAT, due_on=TODAY + dt.timedelta(days=7), owner=matron
    )
    services.action_add(
        by=chair, item=item, what="Chair's own", due_on=TODAY + dt.timedelta(days=7), owner=chair
    )

    [told] = assigned(matron)
    assert told.event_id == f"action:{added.action.pk}"
    assert len(told.event_id) <= Notification._meta.get_field("event_id").max_length
    assert assigned(chair) == []  # nobody is told of what they gave themselves
    # The same event raised again (a page sent twice) adds nothing.
    assert actions.action_assigned_notify(action=added.action, by=chair) == 0


def test_a_deactivated_owner_is_not_told(navigator, matron, chair, patient):
    action = make(patient, owner=chair)
    chair.is_active = False
    chair.save(update_fields=["is_active"])

    assert actions.action_assigned_notify(action=action, by=navigator) == 0


# --- adding an action outside a meeting --------------------------------------------------------


def test_a_member_adds_an_action_from_the_care_plan_and_the_owner_is_told(matron, chair, patient):
    added = actions.action_create(
        by=matron,
        patient=patient,
        what=WHAT,
        due_on=TODAY + dt.timedelta(days=14),
        owner=chair,
        priority=Action.Priority.HIGH,
        source=Action.Source.PLAN,
    )

    action = added.action
    assert (action.source, action.priority, action.owner, action.created_by) == (
        "plan",
        "high",
        chair,
        matron,
    )
    assert added.warnings == ()
    assert len(assigned(chair)) == 1


def test_adding_an_action_says_what_is_missing(matron, patient):
    with pytest.raises(ValidationError) as refused:
        actions.action_create(
            by=matron, patient=patient, what=" ", due_on=None, priority="whenever", source="x"
        )

    assert set(refused.value.message_dict) == {"what", "owner", "due_on", "priority", "source"}


def test_an_action_from_a_discussion_is_added_at_the_meeting_not_here(matron, patient):
    with pytest.raises(ValidationError, match="a care plan, a review or other"):
        actions.action_create(
            by=matron,
            patient=patient,
            what=WHAT,
            due_on=TODAY,
            owner=matron,
            source=Action.Source.DISCUSSION,
        )


def test_adding_an_action_for_someone_outside_the_network_is_refused(matron, outsider, patient):
    with pytest.raises(ValidationError, match="Choose a member of this person's network"):
        actions.action_create(by=matron, patient=patient, what=WHAT, due_on=TODAY, owner=outsider)
    with pytest.raises(PermissionDenied):
        actions.action_create(by=outsider, patient=patient, what=WHAT, due_on=TODAY, owner=matron)
    assert not Action.objects.exists()


def test_an_action_added_already_late_is_kept_with_a_warning(matron, patient):
    added = actions.action_create(
        by=matron, patient=patient, what=WHAT, due_on=TODAY - dt.timedelta(days=2), owner=matron
    )

    assert "which has passed: it is overdue" in added.warnings[0]


# --- the worklist's reads ----------------------------------------------------------------------


def _ids(listing) -> set:
    return {action.pk for action in listing.actions}


def test_a_deactivated_owner_shows_as_unassigned(navigator, matron, chair, patient, team):
    nobody = make(patient)
    team_only = make(patient, owner_organisation=team)
    left = make(patient, owner=chair)
    owned = make(patient, owner=matron)
    chair.is_active = False
    chair.save(update_fields=["is_active"])

    listing = selectors.worklist(
        user=navigator, filters=selectors.WorklistFilters(section=selectors.UNASSIGNED)
    )

    assert _ids(listing) == {nobody.pk, team_only.pk, left.pk}
    assert owned.pk not in _ids(listing)
    assert listing.counts[selectors.UNASSIGNED] == 3


def test_the_worklist_sections_count_overdue_this_week_and_recently_done(
    navigator, matron, patient
):
    overdue = make(patient, owner=matron, due_on=TODAY - dt.timedelta(days=1))
    today = make(patient, owner=matron, due_on=TODAY)
    in_six_days = make(patient, owner=matron, due_on=TODAY + dt.timedelta(days=6))
    in_a_week = make(patient, owner=matron, due_on=TODAY + dt.timedelta(days=7))
    lately = make(patient, owner=matron, status=Action.Status.DONE)
    long_ago = make(patient, owner=matron, status=Action.Status.DONE)
    cancelled = make(patient, owner=matron, status=Action.Status.CANCELLED)
    now = timezone.now()
    Action.objects.filter(pk=lately.pk).update(completed_at=now - dt.timedelta(days=13))
    Action.objects.filter(pk=long_ago.pk).update(completed_at=now - dt.timedelta(days=15))

    def section(key):
        filters = selectors.WorklistFilters(section=key)
        return _ids(selectors.worklist(user=navigator, filters=filters))

    assert section(selectors.OVERDUE) == {overdue.pk}
    assert section(selectors.THIS_WEEK) == {today.pk, in_six_days.pk}
    assert section(selectors.OPEN) == {overdue.pk, today.pk, in_six_days.pk, in_a_week.pk}
    assert section(selectors.DONE) == {lately.pk}
    assert cancelled.pk not in set().union(*(section(key) for key, _ in selectors.SECTIONS))
    counts = selectors.worklist(user=navigator).counts
    assert counts == {"open": 4, "overdue": 1, "week": 2, "unassigned": 0, "done": 1}


def test_the_worklist_filters_by_network_owner_priority_status_and_person(
    navigator, matron, chair, network_a, network_b, practice_a, practice_b
):
    MembershipFactory(user=navigator, network=network_b, role=Membership.Role.NAVIGATOR)
    mary = PatientFactory(practice=practice_a, given_name="Mary", family_name="Okafor")
    john = PatientFactory(practice=practice_b, given_name="John", family_name="Whitfield")
    marys = make(mary, owner=matron, priority=Action.Priority.URGENT)
    started = make(mary, owner=chair, status=Action.Status.IN_PROGRESS)
    mine = make(john, owner=navigator)

    def found(**query):
        filters = selectors.WorklistFilters.from_query(query)
        return _ids(selectors.worklist(user=navigator, filters=filters))

    assert found() == {marys.pk, started.pk, mine.pk}
    assert found(network=str(network_b.pk)) == {mine.pk}
    assert found(owner="me") == {mine.pk}
    assert found(owner=str(chair.pk)) == {started.pk}
    assert found(priority="urgent") == {marys.pk}
    assert found(status="in_progress") == {started.pk}
    assert found(q="okafor") == {marys.pk, started.pk}
    spaced = f"{john.nhs_number[:3]} {john.nhs_number[3:6]} {john.nhs_number[6:]}"
    assert found(q=spaced) == {mine.pk}
    # Values that are no choice are dropped, not errors.
    assert found(priority="whenever", owner="nobody", network="x", section="y") == found()


def test_the_worklist_sorts_by_due_date_or_priority(navigator, matron, patient):
    later_urgent = make(
        patient, owner=matron, due_on=TODAY + dt.timedelta(days=9), priority="urgent"
    )
    soon_routine = make(patient, owner=matron, due_on=TODAY + dt.timedelta(days=1))
    middle_high = make(patient, owner=matron, due_on=TODAY + dt.timedelta(days=5), priority="high")

    def order(sort):
        filters = selectors.WorklistFilters(sort=sort)
        return [a.pk for a in selectors.worklist(user=navigator, filters=filters).actions]

    assert order("due") == [soon_routine.pk, middle_high.pk, later_urgent.pk]
    assert order("-due") == [later_urgent.pk, middle_high.pk, soon_routine.pk]
    assert order("priority") == [later_urgent.pk, middle_high.pk, soon_routine.pk]


def test_the_worklist_shows_nothing_of_another_network(outsider, matron, patient):
    make(patient, owner=matron, due_on=TODAY - dt.timedelta(days=3))

    listing = selectors.worklist(user=outsider)

    assert listing.actions == []
    assert set(listing.counts.values()) == {0}


def test_my_actions_are_mine_and_my_teams(member, matron, team, patient, practice_b):
    mine = make(patient, owner=member)
    teams = make(patient, owner_organisation=team)
    taken = make(patient, owner=matron, owner_organisation=team)  # a person has it
    make(patient, owner=matron)
    # Owned by the member, but in a network they do not belong to: not shown.
    make(PatientFactory(practice=practice_b), owner=member)

    def scope(value):
        filters = selectors.WorklistFilters(scope=value)
        return _ids(selectors.my_actions(user=member, filters=filters))

    assert scope(selectors.MINE_OR_TEAM) == {mine.pk, teams.pk}
    assert scope(selectors.MINE) == {mine.pk}
    assert scope(selectors.TEAM) == {teams.pk}
    assert taken.pk not in scope(selectors.MINE_OR_TEAM)


def test_my_actions_of_someone_with_no_organisation_are_only_their_own(matron, patient, team):
    mine = make(patient, owner=matron)
    make(patient, owner_organisation=team)

    assert _ids(selectors.my_actions(user=matron)) == {mine.pk}


# --- the navigator's dashboard -----------------------------------------------------------------


def _episode(patient, status="active"):
    return RegisterEntry.objects.create(
        patient=patient,
        status=status,
        source="gp_practice",
        referrer_name="Dr Patel",
        reason="Falls",
        referred_on=TODAY - dt.timedelta(days=60),
    )


def _plan(patient, entry, *, by, status, next_review_on, ratified_days_ago=30):
    return CarePlan.objects.create(
        patient=patient,
        entry=entry,
        status=status,
        review_interval_weeks=12,
        starts_on=TODAY - dt.timedelta(days=90),
        next_review_on=next_review_on,
        ratified_by=by,
        ratified_at=timezone.now() - dt.timedelta(days=ratified_days_ago),
    )


def test_the_dashboard_counts_what_needs_the_navigator(
    navigator, matron, chair, network_a, practice_a, practice_b
):
    people = [PatientFactory(practice=practice_a) for _ in range(6)]
    other = PatientFactory(practice=practice_b)
    # Two overdue actions (one in progress), one due today, one overdue but done.
    make(people[0], owner=matron, due_on=TODAY - dt.timedelta(days=1))
    make(people[1], owner=matron, due_on=TODAY - dt.timedelta(days=9), status="in_progress")
    make(people[0], owner=matron, due_on=TODAY)
    make(people[1], owner=matron, due_on=TODAY - dt.timedelta(days=9), status="done")
    make(other, due_on=TODAY - dt.timedelta(days=9))  # another network's
    # Reviews: overdue, due in 14 days, due later, and due but the episode ended.
    shared = {"by": chair, "status": "shared"}
    _plan(people[0], _episode(people[0]), **shared, next_review_on=TODAY - dt.timedelta(1))
    _plan(people[1], _episode(people[1]), **shared, next_review_on=TODAY + dt.timedelta(14))
    # Two versions of one episode's plan in force: the newer one's review
    # counts (due later), as on the register, not the older one's (overdue).
    entry = _episode(people[2])
    newer = _plan(people[2], entry, **shared, next_review_on=TODAY + dt.timedelta(15))
    CarePlan.objects.filter(pk=newer.pk).update(number=2)
    _plan(people[2], entry, **shared, next_review_on=TODAY - dt.timedelta(5))
    _plan(people[3], _episode(people[3], status="discharged"), **shared, next_review_on=TODAY)
    # Ratified 20 days ago and not shared; ratified 3 days ago (not yet late).
    _plan(
        people[4],
        _episode(people[4]),
        by=chair,
        status="ratified",
        next_review_on=TODAY + dt.timedelta(days=60),
        ratified_days_ago=20,
    )
    _plan(
        people[5],
        _episode(people[5]),
        by=chair,
        status="ratified",
        next_review_on=TODAY + dt.timedelta(days=60),
        ratified_days_ago=3,
    )
    # Two referrals waiting.
    for person in [PatientFactory(practice=practice_a) for _ in range(2)]:
        _episode(person, status="referred")
    # Meetings: two to publish within 14 days; one published, one later, one cancelled.
    for days, published, cancelled in (
        (0, False, False),
        (14, False, False),
        (3, True, False),
        (15, False, False),
        (5, False, True),
    ):
        meeting = Meeting.objects.create(
            network=network_a,
            date=TODAY + dt.timedelta(days=days),
            starts_at=dt.time(9),
            ends_at=dt.time(10),
            agenda_published_at=timezone.now() if published else None,
            status="cancelled" if cancelled else "scheduled",
            cancel_reason="Bank holiday" if cancelled else "",
        )

    counts = selectors.navigator_dashboard(user=navigator)

    assert counts == selectors.DashboardCounts(
        overdue_actions=2,
        reviews_due=1,
        reviews_overdue=1,
        referrals_waiting=2,
        agendas_to_publish=2,
        plans_not_shared=1,
    )
    # The review counts are the register's review filters' lists.
    for review, count in (
        (REVIEW_DUE, counts.reviews_due),
        (REVIEW_OVERDUE, counts.reviews_overdue),
    ):
        listed = register_rows(user=navigator, filters=RegisterFilters(review=review))
        assert listed.count() == count
    # The plans count agrees with the "needing attention" list's own reason.
    assert counts.plans_not_shared == sum(
        "Ratified but not shared" in attention_reasons(plan)
        for plan in plans_needing_attention(user=navigator)
    )
    assert meeting.status == "cancelled"


def test_the_dashboard_counts_nothing_of_another_network(outsider, navigator, matron, patient):
    make(patient, owner=matron, due_on=TODAY - dt.timedelta(days=1))

    assert selectors.navigator_dashboard(user=outsider) == selectors.DashboardCounts(
        0, 0, 0, 0, 0, 0
    )
    assert selectors.navigator_dashboard(user=navigator).overdue_actions == 1


def test_the_dashboard_is_four_queries_however_much_there_is(
    navigator, matron, practice_a, django_assert_num_queries
):
    for _ in range(5):
        make(PatientFactory(practice=practice_a), owner=matron, due_on=TODAY - dt.timedelta(1))

    with django_assert_num_queries(4):
        selectors.navigator_dashboard(user=navigator)
