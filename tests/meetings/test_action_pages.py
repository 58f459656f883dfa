"""The worklist pages as their users meet them: "My actions" for every role,
the navigator's worklist for navigators, admins and GP chairs (others: a
403 that says why), the row buttons with and without htmx, the outsider's
404, one access event per request naming the people shown, the
navigator's dashboard, adding an action from the record; and query counts
that stay the same at 1 and at 30 actions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mdtcare.accounts.models import Membership, Organisation
from mdtcare.audit.models import AccessEvent
from mdtcare.notifications.models import Notification
from meetings import action_selectors
from meetings.models import Action
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)
WHAT = "Ask the falls team about a pendant alarm"
HTMX = {"HTTP_HX_REQUEST": "true"}

# Pinned query counts: the same at 1 action as at 30 (tests below).
WORKLIST_QUERIES = 14
MY_ACTIONS_QUERIES = 13
BUTTON_QUERIES = 18
BUTTON_HTMX_QUERIES = 21
DASHBOARD_QUERIES = 11


@pytest.fixture
def team(db):
    return Organisation.objects.create(
        name="Leeds Community Therapy", type=Organisation.Type.COMMUNITY_TRUST
    )


@pytest.fixture
def member(network_a, team):
    user = UserFactory(username="member", organisation=team)
    MembershipFactory(user=user, network=network_a, role=Membership.Role.MEMBER)
    return user


def make(practice, *, owner=None, due_on=TODAY, **fields) -> Action:
    return Action.objects.create(
        patient=PatientFactory(practice=practice), what=WHAT, owner=owner, due_on=due_on, **fields
    )


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _event(**lookup) -> AccessEvent:
    [event] = AccessEvent.objects.filter(**lookup)
    return event


def _patients_of(event) -> set:
    return set(event.patients.values_list("patient_id", flat=True))


def _seen(action: Action) -> dict:
    action.refresh_from_db()
    return {
        "expected_status": action.status,
        "expected_updated_at": action.updated_at.isoformat(),
    }


# --- who opens which page ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["matron", "chair", "navigator", "admin", "outsider"])
def test_every_role_opens_my_actions(client, personas, persona):
    client.force_login(getattr(personas, persona))
    if persona == "admin":
        _verify_second_factor(client, personas.admin)

    response = client.get(reverse("meetings:my_actions"))

    assert response.status_code == 200
    assert "<h1>My actions</h1>" in response.text
    assert "You have no actions still to do." in response.text


@pytest.mark.parametrize(
    ("persona", "status"),
    [("navigator", 200), ("admin", 200), ("chair", 200), ("matron", 403), ("outsider", 403)],
)
def test_the_worklist_is_for_navigators_admins_and_gp_chairs(client, personas, persona, status):
    client.force_login(getattr(personas, persona))
    if persona == "admin":
        _verify_second_factor(client, personas.admin)

    response = client.get(reverse("meetings:worklist"))

    assert response.status_code == status
    if status == 403:
        assert "for care navigators, admins and GP chairs" in response.text
        assert "My actions" in response.text
        assert not AccessEvent.objects.exists()


def test_the_navigators_menu_leads_to_the_worklist_and_everyones_to_my_actions(
    client, navigator, matron
):
    client.force_login(navigator)
    nav = client.get(reverse("home")).text.split('aria-label="Menu"')[1].split("</nav>")[0]
    assert f'href="{reverse("meetings:worklist")}"' in nav
    assert f'href="{reverse("meetings:my_actions")}"' in nav

    client.force_login(matron)
    nav = client.get(reverse("home")).text.split('aria-label="Menu"')[1].split("</nav>")[0]
    assert f'href="{reverse("meetings:my_actions")}"' in nav
    assert reverse("meetings:worklist") + '"' not in nav


# --- what the lists show, through the gate ---------------------------------------------------


def test_the_worklist_shows_the_networks_actions_and_no_one_elses(
    client, navigator, matron, practice_a, practice_b
):
    ours = make(practice_a, owner=matron, due_on=YESTERDAY, priority="urgent")
    theirs = make(practice_b, due_on=YESTERDAY)
    client.force_login(navigator)

    response = client.get(reverse("meetings:worklist"), {"section": "overdue"})

    assert response.status_code == 200
    assert str(ours.patient) in response.text
    assert ours.patient.nhs_number_display in response.text
    assert str(theirs.patient) not in response.text
    assert "Overdue (<span data-count>1</span>)" in response.text
    assert 'nhsuk-tag--red">Overdue' in response.text
    assert "Urgent" in response.text
    event = _event(what="actions.worklist")
    assert _patients_of(event) == {ours.patient_id}
    assert "member of North as Care navigator" in event.reason


def test_my_actions_show_mine_and_my_teams_only(client, member, matron, team, practice_a):
    mine = make(practice_a, owner=member)
    teams = make(practice_a, owner_organisation=team)
    hers = make(practice_a, owner=matron)
    client.force_login(member)

    response = client.get(reverse("meetings:my_actions"))

    assert str(mine.patient) in response.text and str(teams.patient) in response.text
    assert str(hers.patient) not in response.text
    assert _patients_of(_event(what="actions.mine")) == {mine.patient_id, teams.patient_id}
    # The owner of an action (and a member of its team) may reassign and cancel it.
    assert response.text.count("Choose who to give it to") == 2


def test_a_deactivated_owner_shows_as_unassigned_with_a_closed_account(
    client, navigator, chair, practice_a
):
    action = make(practice_a, owner=chair)
    chair.is_active = False
    chair.save(update_fields=["is_active"])
    client.force_login(navigator)

    response = client.get(reverse("meetings:worklist"), {"section": "unassigned"})

    assert str(action.patient) in response.text
    assert "Account closed" in response.text


def test_reassign_and_cancel_show_only_where_the_user_may(
    client, navigator, matron, network_b, practice_a, practice_b
):
    """A navigator of North who is a plain member of South: Start and
    Complete everywhere, Reassign and Cancel in North only."""
    MembershipFactory(user=navigator, network=network_b, role=Membership.Role.MEMBER)
    north = make(practice_a, owner=matron)
    south = make(practice_b, owner=UserFactory())
    client.force_login(navigator)

    text = client.get(reverse("meetings:worklist")).text

    north_row = text.split(f'id="action-{north.pk}"')[1].split("</tr>")[0]
    south_row = text.split(f'id="action-{south.pk}"')[1].split("</tr>")[0]
    assert "Reassign<span" in north_row and "Cancel<span" in north_row
    assert "Start<span" in south_row and "Complete<span" in south_row
    assert "Reassign<span" not in south_row and "Cancel<span" not in south_row


def test_the_worklist_filters_survive_in_section_and_page_links(client, navigator, practice_a):
    for _ in range(27):
        make(practice_a, due_on=YESTERDAY, priority="high")
    client.force_login(navigator)

    response = client.get(reverse("meetings:worklist"), {"priority": "high", "sort": "priority"})

    assert "27 actions: showing 1 to 25" in response.text
    assert "?priority=high&amp;sort=priority&amp;page=2" in response.text
    assert "?section=overdue&amp;priority=high&amp;sort=priority" in response.text


# --- the buttons, without htmx --------------------------------------------------------------


def test_start_without_htmx_goes_back_to_the_list_it_came_from(client, matron, practice_a):
    action = make(practice_a, owner=matron)
    client.force_login(matron)
    back = reverse("meetings:my_actions") + "?sort=priority"

    response = client.post(
        reverse("meetings:action_start", args=[action.pk]),
        {**_seen(action), "next": back, "list": "mine"},
    )

    assert response.status_code == 302
    assert response["Location"] == back
    assert Action.objects.get(pk=action.pk).status == Action.Status.IN_PROGRESS
    assert _messages(response) == [f"{action.patient}: the action is in progress."]
    assert _patients_of(_event(what="action.start")) == {action.patient_id}


def test_complete_without_htmx_keeps_the_note(client, navigator, matron, practice_a):
    action = make(practice_a, owner=matron, due_on=YESTERDAY)
    client.force_login(navigator)

    client.post(
        reverse("meetings:action_complete", args=[action.pk]),
        {**_seen(action), "note": "Pendant fitted on Tuesday", "list": "worklist"},
    )

    action.refresh_from_db()
    assert (action.status, action.completion_note, action.completed_by) == (
        "done",
        "Pendant fitted on Tuesday",
        navigator,
    )


def test_cancel_without_a_reason_is_refused_with_a_message(client, navigator, practice_a):
    action = make(practice_a)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:action_cancel", args=[action.pk]),
        {**_seen(action), "note": "", "list": "worklist"},
    )

    assert response["Location"] == reverse("meetings:worklist")
    assert _messages(response) == [f"{action.patient}: Enter why the action is cancelled"]
    assert Action.objects.get(pk=action.pk).status == Action.Status.OPEN
    assert AccessEvent.objects.count() == 1


def test_reassign_without_htmx_gives_it_to_the_person_and_tells_them(
    client, navigator, matron, chair, practice_a
):
    action = make(practice_a, owner=matron)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:action_reassign", args=[action.pk]),
        {**_seen(action), "owner": str(chair.pk), "note": "Needs a GP", "list": "worklist"},
    )

    assert Action.objects.get(pk=action.pk).owner == chair
    assert f"the action has been given to {chair}" in _messages(response)[0]
    assert Notification.objects.filter(recipient=chair, kind="action_assigned").count() == 1


def test_reassigning_to_someone_outside_the_network_says_so(
    client, navigator, matron, outsider, practice_a
):
    action = make(practice_a, owner=matron)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:action_reassign", args=[action.pk]),
        {**_seen(action), "owner": str(outsider.pk), "list": "worklist"},
    )

    assert "Choose a member of this person's network" in _messages(response)[0]
    assert Action.objects.get(pk=action.pk).owner == matron


def test_the_reassign_form_lists_the_networks_people_and_teams_on_a_page_of_its_own(
    client, navigator, matron, chair, outsider, practice_a, team
):
    action = make(practice_a, owner=matron)
    client.force_login(navigator)
    url = reverse("meetings:action_reassign", args=[action.pk])

    page = client.get(url, {"list": "worklist", "next": reverse("meetings:worklist")})

    assert page.status_code == 200
    assert "<h1>Reassign the action</h1>" in page.text
    assert f'<option value="{chair.pk}">' in page.text
    assert f'<option value="{matron.pk}">' not in page.text  # it is hers already
    assert f'<option value="{outsider.pk}">' not in page.text  # another network's
    assert f'<option value="{team.pk}">{team.name}</option>' in page.text
    assert f'href="{reverse("meetings:worklist")}"' in page.text  # back to the list
    assert 'name="list" value="worklist"' in page.text
    assert _patients_of(_event(what="action.reassign_form")) == {action.patient_id}


def test_with_htmx_the_reassign_form_comes_alone_and_answers_into_the_list(
    client, navigator, matron, practice_a
):
    action = make(practice_a, owner=matron)
    client.force_login(navigator)

    fragment = client.get(
        reverse("meetings:action_reassign", args=[action.pk]), {"list": "worklist"}, **HTMX
    )

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'hx-target="#action-list"' in fragment.text
    assert 'name="owner"' in fragment.text and 'name="owner_organisation"' in fragment.text


def test_the_worklist_sends_no_ones_names_for_reassign_until_it_is_opened(
    client, navigator, matron, chair, practice_a
):
    make(practice_a, owner=matron)
    client.force_login(navigator)

    page = client.get(reverse("meetings:worklist"))

    assert "Choose who to give it to" in page.text
    assert 'id="reassign-owner-' not in page.text
    assert page.text.count(f'<option value="{chair.pk}">') == 1  # the owner filter's


@pytest.mark.parametrize(
    ("persona", "status", "said"),
    [
        ("matron", 403, "may reassign or cancel an action"),  # not hers, not a manager
        ("outsider", 404, ""),
    ],
)
def test_the_reassign_form_is_refused_to_who_may_not_reassign(
    client, personas, chair, practice_a, persona, status, said
):
    action = make(practice_a, owner=chair)
    client.force_login(getattr(personas, persona))

    response = client.get(reverse("meetings:action_reassign", args=[action.pk]))

    assert response.status_code == status
    assert said in response.text
    assert f'<option value="{chair.pk}">' not in response.text


def test_a_done_action_has_no_reassign_form(client, navigator, matron, practice_a):
    action = make(practice_a, owner=matron, status=Action.Status.DONE)
    client.force_login(navigator)

    response = client.get(reverse("meetings:action_reassign", args=[action.pk]))

    assert response.status_code == 403
    assert "This action is done: it cannot be reassigned." in response.text


def test_a_role_that_may_not_cancel_gets_403_with_the_reason(client, matron, chair, practice_a):
    action = make(practice_a, owner=chair)
    client.force_login(matron)

    response = client.post(
        reverse("meetings:action_cancel", args=[action.pk]), {"note": "Not needed"}
    )

    assert response.status_code == 403
    assert "may reassign or cancel an action" in response.text
    assert Action.objects.get(pk=action.pk).status == Action.Status.OPEN
    assert _patients_of(_event(what="action.cancel")) == {action.patient_id}


def test_a_stale_button_is_refused(client, navigator, matron, practice_a):
    action = make(practice_a, owner=matron)
    seen = _seen(action)
    client.force_login(matron)
    client.post(reverse("meetings:action_start", args=[action.pk]), {})
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:action_cancel", args=[action.pk]),
        {**seen, "note": "Not needed", "list": "worklist"},
    )

    assert "Someone else changed this action" in _messages(response)[-1]
    assert Action.objects.get(pk=action.pk).status == Action.Status.IN_PROGRESS


def test_a_button_never_sends_the_user_to_another_site(client, matron, practice_a):
    action = make(practice_a, owner=matron)
    client.force_login(matron)

    response = client.post(
        reverse("meetings:action_start", args=[action.pk]),
        {"next": "https://evil.example/actions/mine/", "list": "mine"},
    )

    assert response["Location"] == reverse("meetings:my_actions")


@pytest.mark.parametrize("button", ["start", "complete", "reassign", "cancel"])
def test_an_outsider_gets_404_for_another_networks_action(
    client, outsider, matron, practice_a, button
):
    action = make(practice_a, owner=matron)
    client.force_login(outsider)

    response = client.post(
        reverse(f"meetings:action_{button}", args=[action.pk]), {"note": "x"}, **HTMX
    )

    assert response.status_code == 404
    assert Action.objects.get(pk=action.pk).status == Action.Status.OPEN
    assert not AccessEvent.objects.exists()


def test_buttons_only_post(client, matron, practice_a):
    action = make(practice_a, owner=matron)
    client.force_login(matron)

    assert client.get(reverse("meetings:action_start", args=[action.pk])).status_code == 405


# --- the buttons, with htmx ------------------------------------------------------------------


def test_completing_an_overdue_action_with_htmx_answers_the_list_without_it(
    client, navigator, matron, practice_a
):
    done = make(practice_a, owner=matron, due_on=YESTERDAY)
    other = make(practice_a, owner=matron, due_on=YESTERDAY)
    client.force_login(navigator)
    back = reverse("meetings:worklist") + "?section=overdue"

    response = client.post(
        reverse("meetings:action_complete", args=[done.pk]),
        {**_seen(done), "note": "Fitted", "next": back, "list": "worklist"},
        **HTMX,
    )

    assert response.status_code == 200
    text = response.text
    assert text.startswith('<div class="mdt-action-list" id="action-list"')
    assert "<html" not in text
    assert f"{done.patient}: the action is done." in text
    assert f'id="action-{done.pk}"' not in text and f'id="action-{other.pk}"' in text
    assert "Overdue (<span data-count>1</span>)" in text
    assert "Done in the last 14 days (<span data-count>1</span>)" in text
    # The block's buttons come back to the same section.
    assert f'name="next" value="{back}"' in text
    event = _event(what="action.complete")
    assert _patients_of(event) == {done.patient_id, other.patient_id}
    assert _messages(response) == []


def test_a_refusal_with_htmx_is_said_in_the_block(client, navigator, matron, practice_a):
    action = make(practice_a, owner=matron, status=Action.Status.DONE)
    client.force_login(navigator)

    response = client.post(
        reverse("meetings:action_start", args=[action.pk]), {"list": "worklist"}, **HTMX
    )

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "This action is done: it cannot be started" in response.text


def test_a_role_that_may_not_is_refused_with_htmx_too(client, matron, chair, practice_a):
    action = make(practice_a, owner=chair)
    client.force_login(matron)

    response = client.post(
        reverse("meetings:action_reassign", args=[action.pk]),
        {"owner": str(matron.pk), "list": "mine"},
        **HTMX,
    )

    assert response.status_code == 403
    assert Action.objects.get(pk=action.pk).owner == chair


# --- adding an action from the record --------------------------------------------------------


def _date(prefix, day):
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


def test_the_record_offers_to_add_an_action(client, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(matron)

    text = client.get(reverse("patients:detail", args=[patient.pk])).text

    assert reverse("meetings:action_create", args=[patient.pk]) in text


def test_a_member_adds_an_action_from_the_record(client, matron, chair, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(matron)
    url = reverse("meetings:action_create", args=[patient.pk])

    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "what": WHAT,
            "source": "review",
            "owner": str(chair.pk),
            "owner_organisation": "",
            **_date("due_on", TODAY + dt.timedelta(days=7)),
            "priority": "routine",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk]) + "#actions"
    action = Action.objects.get(patient=patient)
    assert (action.what, action.source, action.owner) == (WHAT, "review", chair)
    assert Notification.objects.filter(recipient=chair, kind="action_assigned").count() == 1
    assert AccessEvent.objects.filter(what="action.create").count() == 2  # the form, the post


def test_adding_an_action_shows_what_is_missing(client, matron, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(matron)

    response = client.post(
        reverse("meetings:action_create", args=[patient.pk]),
        {"what": "", "source": "other", "priority": "routine"},
    )

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "Enter what needs to be done" in response.text
    assert "Enter the due date" in response.text
    assert not Action.objects.exists()


def test_an_outsider_cannot_add_an_action_for_another_networks_person(client, outsider, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(outsider)

    assert client.get(reverse("meetings:action_create", args=[patient.pk])).status_code == 404


# --- the navigator's dashboard ---------------------------------------------------------------


def test_the_navigators_today_page_counts_and_links_to_the_lists(
    client, navigator, matron, practice_a
):
    for _ in range(3):
        make(practice_a, owner=matron, due_on=YESTERDAY)
    client.force_login(navigator)

    text = client.get(reverse("home")).text

    card = text.split('data-card="overdue-actions"')[1].split("</li>")[0]
    assert '<span class="nhsuk-u-font-size-48 nhsuk-u-display-block" data-count>3</span>' in card
    assert f'href="{reverse("meetings:worklist")}?section=overdue"' in card
    assert "overdue actions" in card
    assert f'href="{reverse("patients:list")}?review=overdue"' in text
    assert f'href="{reverse("patients:list")}?review=due"' in text
    assert "No referrals are waiting." in text
    counts = action_selectors.navigator_dashboard(user=navigator)
    assert counts.overdue_actions == 3


# --- query counts: the same at 1 action as at 30 ---------------------------------------------


@pytest.fixture
def rows(practice_a, matron, chair):
    def make_rows(count):
        for index in range(count):
            make(
                practice_a,
                owner=(matron, chair, None)[index % 3],
                due_on=TODAY + dt.timedelta(days=index % 10 - 5),
            )

    return make_rows


def _settle(client, user):
    client.force_login(user)
    client.get(reverse("home"))  # settle the session


@pytest.mark.parametrize("count", [1, 30])
def test_the_worklist_costs_the_same_however_many_actions(
    client, navigator, rows, count, django_assert_num_queries
):
    rows(count)
    _settle(client, navigator)

    with django_assert_num_queries(WORKLIST_QUERIES):
        response = client.get(reverse("meetings:worklist"))

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 30])
def test_my_actions_cost_the_same_however_many_actions(
    client, matron, practice_a, count, django_assert_num_queries
):
    for _ in range(count):
        make(practice_a, owner=matron, due_on=YESTERDAY)
    _settle(client, matron)

    with django_assert_num_queries(MY_ACTIONS_QUERIES):
        response = client.get(reverse("meetings:my_actions"))

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 30])
def test_a_button_costs_the_same_however_many_actions(
    client, navigator, matron, practice_a, rows, count, django_assert_num_queries
):
    rows(count)
    action = make(practice_a, owner=matron, due_on=YESTERDAY)
    seen = _seen(action)
    _settle(client, navigator)

    with django_assert_num_queries(BUTTON_QUERIES):
        client.post(
            reverse("meetings:action_complete", args=[action.pk]), {**seen, "list": "worklist"}
        )


@pytest.mark.parametrize("count", [1, 30])
def test_a_button_with_htmx_costs_the_same_however_many_actions(
    client, navigator, matron, practice_a, rows, count, django_assert_num_queries
):
    rows(count)
    action = make(practice_a, owner=matron, due_on=YESTERDAY)
    seen = _seen(action)
    _settle(client, navigator)

    with django_assert_num_queries(BUTTON_HTMX_QUERIES):
        response = client.post(
            reverse("meetings:action_complete", args=[action.pk]),
            {**seen, "list": "worklist"},
            **HTMX,
        )

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 30])
def test_the_dashboard_costs_the_same_however_many_actions(
    client, navigator, rows, count, django_assert_num_queries
):
    rows(count)
    _settle(client, navigator)

    with django_assert_num_queries(DASHBOARD_QUERIES):
        client.get(reverse("home"))
