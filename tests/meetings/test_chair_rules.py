"""Who runs the meeting, for every role; an admin acting as chair; outcomes
locked at close and corrected afterwards only with a reason; the chair's
clock; publishing an agenda the user has not seen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from careplans.models import CarePlan
from mdtcare.accounts.models import Membership, Profession
from mdtcare.audit.models import AccessEvent
from meetings import services
from meetings.models import Discussion, DiscussionAmendment, Meeting
from patients.models import RegisterEntry
from tests.conftest import _persona
from tests.factories import PatientFactory
from tests.meetings.test_run_services import open_episode
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _meeting(navigator, network_a, practice_a, count=3, date=TODAY):
    meeting = services.meeting_schedule(
        by=navigator, network=network_a, date=date, starts_at=dt.time(9), ends_at=dt.time(11)
    ).meetings[0]
    items = []
    for n in range(count):
        patient = PatientFactory(practice=practice_a, family_name=f"Person{n:02d}")
        open_episode(patient)
        items.append(
            services.agenda_item_add(
                by=navigator, meeting=meeting, patient=patient, reason="review_due"
            )
        )
    meeting.refresh_from_db()
    return meeting, items


@pytest.fixture
def member(network_a):
    return _persona("member", Profession.SOCIAL_WORKER, network_a, Membership.Role.MEMBER)


@pytest.fixture
def agenda(navigator, network_a, practice_a):
    return _meeting(navigator, network_a, practice_a)


def _run(meeting, item=None):
    if item is None:
        return reverse("meetings:meeting_run", args=[meeting.pk])
    return reverse("meetings:meeting_run_item", args=[meeting.pk, item.pk])


def _log_in(client, user):
    client.force_login(user)
    if Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists():
        _verify_second_factor(client, user)  # admins need it for every page


# --- every role: start, record an outcome, close --------------------------------

REFUSED = ["matron", "navigator", "member", "admin_user"]


@pytest.mark.parametrize("persona", REFUSED)
def test_only_a_gp_chair_starts_records_and_closes(request, client, chair, agenda, persona):
    """Every role but the GP chair is refused (an admin without a reason
    too); what the chair did stays as it was."""
    meeting, (first, second, _third) = agenda
    _log_in(client, request.getfixturevalue(persona))

    assert client.post(_run(meeting)).status_code == 403
    services.meeting_start(by=chair, meeting=meeting)
    services.discussion_save(by=chair, item=first, outcome="continue", summary="Chair's")
    refused_outcome = client.post(
        _run(meeting, second), {"form": "outcome", "outcome": "discharge"}
    )
    refused_close = client.post(reverse("meetings:meeting_close", args=[meeting.pk]))
    screen = client.get(_run(meeting, second))
    close_form = client.get(reverse("meetings:meeting_close", args=[meeting.pk]))

    assert refused_outcome.status_code == 403 and refused_close.status_code == 403
    # The close is neither offered nor shown to those who may not close it
    # (an admin may, acting as chair with a reason).
    offered = "Close meeting</a>" in screen.content.decode()
    assert offered is (persona == "admin_user")
    assert close_form.status_code == (200 if persona == "admin_user" else 403)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.IN_PROGRESS and meeting.chair == chair
    assert list(Discussion.objects.values_list("summary", flat=True)) == ["Chair's"]


def test_the_gp_chair_starts_records_and_closes(client, chair, agenda):
    meeting, (first, *_rest) = agenda
    _log_in(client, chair)

    assert client.post(_run(meeting)).status_code == 302
    assert "Close meeting</a>" in client.get(_run(meeting, first)).content.decode()
    saved = client.post(_run(meeting, first), {"form": "outcome", "outcome": "continue"})
    closed = client.post(reverse("meetings:meeting_close", args=[meeting.pk]))

    assert saved.status_code == 302 and closed.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED and meeting.closed_by == chair
    assert Discussion.objects.get().outcome == "continue"


def test_an_admin_acting_as_chair_with_a_reason_runs_it_all(client, admin_user, agenda):
    meeting, (first, *_rest) = agenda
    _log_in(client, admin_user)
    reason = {"acting_reason": "Dr Patel is on leave"}

    assert client.post(_run(meeting), reason).status_code == 302
    saved = client.post(_run(meeting, first), {"form": "outcome", "outcome": "relist", **reason})
    closed = client.post(reverse("meetings:meeting_close", args=[meeting.pk]), reason)

    assert saved.status_code == 302 and closed.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED
    assert meeting.acting_chair_reason == "Dr Patel is on leave"


def test_an_outsider_can_do_none_of_it(client, outsider, agenda):
    meeting, (first, *_rest) = agenda
    _log_in(client, outsider)

    assert client.post(_run(meeting)).status_code == 404
    assert client.post(_run(meeting, first), {"outcome": "continue"}).status_code == 404
    assert client.post(reverse("meetings:meeting_close", args=[meeting.pk])).status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


# --- ratifying as an acting chair ---------------------------------------------------


def _proposed_plan(item):
    entry = RegisterEntry.objects.get(patient_id=item.patient_id)
    return CarePlan.objects.create(
        patient_id=item.patient_id,
        entry=entry,
        status=CarePlan.Status.PROPOSED,
        starts_on=TODAY,
        next_review_on=TODAY + dt.timedelta(days=42),
    )


def test_an_admin_acting_as_chair_ratifies_with_the_reason_kept(admin_user, agenda):
    meeting, (first, *_rest) = agenda
    plan = _proposed_plan(first)
    reason = "Dr Patel is on leave"
    services.meeting_start(by=admin_user, meeting=meeting, acting_reason=reason)

    discussion = services.discussion_save(
        by=admin_user, item=first, outcome="continue", ratify_plan=True, acting_reason=reason
    )

    plan.refresh_from_db()
    assert discussion.ratified_plan == plan and plan.status == CarePlan.Status.RATIFIED
    assert plan.ratified_by == admin_user
    assert "acting as chair: Dr Patel is on leave" in plan.ratification_note


def test_without_a_reason_an_admin_cannot_ratify(admin_user, chair, agenda):
    from careplans import plans

    _meeting, (first, *_rest) = agenda
    plan = _proposed_plan(first)

    with pytest.raises(PermissionDenied):
        plans.plan_ratify(by=admin_user, plan=plan)
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.PROPOSED


# --- outcomes are locked at close; corrections need a reason -------------------------


@pytest.fixture
def closed(chair, agenda):
    meeting, (first, second, third) = agenda
    services.meeting_start(by=chair, meeting=meeting)
    services.discussion_save(
        by=chair, item=first, outcome="continue", summary="Stable at home", decisions="Carry on"
    )
    services.discussion_save(by=chair, item=second, outcome="escalate")
    services.meeting_close(by=chair, meeting=meeting)
    meeting.refresh_from_db()
    return meeting, first, second, third


def test_outcomes_posted_to_a_closed_meeting_are_refused(client, chair, closed):
    meeting, first, _second, third = closed
    _log_in(client, chair)

    response = client.post(_run(meeting, third), {"form": "outcome", "outcome": "continue"})

    assert response.status_code == 400
    assert "this one is closed" in response.content.decode()
    with pytest.raises(ValidationError, match="in progress"):
        services.discussion_save(by=chair, item=first, outcome="discharge")
    assert Discussion.objects.get(item=first).outcome == "continue"
    assert not Discussion.objects.filter(item=third).exists()


def test_closing_twice_changes_nothing(client, chair, closed):
    meeting, *_items = closed
    closed_at = meeting.closed_at
    _log_in(client, chair)

    response = client.post(reverse("meetings:meeting_close", args=[meeting.pk]))

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.closed_at == closed_at


def test_a_correction_keeps_what_was_recorded_and_why(navigator, closed):
    _meeting, first, *_rest = closed
    discussion = Discussion.objects.get(item=first)

    amendment = services.discussion_amend(
        by=navigator,
        discussion=discussion,
        reason="The MDT agreed to re-list, not continue",
        expected_revision=discussion.revision,
        outcome="relist",
        summary="Stable at home",
    )

    discussion.refresh_from_db()
    assert discussion.outcome == "relist" and discussion.revision == 2
    assert amendment.before == {"outcome": "continue"}
    assert amendment.after == {"outcome": "relist"}
    assert amendment.created_by == navigator


def test_a_correction_is_refused_without_a_reason_a_change_or_a_fresh_revision(chair, closed):
    _meeting, first, *_rest = closed
    discussion = Discussion.objects.get(item=first)

    with pytest.raises(ValidationError, match="reason"):
        services.discussion_amend(by=chair, discussion=discussion, reason=" ", outcome="relist")
    with pytest.raises(ValidationError, match="Nothing was changed"):
        services.discussion_amend(
            by=chair, discussion=discussion, reason="Typo", outcome="continue"
        )
    with pytest.raises(ValidationError, match="Someone else"):
        services.discussion_amend(
            by=chair, discussion=discussion, reason="Typo", expected_revision=0, outcome="relist"
        )
    with pytest.raises(ValidationError, match="Choose the outcome"):
        services.discussion_amend(by=chair, discussion=discussion, reason="Typo", outcome="x")
    assert not DiscussionAmendment.objects.exists()
    discussion.refresh_from_db()
    assert discussion.outcome == "continue" and discussion.revision == 1


def test_no_correction_while_the_meeting_runs(chair, agenda):
    meeting, (first, *_rest) = agenda
    services.meeting_start(by=chair, meeting=meeting)
    discussion = services.discussion_save(by=chair, item=first, outcome="continue")

    with pytest.raises(ValidationError, match="closed meetings"):
        services.discussion_amend(by=chair, discussion=discussion, reason="x", outcome="relist")


@pytest.mark.parametrize("persona", ["matron", "member"])
def test_practitioners_who_do_not_keep_minutes_cannot_correct(request, client, closed, persona):
    meeting, first, *_rest = closed
    user = request.getfixturevalue(persona)
    discussion = Discussion.objects.get(item=first)
    url = reverse("meetings:discussion_amend", args=[meeting.pk, first.pk])
    _log_in(client, user)

    with pytest.raises(PermissionDenied):
        services.discussion_amend(by=user, discussion=discussion, reason="x", outcome="relist")
    minutes = client.get(reverse("meetings:meeting_minutes", args=[meeting.pk]))
    form = client.get(url)
    response = client.post(
        url, {"outcome": "relist", "reason": "x", "revision": discussion.revision}
    )

    assert "Correct this outcome" not in minutes.content.decode()
    assert form.status_code == 403  # the form is not shown either
    assert response.status_code == 403
    assert not DiscussionAmendment.objects.exists()


def test_the_navigator_corrects_an_outcome_and_the_minutes_show_it(client, navigator, closed):
    meeting, first, *_rest = closed
    discussion = Discussion.objects.get(item=first)
    url = reverse("meetings:discussion_amend", args=[meeting.pk, first.pk])
    _log_in(client, navigator)
    minutes_url = reverse("meetings:meeting_minutes", args=[meeting.pk])

    assert "Correct this outcome" in client.get(minutes_url).content.decode()
    form = client.get(url)
    refused = client.post(url, {"outcome": "relist", "revision": discussion.revision})
    response = client.post(
        url,
        {
            "outcome": "relist",
            "summary": "Stable at home",
            "decisions": "Carry on",
            "next_review_on_0": "",
            "next_review_on_1": "",
            "next_review_on_2": "",
            "reason": "The MDT agreed to re-list",
            "revision": discussion.revision,
        },
    )

    assert form.status_code == 200 and "Correct the outcome" in form.content.decode()
    assert refused.status_code == 400
    assert "Enter the reason for the correction" in refused.content.decode()
    assert response.status_code == 302 and response["Location"] == minutes_url
    page = client.get(minutes_url).content.decode()
    assert "The MDT agreed to re-list" in page
    assert "“Continue” became “Re-list at next MDT”" in page
    assert DiscussionAmendment.objects.count() == 1


def test_the_correction_page_is_hidden_from_outsiders_and_audited(
    client, outsider, navigator, closed
):
    meeting, first, _second, third = closed
    url = reverse("meetings:discussion_amend", args=[meeting.pk, first.pk])
    _log_in(client, outsider)
    assert client.get(url).status_code == 404

    _log_in(client, navigator)
    before = AccessEvent.objects.count()
    client.get(url)
    not_discussed = client.get(reverse("meetings:discussion_amend", args=[meeting.pk, third.pk]))

    assert not_discussed.status_code == 404
    event = AccessEvent.objects.filter(what="meeting.outcome.amend").latest("pk")
    assert AccessEvent.objects.count() == before + 1
    assert list(event.patients.values_list("patient_id", flat=True)) == [first.patient_id]


# --- the clock ----------------------------------------------------------------------


def test_the_clock_says_how_far_over_the_slot_the_chair_is(
    client, chair, navigator, network_a, practice_a, time_machine
):
    day = dt.date(2026, 3, 10)
    time_machine.move_to(dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC), tick=False)
    meeting, items = _meeting(navigator, network_a, practice_a, count=3, date=day)
    services.meeting_start(by=chair, meeting=meeting)

    def screen_at(hour, minute):
        time_machine.move_to(dt.datetime(2026, 3, 10, hour, minute, tzinfo=dt.UTC), tick=False)
        _log_in(client, chair)  # a fresh session: the idle timeout is shorter than the wait
        return client.get(_run(meeting, items[0])).content.decode()

    on_time, late = screen_at(9, 30), screen_at(10, 30)

    # Three items share 09:00 to 11:00: the first slot ends at 09:40.
    assert "09:30" in on_time and "This slot runs until 09:40" in on_time
    assert "10:30" in late and "50 minutes over" in late


# --- publishing -------------------------------------------------------------------


def test_publishing_an_agenda_changed_since_it_was_read_is_refused(navigator, agenda):
    meeting, _items = agenda
    seen = meeting.revision
    services.agenda_item_add(
        by=navigator,
        meeting=meeting,
        patient=PatientFactory(practice=_items[0].patient.practice),
        reason="urgent",
    )

    with pytest.raises(ValidationError, match="Someone else changed this agenda"):
        services.agenda_publish(by=navigator, meeting=meeting, expected_revision=seen)
    meeting.refresh_from_db()
    assert meeting.agenda_published_at is None
    services.agenda_publish(by=navigator, meeting=meeting, expected_revision=meeting.revision)


@pytest.mark.parametrize("count", [3, 12])
def test_the_minutes_cost_the_same_however_many_people_and_corrections(
    client, chair, navigator, network_a, practice_a, count, django_assert_num_queries
):
    meeting, items = _meeting(navigator, network_a, practice_a, count=count)
    services.meeting_start(by=chair, meeting=meeting)
    for item in items[:-1]:
        services.discussion_save(by=chair, item=item, outcome="continue")
        services.action_add(
            by=chair, item=item, what="Call", due_on=TODAY + dt.timedelta(days=7), owner=navigator
        )
    services.meeting_close(by=chair, meeting=meeting)
    for item in items[:-1]:
        services.discussion_amend(
            by=chair, discussion=item.discussion, reason="Typo", summary="Corrected"
        )
    _log_in(client, chair)
    url = reverse("meetings:meeting_minutes", args=[meeting.pk])
    client.get(url)  # warm the session

    with django_assert_num_queries(MINUTES_QUERIES):
        page = client.get(url).content.decode()
    assert page.count("Corrected on") == count - 1


# Session and log-in checks, memberships, access event (two inserts), the
# meeting, its agenda with outcomes (one query), actions, corrections,
# attendance, the session save ("Correct this outcome" reads the role from
# the memberships already read).
MINUTES_QUERIES = 15


def test_save_and_add_actions_stays_on_the_person(client, chair, agenda):
    meeting, (first, second, _third) = agenda
    services.meeting_start(by=chair, meeting=meeting)
    _log_in(client, chair)

    stay = client.post(
        _run(meeting, first), {"form": "outcome", "outcome": "continue", "then": "stay"}
    )
    onward = client.post(
        _run(meeting, first), {"form": "outcome", "outcome": "continue", "revision": 1}
    )

    assert stay["Location"] == _run(meeting, first)
    assert onward["Location"] == _run(meeting, second)
    page = client.get(_run(meeting, second)).content.decode()
    assert "Previous patient" in page and "Next patient" in page


# --- the navigator and the chair both have the meeting open ---------------------------


def test_a_stale_outcome_is_refused_with_what_is_saved_now(chair, admin_user, agenda):
    meeting, (first, *_rest) = agenda
    services.meeting_start(by=chair, meeting=meeting)
    seen = services.discussion_save(by=chair, item=first, outcome="continue", summary="Well")
    services.discussion_save(
        by=chair, item=first, outcome="relist", summary="Well", expected_revision=seen.revision
    )

    with pytest.raises(ValidationError, match="Saved now: outcome Re-list at next MDT") as stale:
        services.discussion_save(
            by=chair, item=first, outcome="discharge", summary="Well", expected_revision=1
        )
    # Sending what is saved already is no conflict.
    same = services.discussion_save(
        by=chair, item=first, outcome="relist", summary="Well", expected_revision=1
    )

    assert stale.value.code == "stale"
    assert same.outcome == "relist"


def test_the_page_shows_the_stale_outcome_and_a_second_save_replaces_it(client, chair, agenda):
    meeting, (first, *_rest) = agenda
    services.meeting_start(by=chair, meeting=meeting)
    services.discussion_save(by=chair, item=first, outcome="continue")
    services.discussion_save(by=chair, item=first, outcome="relist", expected_revision=1)
    _log_in(client, chair)
    mine = {"form": "outcome", "outcome": "discharge", "summary": "Moved away", "revision": 1}

    refused = client.post(_run(meeting, first), mine)
    page = refused.content.decode()
    again = client.post(_run(meeting, first), {**mine, "revision": 2})

    assert refused.status_code == 400
    assert "Saved now: outcome Re-list at next MDT; summary blank" in page
    assert 'name="revision" value="2"' in page
    assert again.status_code == 302
    assert Discussion.objects.get(item=first).outcome == "discharge"
