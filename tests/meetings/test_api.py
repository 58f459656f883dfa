"""The meetings and actions API: meetings of the user's networks with their
agenda (time slots, people, outcomes and their actions' ids) and
attendance nested, in the list as in the detail; actions with ``overdue``
derived; filters validated (400 naming the field); the outsider sees an
empty list and 404; every read is one access event naming the people
shown; the query count stays the same however many rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from mdtcare.accounts.models import Membership, Organisation
from mdtcare.audit.models import AccessEvent
from meetings import services
from meetings.models import Action, Meeting
from meetings.selectors import actions_with_overdue
from patients.models import RegisterEntry
from tests.factories import MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
UNKNOWN = "8a7b4f4e-0000-4000-8000-000000000000"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def member(network_a):
    """An MDT member with no other role in network A."""
    user = UserFactory(username="member")
    MembershipFactory(user=user, network=network_a, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def team(db):
    return Organisation.objects.create(
        name="Leeds Community Therapy", type=Organisation.Type.COMMUNITY_TRUST
    )


def schedule(navigator, network, *, days=1, starts=9, ends=11) -> Meeting:
    return services.meeting_schedule(
        by=navigator,
        network=network,
        date=TODAY + dt.timedelta(days=days),
        starts_at=dt.time(starts),
        ends_at=dt.time(ends),
        venue="Riverside Medical Centre",
    ).meetings[0]


def put_on_agenda(navigator, meeting, practice, count, *, reason="review_due"):
    return [
        services.agenda_item_add(
            by=navigator,
            meeting=meeting,
            patient=PatientFactory(practice=practice),
            reason=reason,
        )
        for _ in range(count)
    ]


def run(chair, matron, meeting, items):
    """Start the meeting and record an outcome with one action for every item."""
    services.meeting_start(by=chair, meeting=meeting)
    services.attendance_record(by=chair, meeting=meeting, user=matron)
    for item in items:
        item.meeting.refresh_from_db()
        services.discussion_save(by=chair, item=item, outcome="continue", summary="Stable")
        services.action_add(
            by=chair,
            item=item,
            what="Review medicines",
            due_on=TODAY + dt.timedelta(days=7),
            owner=matron,
        )


def action(patient, *, due_on, status=Action.Status.OPEN, owner=None, **fields) -> Action:
    return Action.objects.create(
        patient=patient,
        what="Phone the family",
        due_on=due_on,
        status=status,
        owner=owner,
        **fields,
    )


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def _patients_of(event) -> set:
    return set(event.patients.values_list("patient_id", flat=True))


# --- meetings: what a meeting reads as ------------------------------------------------------


def test_a_meeting_reads_with_its_agenda_slots_outcomes_actions_and_attendance(
    api, navigator, chair, matron, network_a, practice_a, team
):
    meeting = schedule(navigator, network_a)
    first, second, third = put_on_agenda(navigator, meeting, practice_a, 3)
    RegisterEntry.objects.create(
        patient=first.patient,
        status="active",
        source="gp_practice",
        referrer_name="Dr",
        reason="x",
        referred_on=TODAY,
    )
    services.meeting_start(by=chair, meeting=meeting)
    first.meeting.refresh_from_db()
    discussion = services.discussion_save(
        by=chair,
        item=first,
        outcome="continue",
        summary="Falls reduced since the grab rails",
        decisions="Continue the plan",
        next_review_on=TODAY + dt.timedelta(days=42),
        primary_need="frailty",
        clinical_lead=matron,
    )
    later = services.action_add(
        by=chair,
        item=first,
        what="Home visit",
        due_on=TODAY + dt.timedelta(days=14),
        owner=matron,
    ).action
    sooner = services.action_add(
        by=chair,
        item=first,
        what="Refer to OT",
        due_on=TODAY + dt.timedelta(days=3),
        owner_organisation=team,
    ).action
    services.attendance_record(
        by=chair, meeting=meeting, user=matron, name="Ada Matron", profession="Community matron"
    )
    services.attendance_record(
        by=chair,
        meeting=meeting,
        name="Ann Guest",
        profession="Social worker",
        organisation="Leeds City Council",
        status="apologies",
    )
    api.force_authenticate(matron)

    body = api.get(reverse("meeting-detail", args=[meeting.pk])).json()

    meeting.refresh_from_db()
    assert {key: body[key] for key in body if key not in ("agenda", "attendance")} == {
        "id": str(meeting.pk),
        "network": {"id": str(network_a.pk), "name": "North"},
        "date": meeting.date.isoformat(),
        "starts_at": "09:00:00",
        "ends_at": "11:00:00",
        "format": "face_to_face",
        "venue": "Riverside Medical Centre",
        "dial_in": "",
        "chair": {"id": str(chair.pk), "name": chair.get_full_name()},
        "status": "in_progress",
        "cancel_reason": "",
        "agenda_published_at": None,
        "started_at": body["started_at"],
        "closed_at": None,
        "revision": meeting.revision,
    }
    assert body["started_at"] is not None
    # Two hours shared by three people, as the meeting page shows them.
    assert [(i["position"], i["starts_at"], i["ends_at"]) for i in body["agenda"]] == [
        (1, "09:00:00", "09:40:00"),
        (2, "09:40:00", "10:20:00"),
        (3, "10:20:00", "11:00:00"),
    ]
    assert [i["id"] for i in body["agenda"]] == [str(x.pk) for x in (first, second, third)]
    assert body["agenda"][0]["patient"] == {
        "id": str(first.patient.pk),
        "nhs_number": first.patient.nhs_number,
        "given_name": first.patient.given_name,
        "family_name": first.patient.family_name,
    }
    assert (body["agenda"][0]["reason"], body["agenda"][0]["not_reached"]) == ("review_due", False)
    assert body["agenda"][0]["outcome"] == {
        "id": str(discussion.pk),
        "outcome": "continue",
        "summary": "Falls reduced since the grab rails",
        "decisions": "Continue the plan",
        "primary_need": "frailty",
        "clinical_lead": str(matron.pk),
        "next_review_on": (TODAY + dt.timedelta(days=42)).isoformat(),
        "ratified_plan": None,
        "recorded_by": str(chair.pk),
        "revision": 1,
        # Soonest due first.
        "actions": [str(sooner.pk), str(later.pk)],
    }
    assert body["agenda"][1]["outcome"] is None
    assert body["agenda"][2]["outcome"] is None
    # By name.
    assert body["attendance"] == [
        {
            "name": "Ada Matron",
            "profession": "Community matron",
            "organisation": "",
            "status": "present",
        },
        {
            "name": "Ann Guest",
            "profession": "Social worker",
            "organisation": "Leeds City Council",
            "status": "apologies",
        },
    ]
    # The list shows each meeting exactly as the detail does.
    assert api.get(reverse("meeting-list")).json()["results"] == [body]


def test_a_closed_meeting_shows_the_items_not_reached(api, navigator, chair, network_a, practice_a):
    meeting = schedule(navigator, network_a)
    reached, _skipped = put_on_agenda(navigator, meeting, practice_a, 2)
    services.meeting_start(by=chair, meeting=meeting)
    reached.meeting.refresh_from_db()
    services.discussion_save(by=chair, item=reached, outcome="discharge")
    services.meeting_close(by=chair, meeting=meeting)
    api.force_authenticate(chair)

    body = api.get(reverse("meeting-detail", args=[meeting.pk])).json()

    assert body["status"] == "closed"
    assert body["closed_at"] is not None
    assert [(i["not_reached"], bool(i["outcome"])) for i in body["agenda"]] == [
        (False, True),
        (True, False),
    ]


def test_a_meeting_with_no_agenda_has_an_empty_one(api, navigator, network_a):
    meeting = schedule(navigator, network_a)
    api.force_authenticate(navigator)

    body = api.get(reverse("meeting-detail", args=[meeting.pk])).json()

    assert (body["agenda"], body["attendance"], body["chair"]) == ([], [], None)


@pytest.mark.parametrize("persona", ["matron", "chair", "navigator", "admin_user", "member"])
def test_every_member_of_the_network_reads_its_meetings(
    api, request, navigator, network_a, practice_a, persona
):
    meeting = schedule(navigator, network_a)
    put_on_agenda(navigator, meeting, practice_a, 2)
    api.force_authenticate(request.getfixturevalue(persona))

    listed = api.get(reverse("meeting-list"))
    read = api.get(reverse("meeting-detail", args=[meeting.pk]))

    assert ids(listed) == [str(meeting.pk)]
    assert read.status_code == 200
    assert len(read.json()["agenda"]) == 2


# --- meetings: the gate -----------------------------------------------------------------------


def test_the_outsider_sees_no_north_meeting_and_gets_404(
    api, navigator, outsider, network_a, network_b, practice_a
):
    north = schedule(navigator, network_a)
    put_on_agenda(navigator, north, practice_a, 2)
    south = Meeting.objects.create(
        network=network_b, date=TODAY, starts_at=dt.time(14), ends_at=dt.time(15)
    )
    api.force_authenticate(outsider)

    listed = api.get(reverse("meeting-list"))
    filtered = api.get(reverse("meeting-list"), {"network": str(network_a.pk)})
    read = api.get(reverse("meeting-detail", args=[north.pk]))

    assert ids(listed) == [str(south.pk)]
    assert ids(filtered) == []
    assert read.status_code == 404
    assert list(read.json()) == ["detail"]
    # The lists name no North person; the 404 writes no event.
    assert list(AccessEvent.objects.values_list("what", flat=True)) == [
        "api.meetings.list",
        "api.meetings.list",
    ]
    assert not any(_patients_of(event) for event in AccessEvent.objects.all())


def test_an_unknown_or_malformed_meeting_id_is_404(api, matron):
    api.force_authenticate(matron)

    assert api.get(reverse("meeting-detail", args=[UNKNOWN])).status_code == 404
    assert api.get("/api/v1/meetings/not-a-uuid/").status_code == 404


@pytest.mark.parametrize(
    ("name", "with_id"),
    [
        ("meeting-list", False),
        ("meeting-detail", True),
        ("action-list", False),
        ("action-detail", True),
    ],
)
def test_anonymous_requests_are_refused(api, navigator, network_a, practice_a, name, with_id):
    meeting = schedule(navigator, network_a)
    patient = PatientFactory(practice=practice_a)
    target = meeting.pk if name.startswith("meeting") else action(patient, due_on=TODAY).pk

    response = api.get(reverse(name, args=[target] if with_id else []))

    assert response.status_code in (401, 403)
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_meetings_and_actions_are_read_only(api, chair, navigator, network_a, practice_a, method):
    meeting = schedule(navigator, network_a)
    done = action(PatientFactory(practice=practice_a), due_on=TODAY)
    api.force_authenticate(chair)

    urls = [
        reverse("meeting-detail", args=[meeting.pk]),
        reverse("action-detail", args=[done.pk]),
    ]
    if method == "post":
        urls = [reverse("meeting-list"), reverse("action-list")]

    for url in urls:
        assert getattr(api, method)(url, {"status": "done"}, format="json").status_code == 405
    assert Action.objects.get().status == "open"


# --- meetings: filters ------------------------------------------------------------------------


@pytest.fixture
def several_meetings(navigator, chair, network_a, network_b):
    soon = schedule(navigator, network_a, days=1)
    later = schedule(navigator, network_a, days=8)
    services.meeting_cancel(by=navigator, meeting=later, reason="Bank holiday")
    past = Meeting.objects.create(
        network=network_a,
        date=TODAY - dt.timedelta(days=7),
        starts_at=dt.time(9),
        ends_at=dt.time(10),
        status=Meeting.Status.CLOSED,
        closed_at=timezone.now(),
    )
    # A second network of the chair's, to filter by.
    MembershipFactory(user=chair, network=network_b, role=Membership.Role.GP_CHAIR)
    south = Meeting.objects.create(
        network=network_b,
        date=TODAY + dt.timedelta(days=2),
        starts_at=dt.time(9),
        ends_at=dt.time(10),
    )
    return past, soon, south, later


def test_meetings_are_listed_by_date_and_filtered_by_network_status_and_dates(
    api, chair, network_a, network_b, several_meetings
):
    past, soon, south, later = several_meetings
    api.force_authenticate(chair)

    def listed(**query):
        return ids(api.get(reverse("meeting-list"), query))

    assert listed() == [str(m.pk) for m in (past, soon, south, later)]
    assert listed(network=str(network_a.pk)) == [str(m.pk) for m in (past, soon, later)]
    assert listed(network=str(network_b.pk)) == [str(south.pk)]
    assert listed(network=UNKNOWN) == []
    assert listed(status="cancelled") == [str(later.pk)]
    assert listed(status="closed", network=str(network_a.pk)) == [str(past.pk)]
    assert listed(date_from=TODAY.isoformat()) == [str(m.pk) for m in (soon, south, later)]
    assert listed(date_to=TODAY.isoformat()) == [str(past.pk)]
    assert listed(
        date_from=(TODAY + dt.timedelta(days=1)).isoformat(),
        date_to=(TODAY + dt.timedelta(days=2)).isoformat(),
    ) == [str(soon.pk), str(south.pk)]
    cancelled = api.get(reverse("meeting-list"), {"status": "cancelled"}).json()["results"][0]
    assert cancelled["cancel_reason"] == "Bank holiday"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"network": "north"}, "network"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "date_to"),
    ],
)
def test_a_bad_meeting_filter_is_a_400_naming_the_field(api, matron, query, field):
    api.force_authenticate(matron)

    response = api.get(reverse("meeting-list"), query)

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list) and body[field][0]
    assert not AccessEvent.objects.exists()


# --- meetings: the audit and the query count --------------------------------------------------


def test_every_meeting_read_is_one_access_event_naming_the_people_shown(
    api, navigator, matron, network_a, practice_a
):
    first = schedule(navigator, network_a, days=1)
    second = schedule(navigator, network_a, days=8)
    on_first = put_on_agenda(navigator, first, practice_a, 2)
    on_second = put_on_agenda(navigator, second, practice_a, 1)
    api.force_authenticate(matron)

    api.get(reverse("meeting-list"))
    api.get(reverse("meeting-detail", args=[second.pk]))
    api.get(reverse("meeting-list"), {"date_from": "2000-01-01"})

    events = list(AccessEvent.objects.order_by("at", "id"))
    assert [event.what for event in events] == [
        "api.meetings.list",
        "api.meetings.read",
        "api.meetings.list",
    ]
    everyone = {item.patient_id for item in [*on_first, *on_second]}
    assert _patients_of(events[0]) == everyone
    assert _patients_of(events[1]) == {on_second[0].patient_id}
    assert _patients_of(events[2]) == everyone
    assert events[0].reason == "member of North as Community matron"
    assert events[0].user == matron


@pytest.mark.parametrize(("meetings", "items"), [(1, 3), (5, 4)])
def test_the_meeting_list_query_count_is_pinned(
    api,
    navigator,
    chair,
    matron,
    network_a,
    practice_a,
    meetings,
    items,
    django_assert_num_queries,
):
    for day in range(1, meetings + 1):
        meeting = schedule(navigator, network_a, days=day)
        run(chair, matron, meeting, put_on_agenda(navigator, meeting, practice_a, items))
    api.force_authenticate(navigator)

    # count, page (with network and chair), agenda (with people and
    # outcomes), the outcomes' actions, attendance, memberships, access
    # event + patients (4)
    with django_assert_num_queries(10):
        response = api.get(reverse("meeting-list"))

    results = response.json()["results"]
    assert len(results) == meetings
    assert all(len(m["agenda"]) == items for m in results)
    assert all(len(i["outcome"]["actions"]) == 1 for m in results for i in m["agenda"])


@pytest.mark.parametrize("items", [2, 30])
def test_the_meeting_detail_query_count_is_pinned(
    api, navigator, chair, matron, network_a, practice_a, items, django_assert_num_queries
):
    meeting = schedule(navigator, network_a, starts=9, ends=17)
    run(chair, matron, meeting, put_on_agenda(navigator, meeting, practice_a, items))
    api.force_authenticate(navigator)

    # the meeting (with network and chair), agenda (with people and
    # outcomes), the outcomes' actions, attendance, memberships, access
    # event + patients (4)
    with django_assert_num_queries(9):
        response = api.get(reverse("meeting-detail", args=[meeting.pk]))

    assert len(response.json()["agenda"]) == items
    assert response.json()["agenda"][-1]["ends_at"] == "17:00:00"


# --- actions ----------------------------------------------------------------------------------


def test_an_action_agreed_at_the_mdt_reads_with_its_discussion_and_meeting(
    api, navigator, chair, matron, network_a, practice_a
):
    meeting = schedule(navigator, network_a)
    (item,) = put_on_agenda(navigator, meeting, practice_a, 1)
    run(chair, matron, meeting, [item])
    agreed = Action.objects.get()
    api.force_authenticate(matron)

    body = api.get(reverse("action-detail", args=[agreed.pk])).json()

    assert body == {
        "id": str(agreed.pk),
        "patient": {
            "id": str(item.patient.pk),
            "nhs_number": item.patient.nhs_number,
            "given_name": item.patient.given_name,
            "family_name": item.patient.family_name,
        },
        "what": "Review medicines",
        "owner": {"id": str(matron.pk), "name": matron.get_full_name()},
        "owner_organisation": None,
        "due_on": (TODAY + dt.timedelta(days=7)).isoformat(),
        "priority": "routine",
        "status": "open",
        "source": "discussion",
        "discussion": str(agreed.discussion_id),
        "meeting": str(meeting.pk),
        "plan": None,
        "completion_note": "",
        "completed_at": None,
        "overdue": False,
        "updated_at": agreed.updated_at.isoformat().replace("+00:00", "Z"),
    }
    assert api.get(reverse("action-list")).json()["results"] == [body]


def test_an_action_owned_by_an_organisation_names_it(api, matron, practice_a, team):
    owned = action(PatientFactory(practice=practice_a), due_on=TODAY, owner_organisation=team)
    api.force_authenticate(matron)

    body = api.get(reverse("action-detail", args=[owned.pk])).json()

    assert body["owner"] is None
    assert body["owner_organisation"] == {"id": str(team.pk), "name": team.name}
    assert (body["discussion"], body["meeting"], body["source"]) == (None, None, "other")


@pytest.fixture
def frozen(time_machine):
    """Half past midnight on 1 July in London (BST), still 30 June in UTC."""
    time_machine.move_to(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False)
    return dt.date(2026, 7, 1)


def test_overdue_is_due_before_today_in_london_and_not_done_or_cancelled(
    api, matron, practice_a, frozen
):
    patient = PatientFactory(practice=practice_a)
    yesterday = frozen - dt.timedelta(days=1)
    cases = {
        "open, due yesterday": action(patient, due_on=yesterday),
        "in progress, due yesterday": action(
            patient, due_on=yesterday, status="in_progress", owner=matron
        ),
        "done, due yesterday": action(patient, due_on=yesterday, status="done", owner=matron),
        "cancelled, due yesterday": action(patient, due_on=yesterday, status="cancelled"),
        "open, due today": action(patient, due_on=frozen),
        "open, due tomorrow": action(patient, due_on=frozen + dt.timedelta(days=1)),
    }
    api.force_authenticate(matron)

    rows = api.get(reverse("action-list")).json()["results"]

    overdue = {row["id"]: row["overdue"] for row in rows}
    assert {name: overdue[str(a.pk)] for name, a in cases.items()} == {
        "open, due yesterday": True,
        "in progress, due yesterday": True,
        "done, due yesterday": False,
        "cancelled, due yesterday": False,
        "open, due today": False,
        "open, due tomorrow": False,
    }
    # Due on 30 June is overdue in London although it is still 30 June in UTC.
    assert timezone.now().date() == yesterday
    assert api.get(reverse("action-detail", args=[cases["open, due yesterday"].pk])).json()[
        "overdue"
    ]


def test_the_overdue_rule_takes_the_date_it_is_asked_about(practice_a):
    due = action(PatientFactory(practice=practice_a), due_on=dt.date(2026, 3, 10))
    rows = Action.objects.filter(pk=due.pk)

    assert not actions_with_overdue(rows, today=dt.date(2026, 3, 10)).get().overdue
    assert actions_with_overdue(rows, today=dt.date(2026, 3, 11)).get().overdue


def test_actions_are_listed_by_due_date_and_filtered(api, matron, chair, practice_a, frozen):
    mary, john = PatientFactory.create_batch(2, practice=practice_a)
    late_mine = action(mary, due_on=frozen - dt.timedelta(days=3), owner=matron)
    next_week = action(mary, due_on=frozen + dt.timedelta(days=7), owner=chair)
    today_mine = action(john, due_on=frozen, owner=matron, status="in_progress")
    late_done = action(john, due_on=frozen - dt.timedelta(days=9), owner=matron, status="done")
    api.force_authenticate(matron)

    def listed(**query):
        return ids(api.get(reverse("action-list"), query))

    assert listed() == [str(a.pk) for a in (late_done, late_mine, today_mine, next_week)]
    assert listed(owner="me") == [str(a.pk) for a in (late_done, late_mine, today_mine)]
    assert listed(owner=str(chair.pk)) == [str(next_week.pk)]
    assert listed(owner=UNKNOWN) == []
    assert listed(status="in_progress") == [str(today_mine.pk)]
    assert listed(patient=str(mary.pk)) == [str(late_mine.pk), str(next_week.pk)]
    assert listed(patient=UNKNOWN) == []
    assert listed(overdue="true") == [str(late_mine.pk)]
    assert listed(overdue="false") == [str(a.pk) for a in (late_done, today_mine, next_week)]
    assert listed(owner="me", overdue="true", patient=str(mary.pk)) == [str(late_mine.pk)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "finished"}, "status"),
        ({"owner": "someone"}, "owner"),
        ({"patient": "12"}, "patient"),
        ({"overdue": "maybe"}, "overdue"),
    ],
)
def test_a_bad_action_filter_is_a_400_naming_the_field(api, matron, query, field):
    api.force_authenticate(matron)

    response = api.get(reverse("action-list"), query)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not AccessEvent.objects.exists()


def test_the_outsider_sees_no_north_action_and_gets_404(api, outsider, practice_a, practice_b):
    north = action(PatientFactory(practice=practice_a), due_on=TODAY)
    south = action(PatientFactory(practice=practice_b), due_on=TODAY)
    api.force_authenticate(outsider)

    listed = api.get(reverse("action-list"))
    by_patient = api.get(reverse("action-list"), {"patient": str(north.patient_id)})
    read = api.get(reverse("action-detail", args=[north.pk]))

    assert ids(listed) == [str(south.pk)]
    assert ids(by_patient) == []
    assert read.status_code == 404
    assert api.get("/api/v1/actions/not-a-uuid/").status_code == 404
    assert not AccessEvent.objects.filter(patients__patient_id=north.patient_id).exists()


def test_every_action_read_is_one_access_event_naming_the_people_shown(api, navigator, practice_a):
    mary, john = PatientFactory.create_batch(2, practice=practice_a)
    first = action(mary, due_on=TODAY)
    action(john, due_on=TODAY)
    action(john, due_on=TODAY + dt.timedelta(days=1))
    api.force_authenticate(navigator)

    api.get(reverse("action-list"))
    api.get(reverse("action-detail", args=[first.pk]))
    api.get(reverse("action-list"), {"patient": str(john.pk)})

    events = list(AccessEvent.objects.order_by("at", "id"))
    assert [event.what for event in events] == [
        "api.actions.list",
        "api.actions.read",
        "api.actions.list",
    ]
    assert _patients_of(events[0]) == {mary.pk, john.pk}
    assert _patients_of(events[1]) == {mary.pk}
    assert _patients_of(events[2]) == {john.pk}
    assert events[1].reason == "member of North as Care navigator"


@pytest.mark.parametrize("rows", [1, 30])
def test_the_action_list_query_count_is_pinned(
    api, navigator, matron, practice_a, team, rows, django_assert_num_queries
):
    for n, patient in enumerate(PatientFactory.create_batch(rows, practice=practice_a)):
        action(patient, due_on=TODAY + dt.timedelta(days=n), owner=matron)
        action(patient, due_on=TODAY - dt.timedelta(days=n), owner_organisation=team)
    api.force_authenticate(navigator)

    # count, page (with people, practices, owners, organisations, overdue
    # and meeting), memberships, access event + patients (4)
    with django_assert_num_queries(7):
        response = api.get(reverse("action-list"))

    assert len(response.json()["results"]) == min(2 * rows, 25)


def test_the_action_detail_query_count_is_pinned(
    api, navigator, chair, matron, network_a, practice_a, django_assert_num_queries
):
    meeting = schedule(navigator, network_a)
    run(chair, matron, meeting, put_on_agenda(navigator, meeting, practice_a, 1))
    agreed = Action.objects.get()
    api.force_authenticate(navigator)

    # the action (with its person, practice, owners, overdue and meeting),
    # memberships, access event + patients (4)
    with django_assert_num_queries(6):
        response = api.get(reverse("action-detail", args=[agreed.pk]))

    assert response.json()["meeting"] == str(meeting.pk)


# --- the schema -------------------------------------------------------------------------------


def test_the_schema_documents_meetings_and_actions(api, matron):
    api.force_authenticate(matron)

    schema = api.get(reverse("api-schema"), {"format": "json"}).json()

    assert {"/api/v1/meetings/", "/api/v1/meetings/{id}/", "/api/v1/actions/"} <= set(
        schema["paths"]
    )
    components = schema["components"]["schemas"]
    assert components["ActionStatusEnum"]["enum"] == ["open", "in_progress", "done", "cancelled"]
    # The register's referral source keeps its name beside the action's.
    assert {"SourceEnum", "ActionSourceEnum", "MeetingStatusEnum"} <= set(components)
    parameters = {p["name"] for p in schema["paths"]["/api/v1/meetings/"]["get"]["parameters"]}
    assert {"network", "status", "date_from", "date_to"} <= parameters
