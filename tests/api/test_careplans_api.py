"""The care plans API: a plan started from the assessment, its contents,
goals and care team changed against a revision, proposed, ratified by a GP
chair, shared and copied forward, all through ``careplans.plans``; a
ratified or shared version changes through no endpoint; the outsider gets
404 everywhere, and every read and write is one access event."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from careplans import plans
from careplans.models import Assessment, CarePlan, CarePlanGoal, CareTeamMember
from mdtcare.accounts.models import Membership, Organisation
from mdtcare.audit.models import AccessEvent
from patients.models import RegisterEntry
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.factories_register import RegisterEntryFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
STATEMENTS = [
    "I want to stay in my own home",
    "I want to get to church on Sundays",
    "I don't want to keep going back into hospital",
]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def episode(practice_a, matron, navigator):
    patient = PatientFactory(practice=practice_a, given_name="Mary", family_name="Okafor")
    return RegisterEntryFactory(
        patient=patient,
        status=RegisterEntry.Status.ACTIVE,
        clinical_lead=matron,
        navigator=navigator,
        primary_need=RegisterEntry.PrimaryNeed.FRAILTY,
    )


@pytest.fixture
def patient(episode):
    return episode.patient


@pytest.fixture
def assessment(patient, matron):
    return Assessment.objects.create(
        patient=patient,
        kind=Assessment.Kind.INITIAL,
        assessor=matron,
        assessed_on=TODAY - dt.timedelta(days=2),
        status=Assessment.Status.COMPLETED,
        signed_by=matron,
        signed_at=timezone.now(),
        answers={"what_matters": {"i_statements": STATEMENTS}},
    )


@pytest.fixture
def member(network_a):
    """An MDT member with no other role in network A."""
    user = UserFactory(username="member")
    MembershipFactory(user=user, network=network_a, role=Membership.Role.MEMBER)
    return user


def draft_plan(matron, patient, *, goals=("I want to stay in my own home",)):
    plan = plans.plan_create(by=matron, patient=patient)
    for words in goals:
        plans.goal_save(
            by=matron,
            plan=plan,
            expected_revision=plan.revision,
            what_matters=words,
            support_agreed="Home assessment and grab rails",
            provider_name="Community occupational therapy",
            target_on=TODAY + dt.timedelta(days=21),
        )
    return CarePlan.objects.get(pk=plan.pk)


def ratified_plan(matron, chair, patient):
    return plans.plan_ratify(
        by=chair, plan=plans.plan_propose(by=matron, plan=draft_plan(matron, patient))
    )


def shared_plan(matron, chair, patient):
    return plans.plan_share(
        by=matron, plan=ratified_plan(matron, chair, patient), shared_on=TODAY, how="in_person"
    )


def _url(name, plan, *args):
    return reverse(f"careplan-{name}", args=[plan.pk, *args])


def _events() -> list[str]:
    return list(AccessEvent.objects.order_by("at", "id").values_list("what", flat=True))


# --- starting a plan ----------------------------------------------------------------------


def test_a_plan_is_started_from_the_episode_and_the_assessment_and_reads_back(
    api, matron, navigator, patient, assessment
):
    api.force_authenticate(matron)

    created = api.post(reverse("careplan-list"), {"patient": str(patient.pk)}, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    plan = CarePlan.objects.get()
    assert body["id"] == str(plan.pk)
    assert (body["patient"], body["entry"], body["from_assessment"]) == (
        str(patient.pk),
        str(plan.entry_id),
        str(assessment.pk),
    )
    assert (body["status"], body["number"], body["revision"]) == ("draft", 1, 1)
    assert (body["primary_need"], body["clinical_lead"], body["navigator"]) == (
        "frailty",
        str(matron.pk),
        str(navigator.pk),
    )
    assert body["next_review_on"] == (TODAY + dt.timedelta(weeks=6)).isoformat()
    assert body["review_state"] == ""
    assert body["warnings"] == []
    assert [goal["what_matters"] for goal in body["goals"]] == STATEMENTS
    assert body["goals"][0]["progress"] == "not_started"
    assert {(m["role_in_plan"], m["display"]) for m in body["care_team"]} == {
        ("Clinical lead", matron.get_full_name()),
        ("Care navigator", navigator.get_full_name()),
    }
    read = api.get(reverse("careplan-detail", args=[plan.pk])).json()
    assert {key: read[key] for key in ("id", "goals", "care_team", "revision")} == {
        key: body[key] for key in ("id", "goals", "care_team", "revision")
    }


def test_a_chosen_assessment_must_be_a_signed_one_of_this_person(
    api, matron, patient, assessment, practice_a
):
    someone_else = Assessment.objects.create(
        patient=PatientFactory(practice=practice_a),
        kind="initial",
        assessor=matron,
        assessed_on=TODAY,
    )
    api.force_authenticate(matron)

    response = api.post(
        reverse("careplan-list"),
        {"patient": str(patient.pk), "from_assessment": str(someone_else.pk)},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": ["Choose a signed assessment of this person."]}
    assert not CarePlan.objects.exists()


def test_a_second_plan_for_the_episode_or_one_without_an_episode_is_refused(
    api, matron, patient, practice_a
):
    draft_plan(matron, patient)
    api.force_authenticate(matron)

    again = api.post(reverse("careplan-list"), {"patient": str(patient.pk)}, format="json")
    never_referred = api.post(
        reverse("careplan-list"),
        {"patient": str(PatientFactory(practice=practice_a).pk)},
        format="json",
    )

    assert again.status_code == 400
    assert "has a care plan already" in again.json()["detail"][0]
    assert never_referred.status_code == 400
    assert "no open episode" in never_referred.json()["detail"][0]
    assert CarePlan.objects.count() == 1


def test_a_navigator_who_is_not_the_clinical_lead_may_not_start_a_plan(api, navigator, patient):
    api.force_authenticate(navigator)

    response = api.post(reverse("careplan-list"), {"patient": str(patient.pk)}, format="json")

    assert response.status_code == 403
    assert (
        "written by community matrons, GP chairs and the clinical lead"
        in (response.json()["detail"])
    )
    assert not CarePlan.objects.exists()


# --- changing a draft -----------------------------------------------------------------------


def test_the_contents_of_a_draft_are_changed_against_its_revision(api, matron, chair, patient):
    plan = draft_plan(matron, patient)
    api.force_authenticate(matron)

    response = api.patch(
        _url("detail", plan),
        {
            "revision": plan.revision,
            "contingency": "Rescue pack, then the rapid-response team, then 111",
            "self_management": "Inhalers as shown",
            "clinical_lead": str(chair.pk),
            "review_interval_weeks": 4,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["revision"] == plan.revision + 1
    assert body["contingency"] == "Rescue pack, then the rapid-response team, then 111"
    assert body["self_management"] == "Inhalers as shown"
    assert body["clinical_lead"] == str(chair.pk)
    # The interval moves the next review, counted from the start.
    assert body["next_review_on"] == (plan.starts_on + dt.timedelta(weeks=4)).isoformat()
    stored = CarePlan.objects.get()
    assert (stored.revision, stored.clinical_lead, stored.review_interval_weeks) == (
        plan.revision + 1,
        chair,
        4,
    )


def test_a_change_needs_a_revision_and_valid_values(api, matron, patient, outsider):
    plan = draft_plan(matron, patient)
    api.force_authenticate(matron)

    no_revision = api.patch(_url("detail", plan), {"contingency": "x"}, format="json")
    bad = api.patch(
        _url("detail", plan),
        {
            "revision": plan.revision,
            "review_interval_weeks": 5,
            "navigator": str(outsider.pk),  # not a member of this network
            "next_review_on": "soon",
        },
        format="json",
    )
    before_start = api.patch(
        _url("detail", plan),
        {
            "revision": plan.revision,
            "next_review_on": (plan.starts_on - dt.timedelta(days=1)).isoformat(),
        },
        format="json",
    )

    assert no_revision.status_code == 400
    assert list(no_revision.json()) == ["revision"]
    assert bad.status_code == 400
    assert set(bad.json()) == {"review_interval_weeks", "navigator", "next_review_on"}
    assert before_start.status_code == 400
    assert before_start.json() == {
        "next_review_on": ["The review date must be on or after the plan's start"]
    }
    assert CarePlan.objects.get().revision == plan.revision


# --- goals and the care team ----------------------------------------------------------------


def test_goals_are_added_changed_and_removed_each_against_the_revision(
    api, matron, patient, network_a
):
    plan = draft_plan(matron, patient, goals=())
    ot = UserFactory(username="ot", first_name="Olu", last_name="Tade")
    MembershipFactory(user=ot, network=network_a)
    api.force_authenticate(matron)

    added = api.post(
        _url("goals", plan),
        {
            "revision": plan.revision,
            "what_matters": "  I want to stay in my own home ",
            "support_agreed": "Home assessment and grab rails",
            "provider": str(ot.pk),
            "target_on": (TODAY + dt.timedelta(days=20)).isoformat(),
        },
        format="json",
    )
    goal = CarePlanGoal.objects.get()
    changed = api.patch(
        _url("goal", plan, goal.pk),
        {"revision": added.json()["revision"], "progress": "on_track"},
        format="json",
    )
    removed = api.delete(
        _url("goal", plan, goal.pk), {"revision": changed.json()["revision"]}, format="json"
    )

    assert added.status_code == 201, added.json()
    [body] = added.json()["goals"]
    assert body["what_matters"] == "I want to stay in my own home"
    assert (body["provider"], body["provided_by"]) == (str(ot.pk), "Olu Tade")
    assert body["progress"] == "not_started"
    assert changed.status_code == 200, changed.json()
    [body] = changed.json()["goals"]
    # A change keeps what it does not send.
    assert (body["progress"], body["support_agreed"], body["provider"]) == (
        "on_track",
        "Home assessment and grab rails",
        str(ot.pk),
    )
    assert removed.status_code == 200, removed.json()
    assert removed.json()["goals"] == []
    assert removed.json()["revision"] == plan.revision + 3
    assert not CarePlanGoal.objects.exists()


def test_a_goal_is_removed_with_the_revision_in_the_query_string(api, matron, patient):
    plan = draft_plan(matron, patient)
    goal = plan.goals.get()
    api.force_authenticate(matron)

    no_revision = api.delete(_url("goal", plan, goal.pk))
    removed = api.delete(f"{_url('goal', plan, goal.pk)}?revision={plan.revision}")

    assert no_revision.status_code == 400
    assert list(no_revision.json()) == ["revision"]
    assert removed.status_code == 200
    assert not CarePlanGoal.objects.exists()


def test_a_goal_needs_the_persons_words_and_a_far_target_is_kept_with_a_warning(
    api, matron, patient
):
    plan = draft_plan(matron, patient, goals=())
    api.force_authenticate(matron)

    no_words = api.post(_url("goals", plan), {"revision": plan.revision}, format="json")
    far = api.post(
        _url("goals", plan),
        {
            "revision": plan.revision,
            "what_matters": "I want to walk to the shops",
            "target_on": (TODAY + dt.timedelta(days=3 * 365)).isoformat(),
        },
        format="json",
    )

    assert no_words.status_code == 400
    assert no_words.json() == {"what_matters": ["Enter the goal in the person's own words"]}
    assert far.status_code == 201
    assert "more than two years away" in far.json()["warnings"][0]
    assert CarePlanGoal.objects.count() == 1


def test_a_goal_of_another_plan_is_not_found(api, matron, patient, practice_a):
    plan = draft_plan(matron, patient)
    other_episode = RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a), status="active", clinical_lead=matron
    )
    other_goal = draft_plan(matron, other_episode.patient).goals.get()
    api.force_authenticate(matron)

    response = api.patch(
        _url("goal", plan, other_goal.pk),
        {"revision": plan.revision, "progress": "achieved"},
        format="json",
    )

    assert response.status_code == 404
    assert CarePlanGoal.objects.get(pk=other_goal.pk).progress == "not_started"


def test_a_provider_outside_the_users_networks_is_not_a_choice(api, matron, outsider, patient):
    plan = draft_plan(matron, patient, goals=())
    api.force_authenticate(matron)

    response = api.post(
        _url("goals", plan),
        {"revision": plan.revision, "what_matters": "x", "provider": str(outsider.pk)},
        format="json",
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["provider"][0]


def test_the_care_team_is_added_to_and_removed_from(api, matron, patient):
    plan = draft_plan(matron, patient)
    age_well = Organisation.objects.create(
        name="Northshire Age Well", type=Organisation.Type.VOLUNTARY_ORGANISATION
    )
    api.force_authenticate(matron)

    nobody = api.post(_url("team", plan), {"revision": plan.revision, "role_in_plan": "Befriender"})
    added = api.post(
        _url("team", plan),
        {
            "revision": plan.revision,
            "role_in_plan": "Befriending and transport",
            "organisation": str(age_well.pk),
            "name": "Jo, befriender",
        },
        format="json",
    )
    member = CareTeamMember.objects.get(organisation=age_well)
    removed = api.delete(
        _url("team-member", plan, member.pk),
        {"revision": added.json()["revision"]},
        format="json",
    )

    assert nobody.status_code == 400
    assert nobody.json() == {
        "detail": ["Choose a practitioner or an organisation, or enter a name."]
    }
    assert added.status_code == 201, added.json()
    assert ("Befriending and transport", "Jo, befriender, Northshire Age Well") in {
        (m["role_in_plan"], m["display"]) for m in added.json()["care_team"]
    }
    assert removed.status_code == 200
    assert not CareTeamMember.objects.filter(organisation=age_well).exists()


WRITES_WITH_A_REVISION = [
    "update",
    "goal_add",
    "goal_change",
    "goal_remove",
    "team_add",
    "team_remove",
]


def _send(api, plan, write, revision):
    """Send one of the writes that take a revision."""
    goal = plan.goals.first()
    member = plan.care_team.first()
    if write == "update":
        return api.patch(
            _url("detail", plan), {"revision": revision, "contingency": "Call 111"}, format="json"
        )
    if write == "goal_add":
        return api.post(
            _url("goals", plan), {"revision": revision, "what_matters": "New goal"}, format="json"
        )
    if write == "goal_change":
        return api.patch(
            _url("goal", plan, goal.pk),
            {"revision": revision, "progress": "achieved"},
            format="json",
        )
    if write == "goal_remove":
        return api.delete(_url("goal", plan, goal.pk), {"revision": revision}, format="json")
    if write == "team_add":
        return api.post(
            _url("team", plan), {"revision": revision, "role_in_plan": "GP", "name": "Dr Obi"}
        )
    return api.delete(_url("team-member", plan, member.pk), {"revision": revision}, format="json")


def _snapshot(plan):
    plan = CarePlan.objects.get(pk=plan.pk)
    return (
        plan.status,
        plan.revision,
        plan.contingency,
        sorted(plan.goals.values_list("what_matters", "progress")),
        sorted(plan.care_team.values_list("role_in_plan", flat=True)),
    )


@pytest.mark.parametrize("write", WRITES_WITH_A_REVISION)
def test_a_write_based_on_a_stale_revision_is_a_conflict(api, matron, chair, patient, write):
    plan = draft_plan(matron, patient)
    seen = plan.revision
    plans.plan_update(by=chair, plan=plan, expected_revision=seen, contingency="Call the GP")
    before = _snapshot(plan)
    api.force_authenticate(matron)

    response = _send(api, plan, write, seen)

    assert response.status_code == 409, response.json()
    body = response.json()
    assert "Someone else saved this plan" in body["detail"]
    assert body["revision"] == seen + 1
    assert isinstance(body["changed"], list)
    assert _snapshot(plan) == before


# --- status ----------------------------------------------------------------------------------


def test_a_plan_is_proposed_ratified_shared_and_copied_forward(api, matron, chair, patient):
    plan = draft_plan(matron, patient)
    api.force_authenticate(matron)
    proposed = api.post(_url("propose", plan))
    api.force_authenticate(chair)
    ratified = api.post(_url("ratify", plan), {"note": "Agreed at the MDT"}, format="json")
    api.force_authenticate(matron)
    shared = api.post(
        _url("share", plan), {"shared_on": TODAY.isoformat(), "how": "in_person"}, format="json"
    )
    copied = api.post(_url("new-version", plan))
    again = api.post(_url("new-version", plan))

    assert proposed.status_code == 200, proposed.json()
    assert (proposed.json()["status"], proposed.json()["proposed_by"]) == (
        "proposed",
        str(matron.pk),
    )
    assert ratified.status_code == 200, ratified.json()
    body = ratified.json()
    assert (body["status"], body["ratified_by"], body["ratification_note"]) == (
        "ratified",
        str(chair.pk),
        "Agreed at the MDT",
    )
    assert shared.status_code == 200, shared.json()
    body = shared.json()
    assert (body["status"], body["shared_by"], body["shared_on"], body["shared_how"]) == (
        "shared",
        str(matron.pk),
        TODAY.isoformat(),
        "in_person",
    )
    assert copied.status_code == 201, copied.json()
    body = copied.json()
    assert (body["status"], body["number"], body["previous"]) == ("draft", 2, str(plan.pk))
    assert [goal["what_matters"] for goal in body["goals"]] == ["I want to stay in my own home"]
    # A second click answers with the version the first made.
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert CarePlan.objects.get(pk=plan.pk).status == "shared"


def test_a_ratified_plan_in_force_has_a_review_state(api, matron, chair, patient):
    plan = ratified_plan(matron, chair, patient)
    CarePlan.objects.filter(pk=plan.pk).update(
        starts_on=TODAY - dt.timedelta(weeks=7), next_review_on=TODAY - dt.timedelta(days=1)
    )
    api.force_authenticate(matron)

    assert api.get(_url("detail", plan)).json()["review_state"] == "overdue"
    CarePlan.objects.filter(pk=plan.pk).update(next_review_on=TODAY + dt.timedelta(days=14))
    assert api.get(_url("detail", plan)).json()["review_state"] == "due"


def test_ratifying_twice_changes_nothing(api, matron, chair, patient):
    plan = plans.plan_propose(by=matron, plan=draft_plan(matron, patient))
    api.force_authenticate(chair)

    first = api.post(_url("ratify", plan), {"note": "Agreed"}, format="json")
    second = api.post(_url("ratify", plan), {"note": "Agreed again"}, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    for key in ("status", "ratified_at", "ratification_note", "revision"):
        assert second.json()[key] == first.json()[key]


@pytest.mark.parametrize("persona", ["matron", "navigator", "admin_user", "member"])
def test_only_a_gp_chair_ratifies(api, request, matron, patient, persona):
    plan = plans.plan_propose(by=matron, plan=draft_plan(matron, patient))
    api.force_authenticate(request.getfixturevalue(persona))

    response = api.post(_url("ratify", plan), {}, format="json")

    assert response.status_code == 403
    assert "ratify care plans" in response.json()["detail"]
    assert CarePlan.objects.get().status == "proposed"
    assert not AccessEvent.objects.filter(what="api.careplans.ratify").exists()


def test_proposing_needs_a_goal_and_sharing_a_ratified_plan_and_a_past_date(
    api, matron, chair, patient
):
    plan = draft_plan(matron, patient, goals=())
    api.force_authenticate(matron)

    no_goal = api.post(_url("propose", plan))
    not_ratified = api.post(
        _url("share", plan), {"shared_on": TODAY.isoformat(), "how": "post"}, format="json"
    )
    plans.goal_save(by=matron, plan=plan, expected_revision=plan.revision, what_matters="x")
    plans.plan_ratify(by=chair, plan=plans.plan_propose(by=matron, plan=plan))
    future = api.post(
        _url("share", plan),
        {"shared_on": (TODAY + dt.timedelta(days=1)).isoformat(), "how": "post"},
        format="json",
    )
    unknown_way = api.post(
        _url("share", plan), {"shared_on": TODAY.isoformat(), "how": "pigeon"}, format="json"
    )

    assert no_goal.status_code == 400
    assert no_goal.json() == {"detail": ["Add at least one goal before proposing the plan."]}
    assert not_ratified.status_code == 400
    assert not_ratified.json() == {"detail": ["Only a ratified plan is shared with the person."]}
    assert future.status_code == 400
    assert future.json() == {"shared_on": ["The date it was shared cannot be in the future"]}
    assert unknown_way.status_code == 400
    assert "how" in unknown_way.json()
    assert CarePlan.objects.get().status == "ratified"


@pytest.mark.parametrize("state", ["ratified", "shared"])
@pytest.mark.parametrize(
    "write", [*WRITES_WITH_A_REVISION, "propose", "ratify", "share", "new_version"]
)
def test_a_ratified_or_shared_version_changes_through_no_endpoint(
    api, matron, chair, patient, state, write
):
    plan = (ratified_plan if state == "ratified" else shared_plan)(matron, chair, patient)
    before = _snapshot(plan)
    api.force_authenticate(chair)  # whose role may do every one of them

    if write in WRITES_WITH_A_REVISION:
        response = _send(api, plan, write, plan.revision)
        assert response.status_code == 400, response.json()
        assert "cannot be changed: make a new version" in response.json()["detail"][0]
    elif write == "propose":
        response = api.post(_url("propose", plan))
        assert response.status_code == 400
        assert response.json() == {"detail": ["Only a draft can be proposed for the MDT."]}
    elif write == "ratify":
        assert api.post(_url("ratify", plan), {"note": "Again"}, format="json").status_code == 200
    elif write == "share" and state == "shared":
        response = api.post(
            _url("share", plan), {"shared_on": TODAY.isoformat(), "how": "post"}, format="json"
        )
        assert response.status_code == 400
    elif write == "share":
        # Recording that it was shared is the one change a ratified plan takes.
        response = api.post(
            _url("share", plan), {"shared_on": TODAY.isoformat(), "how": "post"}, format="json"
        )
        assert response.status_code == 200
        assert _snapshot(plan)[2:] == before[2:]
        return
    else:
        response = api.post(_url("new-version", plan))
        assert response.status_code == 201
        assert response.json()["id"] != str(plan.pk)

    assert _snapshot(plan) == before


def test_a_superseded_version_cannot_be_ratified_again(api, matron, chair, patient):
    first = ratified_plan(matron, chair, patient)
    second = plans.plan_new_version(by=matron, plan=first)
    plans.plan_ratify(by=chair, plan=plans.plan_propose(by=matron, plan=second))
    api.force_authenticate(chair)

    response = api.post(_url("ratify", first), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": ["A superseded plan cannot be ratified."]}


# --- the gate ---------------------------------------------------------------------------------


def test_the_outsider_gets_404_on_every_read_and_write(api, matron, chair, outsider, patient):
    plan = draft_plan(matron, patient)
    goal = plan.goals.get()
    member = plan.care_team.first()
    before = _snapshot(plan)
    api.force_authenticate(outsider)
    revision = {"revision": plan.revision}

    responses = {
        "read": api.get(_url("detail", plan)),
        "fhir": api.get(_url("fhir", plan)),
        "update": api.patch(_url("detail", plan), {**revision, "contingency": "x"}, format="json"),
        "goal_add": api.post(_url("goals", plan), {**revision, "what_matters": "x"}, format="json"),
        "goal_change": api.patch(_url("goal", plan, goal.pk), revision, format="json"),
        "goal_remove": api.delete(_url("goal", plan, goal.pk), revision, format="json"),
        "team_add": api.post(_url("team", plan), {**revision, "role_in_plan": "x", "name": "y"}),
        "team_remove": api.delete(_url("team-member", plan, member.pk), revision, format="json"),
        "propose": api.post(_url("propose", plan)),
        "ratify": api.post(_url("ratify", plan)),
        "share": api.post(_url("share", plan), {"shared_on": TODAY, "how": "post"}),
        "new_version": api.post(_url("new-version", plan)),
    }
    listed = api.get(reverse("careplan-list"))
    by_patient = api.get(reverse("careplan-list"), {"patient": str(patient.pk)})
    start = api.post(reverse("careplan-list"), {"patient": str(patient.pk)}, format="json")

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(responses, 404)
    assert listed.json()["results"] == []
    assert by_patient.json()["results"] == []
    # The patient is a field of the body: the same answer as for an unknown id.
    assert start.status_code == 400
    assert "patient" in start.json()
    assert _snapshot(plan) == before
    assert CarePlan.objects.count() == 1
    assert not AccessEvent.objects.exclude(what="api.careplans.list").exists()


def test_an_unknown_or_malformed_id_is_404(api, matron):
    api.force_authenticate(matron)

    assert (
        api.get(
            reverse("careplan-detail", args=["8a7b4f4e-0000-4000-8000-000000000000"])
        ).status_code
        == 404
    )
    assert api.get("/api/v1/careplans/not-a-uuid/").status_code == 404


@pytest.mark.parametrize(
    ("method", "name", "extra"),
    [
        ("get", "list", None),
        ("post", "list", None),
        ("get", "detail", ()),
        ("patch", "detail", ()),
        ("get", "fhir", ()),
        ("post", "goals", ()),
        ("patch", "goal", ("goal",)),
        ("delete", "goal", ("goal",)),
        ("post", "team", ()),
        ("delete", "team-member", ("member",)),
        ("post", "propose", ()),
        ("post", "ratify", ()),
        ("post", "share", ()),
        ("post", "new-version", ()),
    ],
)
def test_anonymous_requests_are_refused(api, matron, patient, method, name, extra):
    plan = draft_plan(matron, patient)
    ids = {"goal": plan.goals.get().pk, "member": plan.care_team.first().pk}
    args = [] if extra is None else [plan.pk, *(ids[key] for key in extra)]

    response = getattr(api, method)(reverse(f"careplan-{name}", args=args), {}, format="json")

    assert response.status_code in (401, 403)
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_plan_is_never_replaced_or_deleted(api, matron, patient, method):
    plan = draft_plan(matron, patient)
    api.force_authenticate(matron)

    response = getattr(api, method)(_url("detail", plan), {"revision": 1}, format="json")

    assert response.status_code == 405
    assert CarePlan.objects.filter(pk=plan.pk).exists()


# --- lists, filters and the audit -------------------------------------------------------------


def test_the_list_filters_by_patient_and_status_and_searches_by_the_person(
    api, matron, chair, patient, practice_a
):
    first = ratified_plan(matron, chair, patient)
    second = plans.plan_new_version(by=matron, plan=first)
    other = RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a, family_name="Zebedee"),
        status="active",
        clinical_lead=matron,
    )
    elsewhere = draft_plan(matron, other.patient)
    api.force_authenticate(matron)

    def ids(**query):
        return [row["id"] for row in api.get(reverse("careplan-list"), query).json()["results"]]

    # By person, the newest version first.
    assert ids() == [str(second.pk), str(first.pk), str(elsewhere.pk)]
    assert ids(patient=str(patient.pk)) == [str(second.pk), str(first.pk)]
    assert ids(status="draft") == [str(second.pk), str(elsewhere.pk)]
    assert ids(patient=str(patient.pk), status="ratified") == [str(first.pk)]
    assert ids(search="zebedee") == [str(elsewhere.pk)]
    assert ids(search=patient.nhs_number_display) == [str(second.pk), str(first.pk)]
    assert ids(patient="8a7b4f4e-0000-4000-8000-000000000000") == []
    assert api.get(reverse("careplan-list"), {"status": "lost"}).status_code == 400


def test_every_read_and_write_is_one_access_event_naming_the_patient(
    api, navigator, matron, chair, patient, practice_a
):
    other = RegisterEntryFactory(
        patient=PatientFactory(practice=practice_a), status="active", clinical_lead=matron
    )
    draft_plan(matron, other.patient)
    plan = draft_plan(matron, patient)
    api.force_authenticate(navigator)
    api.get(reverse("careplan-list"))
    api.get(_url("detail", plan))
    api.get(_url("fhir", plan))
    api.force_authenticate(matron)
    api.patch(_url("detail", plan), {"revision": plan.revision, "contingency": "x"}, format="json")
    api.post(_url("propose", plan))
    api.force_authenticate(chair)
    api.post(_url("ratify", plan))

    events = list(AccessEvent.objects.order_by("at", "id"))
    assert [event.what for event in events] == [
        "api.careplans.list",
        "api.careplans.read",
        "api.careplans.fhir",
        "api.careplans.update",
        "api.careplans.propose",
        "api.careplans.ratify",
    ]
    assert set(events[0].patients.values_list("patient_id", flat=True)) == {
        patient.pk,
        other.patient_id,
    }
    for event in events[1:]:
        assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]
    assert events[1].reason == "member of North as Care navigator"


def test_a_refused_write_writes_no_access_event(api, matron, navigator, patient):
    plan = draft_plan(matron, patient)
    api.force_authenticate(navigator)

    response = api.patch(
        _url("detail", plan), {"revision": plan.revision, "contingency": "x"}, format="json"
    )

    assert response.status_code == 403
    assert _events() == []


@pytest.mark.parametrize("rows", [1, 50])
def test_the_list_query_count_is_pinned(
    api, matron, navigator, practice_a, rows, django_assert_num_queries
):
    for person in PatientFactory.create_batch(rows, practice=practice_a):
        RegisterEntryFactory(patient=person, status="active", clinical_lead=matron)
        plan = draft_plan(matron, person, goals=STATEMENTS)
        plans.team_member_add(
            by=matron,
            plan=plan,
            expected_revision=plan.revision,
            role_in_plan="Befriender",
            name="Jo",
        )
    api.force_authenticate(navigator)

    # count, page (with patient and practice), goals (with providers), care
    # team (with practitioners and organisations), memberships, access event
    # + patients (4)
    with django_assert_num_queries(9):
        response = api.get(reverse("careplan-list"))
    assert len(response.json()["results"]) == min(rows, 25)
    assert len(response.json()["results"][0]["goals"]) == 3
