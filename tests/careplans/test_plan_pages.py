"""The care plan pages as their users meet them: started from an
assessment, goals and care team written with the person, proposed,
ratified by a GP chair, shared, a new version compared with the old one,
the copy printed for the person, and the plans that need attention. Every
rule is the service's (``careplans.plans``); these tests check that the
pages show its answers and never work around them."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careplans import plans
from careplans.models import Assessment, CarePlan, CarePlanGoal
from mdtcare.accounts.models import Membership, Organisation
from mdtcare.audit.models import AccessEvent
from patients.models import RegisterEntry
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.factories_register import RegisterEntryFactory
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
CONTINGENCY = "Start the rescue pack; then call the community rapid-response team; then 111."


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def episode(practice_a, matron, navigator):
    patient = PatientFactory(practice=practice_a, family_name="Okafor", given_name="Mary")
    return RegisterEntryFactory(
        patient=patient,
        status=RegisterEntry.Status.ACTIVE,
        clinical_lead=matron,
        navigator=navigator,
        primary_need="frailty",
    )


@pytest.fixture
def patient(episode):
    return episode.patient


@pytest.fixture
def signed_assessment(patient, matron):
    return Assessment.objects.create(
        patient=patient,
        kind="initial",
        assessor=matron,
        assessed_on=TODAY - dt.timedelta(days=2),
        status="completed",
        signed_by=matron,
        signed_at=timezone.now(),
        answers={
            "what_matters": {
                "i_statements": [
                    "I want to stay in my own home",
                    "I want to get to church on Sundays",
                ]
            }
        },
        created_by=matron,
    )


@pytest.fixture
def age_well(db):
    return Organisation.objects.create(
        name="Northshire Age Well", type=Organisation.Type.VOLUNTARY_ORGANISATION
    )


@pytest.fixture
def member(network_a):
    user = UserFactory(username="pharmacist", profession="pharmacist")
    MembershipFactory(user=user, network=network_a, role=Membership.Role.MEMBER)
    return user


def _url(name: str, plan: CarePlan, *args) -> str:
    return reverse(f"careplans:{name}", args=[plan.pk, *args])


def _date(prefix: str, day: dt.date | None) -> dict:
    if day is None:
        return {f"{prefix}_0": "", f"{prefix}_1": "", f"{prefix}_2": ""}
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


def _fresh(plan: CarePlan) -> CarePlan:
    return CarePlan.objects.get(pk=plan.pk)


def _contents(plan: CarePlan, **overrides) -> dict:
    plan = _fresh(plan)
    data = {
        "revision": plan.revision,
        "primary_need": plan.primary_need,
        "clinical_lead": plan.clinical_lead_id or "",
        "navigator": plan.navigator_id or "",
        "review_interval_weeks": plan.review_interval_weeks,
        "self_management": plan.self_management,
        "contingency": plan.contingency,
        "carer_involvement": plan.carer_involvement,
        **_date("starts_on", plan.starts_on),
        **_date("next_review_on", plan.next_review_on),
    }
    for key, value in overrides.items():
        if isinstance(value, dt.date):
            data.update(_date(key, value))
        else:
            data[key] = value
    return data


def _goal(plan: CarePlan, **overrides) -> dict:
    data = {
        "revision": _fresh(plan).revision,
        "what_matters": "I don't want to keep going back into hospital",
        "support_agreed": "COPD rescue pack and self-management plan",
        "provider_kind": "name",
        "provider_name": "Practice nurse",
        "progress": "not_started",
        **_date("target_on", TODAY + dt.timedelta(days=14)),
    }
    for key, value in overrides.items():
        if isinstance(value, dt.date) or (key == "target_on" and value is None):
            data.update(_date(key, value))
        else:
            data[key] = value
    return data


def _started(matron, patient) -> CarePlan:
    return plans.plan_create(by=matron, patient=patient)


def _proposed(matron, patient) -> CarePlan:
    plan = _started(matron, patient)
    if not plan.goals.exists():
        plan = _with_goals(matron, plan, 1)
    return plans.plan_propose(by=matron, plan=plan)


def _ratified(matron, chair, patient) -> CarePlan:
    return plans.plan_ratify(by=chair, plan=_proposed(matron, patient), note="At the MDT")


def _with_goals(matron, plan: CarePlan, count: int, **fields) -> CarePlan:
    CarePlanGoal.objects.bulk_create(
        CarePlanGoal(
            plan=plan,
            position=plan.goals.count() + number,
            what_matters=f"Goal number {number}",
            support_agreed="Visits",
            provider=matron,
            target_on=TODAY + dt.timedelta(days=30),
            created_by=matron,
            **fields,
        )
        for number in range(count)
    )
    return _fresh(plan)


# --- The whole cycle ----------------------------------------------------------------------------


def test_the_whole_cycle_through_the_pages(
    client, matron, chair, patient, signed_assessment, age_well
):
    client.force_login(matron)
    start = client.get(reverse("careplans:plan_create", args=[patient.pk]))
    created = client.post(
        reverse("careplans:plan_create", args=[patient.pk]),
        {"from_assessment": signed_assessment.pk},
        follow=True,
    )
    plan = CarePlan.objects.get(patient=patient)
    suggested = plan.goals.get(what_matters="I want to get to church on Sundays")
    edited = client.post(
        _url("plan_goal", plan, suggested.pk),
        _goal(
            plan,
            what_matters="I want to get to church on Sundays",
            support_agreed="Befriending and transport",
            provider_kind="organisation",
            provider_organisation=age_well.pk,
            progress="on_track",
        ),
    )
    added = client.post(_url("plan_goal", plan), _goal(plan))
    team = client.post(
        _url("plan_team_add", plan),
        {
            "revision": _fresh(plan).revision,
            "member_kind": "organisation",
            "organisation": age_well.pk,
            "role_in_plan": "Befriending and transport to church",
        },
    )
    contents = client.post(
        _url("plan_edit", plan), _contents(plan, contingency=CONTINGENCY, review_interval_weeks=6)
    )
    proposed = client.post(_url("plan_propose", plan), follow=True)

    client.force_login(chair)
    confirm = client.get(_url("plan_ratify", plan))
    ratified = client.post(
        _url("plan_ratify", plan),
        {"revision": _fresh(plan).revision, "note": "Agreed at the MDT"},
        follow=True,
    )

    client.force_login(matron)
    share_form = client.get(_url("plan_share", plan))
    shared = client.post(
        _url("plan_share", plan), {**_date("shared_on", TODAY), "shared_how": "in_person"}
    )
    printed = client.get(_url("plan_print", plan))
    new = client.post(_url("plan_new_version", plan), follow=True)
    second = CarePlan.objects.get(patient=patient, number=2)
    client.post(_url("plan_edit", second), _contents(second, contingency="Call the matron first"))
    compare = client.get(_url("plan_compare", second))

    assert "I want to stay in my own home" in start.text
    assert "Start the care plan" in start.text
    assert "started as a draft" in created.text
    assert (edited.status_code, added.status_code, team.status_code) == (302, 302, 302)
    assert contents.status_code == 302
    assert "proposed for the MDT" in proposed.text
    assert "Ratify the plan" in confirm.text
    assert "Plan ratified on" in ratified.text and "by " in ratified.text
    assert "How was it shared?" in share_form.text
    assert shared.status_code == 302
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.SUPERSEDED or plan.status == CarePlan.Status.SHARED
    assert (plan.ratified_by, plan.ratification_note) == (chair, "Agreed at the MDT")
    assert (plan.shared_by, plan.shared_on, plan.shared_how) == (matron, TODAY, "in_person")
    assert plan.contingency == CONTINGENCY
    assert {g.what_matters for g in plan.goals.all()} == {
        "I want to stay in my own home",
        "I want to get to church on Sundays",
        "I don't want to keep going back into hospital",
    }
    church = plan.goals.get(what_matters="I want to get to church on Sundays")
    assert (church.provider_organisation, church.progress) == (age_well, "on_track")
    assert plan.care_team.filter(organisation=age_well).exists()
    assert "Northshire Age Well" in printed.text
    assert "Version 2 is a draft" in new.text
    assert second.status == CarePlan.Status.DRAFT and second.previous == plan
    table = compare.text.split("version 1 to version 2</caption>")[1]
    assert "Contingency and escalation plan" in table
    assert CONTINGENCY in table and "Call the matron first" in table


def test_the_create_page_shows_what_the_plan_starts_with(
    client, matron, patient, signed_assessment
):
    client.force_login(matron)

    response = client.get(reverse("careplans:plan_create", args=[patient.pk]))

    text = response.text
    assert "Frailty" in text
    assert str(matron) in text
    assert "“I want to get to church on Sundays”" in text
    assert reverse("careplans:assessment", args=[signed_assessment.pk]) in text
    assert f'value="{signed_assessment.pk}"' in text


def test_a_plan_without_an_assessment_starts_with_no_goals(client, matron, patient):
    client.force_login(matron)

    page = client.get(reverse("careplans:plan_create", args=[patient.pk]))
    client.post(reverse("careplans:plan_create", args=[patient.pk]), {})

    assert "has no signed holistic assessment" in page.text
    plan = CarePlan.objects.get(patient=patient)
    assert plan.from_assessment is None and not plan.goals.exists()


def test_a_person_without_an_open_episode_is_refused_with_the_reason(client, matron, practice_a):
    person = PatientFactory(practice=practice_a)
    RegisterEntryFactory(patient=person, status=RegisterEntry.Status.DISCHARGED)
    client.force_login(matron)

    page = client.get(reverse("careplans:plan_create", args=[person.pk]))
    refused = client.post(reverse("careplans:plan_create", args=[person.pk]), {})

    assert "has no open episode on the register" in page.text
    assert "Start the care plan" not in page.text
    assert refused.status_code == 200
    assert "no open episode on the register: refer them" in refused.text
    assert "There is a problem" in refused.text
    assert not CarePlan.objects.exists()


def test_a_second_start_goes_to_the_plan_already_started(client, matron, patient):
    client.force_login(matron)
    url = reverse("careplans:plan_create", args=[patient.pk])

    first = client.post(url, {})
    again = client.post(url, {}, follow=True)

    plan = CarePlan.objects.get()
    assert first["Location"] == _url("plan", plan)
    assert again.redirect_chain[-1][0] == _url("plan", plan)
    assert "already has a care plan" in again.text


def test_a_navigator_who_is_not_the_lead_cannot_write_the_plan(client, matron, navigator, patient):
    plan = _started(matron, patient)
    client.force_login(navigator)

    page = client.get(_url("plan", plan))
    edit = client.get(_url("plan_edit", plan))
    post = client.post(_url("plan_edit", plan), _contents(plan, contingency="x"))

    assert "Add a goal" not in page.text and "Propose for the MDT" not in page.text
    assert edit.status_code == 403 and post.status_code == 403
    assert "written by community matrons, GP chairs and the clinical lead" in post.text
    assert _fresh(plan).contingency == ""


def test_only_those_who_write_plans_may_start_one(client, navigator, patient, signed_assessment):
    client.force_login(navigator)

    page = client.get(reverse("careplans:plan_create", args=[patient.pk]))
    refused = client.post(reverse("careplans:plan_create", args=[patient.pk]), {})

    assert "Care plans are written by community matrons" in page.text
    assert "Start the care plan" not in page.text
    assert refused.status_code == 403
    assert "written by community matrons, GP chairs and the clinical lead" in refused.text
    assert not CarePlan.objects.exists()


def test_an_mdt_member_who_is_the_clinical_lead_writes_the_plan(
    client, matron, member, episode, patient
):
    plan = _started(matron, patient)
    RegisterEntry.objects.filter(pk=episode.pk).update(clinical_lead=member)
    client.force_login(member)

    response = client.post(_url("plan_edit", plan), _contents(plan, contingency="Call me"))

    assert response.status_code == 302
    assert _fresh(plan).contingency == "Call me"


# --- The plan page ------------------------------------------------------------------------------


def test_the_plan_page_shows_summary_goals_team_and_plans(
    client, matron, navigator, patient, signed_assessment, age_well
):
    plan = _started(matron, patient)
    plans.team_member_add(
        by=matron,
        plan=plan,
        expected_revision=plan.revision,
        organisation=age_well,
        role_in_plan="Befriending",
    )
    plans.plan_update(
        by=matron,
        plan=plan,
        expected_revision=plan.revision,
        self_management="Inhalers morning and evening",
        contingency=CONTINGENCY,
    )
    client.force_login(matron)

    text = client.get(_url("plan", plan)).text

    assert '<strong class="nhsuk-tag nhsuk-tag--blue">Draft</strong>' in text
    assert "Frailty" in text and str(navigator) in text
    assert 'class="nhsuk-card mdt-goal"' in text
    assert "“I want to stay in my own home”" in text
    assert "Northshire Age Well" in text and "Befriending" in text
    assert "Inhalers morning and evening" in text and CONTINGENCY in text
    assert "Propose for the MDT" in text and "Add a goal" in text
    assert "Ratify</a>" not in text and "Print for the person" not in text


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        ("draft", "blue"),
        ("proposed", "blue"),
        ("ratified", "green"),
        ("shared", "green"),
        ("superseded", "grey"),
        ("closed", "grey"),
    ],
)
def test_status_tags_have_the_apps_colours(client, matron, chair, patient, status, colour):
    plan = _ratified(matron, chair, patient)
    CarePlan.objects.filter(pk=plan.pk).update(status=status)
    client.force_login(matron)

    text = client.get(_url("plan", plan)).text

    label = CarePlan.Status(status).label
    assert f'<strong class="nhsuk-tag nhsuk-tag--{colour}">{label}</strong>' in text


@pytest.mark.parametrize(
    ("days", "tag"),
    [(20, ""), (10, 'nhsuk-tag--orange">Review due'), (-1, 'nhsuk-tag--red">Review overdue')],
)
def test_the_review_is_tagged_due_or_overdue(client, matron, chair, patient, days, tag):
    plan = _ratified(matron, chair, patient)
    CarePlan.objects.filter(pk=plan.pk).update(
        starts_on=TODAY - dt.timedelta(days=60), next_review_on=TODAY + dt.timedelta(days=days)
    )
    client.force_login(matron)

    text = client.get(_url("plan", plan)).text

    if tag:
        assert tag in text
    else:
        assert "Review due" not in text and "Review overdue" not in text


def test_buttons_follow_the_state_and_the_role(client, matron, chair, navigator, patient):
    plan = _proposed(matron, patient)

    client.force_login(chair)
    for_chair = client.get(_url("plan", plan)).text
    client.force_login(navigator)
    for_navigator = client.get(_url("plan", plan)).text
    plans.plan_ratify(by=chair, plan=plan)
    ratified_for_navigator = client.get(_url("plan", plan)).text
    client.force_login(matron)
    ratified_for_matron = client.get(_url("plan", plan)).text

    assert _url("plan_ratify", plan) in for_chair
    assert _url("plan_ratify", plan) not in for_navigator
    assert "A GP chair ratifies the plan" in for_navigator
    assert "Record sharing" in ratified_for_navigator
    assert "Make a new version" not in ratified_for_navigator
    assert "Make a new version" in ratified_for_matron
    assert "Print for the person" in ratified_for_matron
    assert "Add a goal" not in ratified_for_matron


# --- Ratifying ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["matron", "navigator", "admin_user", "member"])
def test_only_a_gp_chair_ratifies(request, client, matron, patient, persona):
    plan = _proposed(matron, patient)
    user = request.getfixturevalue(persona)
    client.force_login(user)
    if persona == "admin_user":
        _verify_second_factor(client, user)

    page = client.get(_url("plan_ratify", plan))
    post = client.post(_url("plan_ratify", plan), {"revision": _fresh(plan).revision})

    assert page.status_code == 403
    assert post.status_code == 403
    assert "GP chairs ratify them at the MDT" in post.text
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.PROPOSED and plan.ratified_by is None


def test_the_chair_ratifies_with_a_note_and_a_double_click_is_harmless(
    client, matron, chair, patient
):
    plan = _proposed(matron, patient)
    client.force_login(chair)
    seen = _fresh(plan).revision

    first = client.post(_url("plan_ratify", plan), {"revision": seen, "note": "At the MDT"})
    ratified_at = _fresh(plan).ratified_at
    second = client.post(
        _url("plan_ratify", plan), {"revision": seen, "note": "Again"}, follow=True
    )

    assert first.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.ratified_by, plan.ratification_note) == (
        "ratified",
        chair,
        "At the MDT",
    )
    assert plan.ratified_at == ratified_at
    assert "This plan was already ratified on" in second.text


def test_a_plan_changed_after_the_chair_opened_it_is_not_ratified_unread(
    client, matron, chair, patient
):
    plan = _proposed(matron, patient)
    seen = _fresh(plan).revision
    plans.plan_update(by=matron, plan=plan, expected_revision=seen, contingency="Call 111")
    client.force_login(chair)

    response = client.post(_url("plan_ratify", plan), {"revision": seen})

    assert "Someone changed the plan after you opened this page" in response.text
    assert "Call 111" in response.text
    assert f'value="{_fresh(plan).revision}"' in response.text
    assert _fresh(plan).status == CarePlan.Status.PROPOSED


def test_a_superseded_version_cannot_be_ratified(client, matron, chair, patient):
    first = _ratified(matron, chair, patient)
    second = plans.plan_new_version(by=matron, plan=first)
    plans.plan_ratify(by=chair, plan=plans.plan_propose(by=matron, plan=second))
    client.force_login(chair)

    page = client.get(_url("plan_ratify", first), follow=True)
    response = client.post(_url("plan_ratify", first), {"revision": _fresh(first).revision})

    assert "This version is superseded: it cannot be ratified." in page.text
    assert "A superseded plan cannot be ratified." in response.text
    assert _fresh(first).status == CarePlan.Status.SUPERSEDED


# --- Ratified and shared versions are not edited in place ---------------------------------------


@pytest.mark.parametrize("status", ["ratified", "shared"])
def test_a_version_in_force_cannot_be_changed_through_any_page(
    client, matron, chair, patient, signed_assessment, age_well, status
):
    plan = _ratified(matron, chair, patient)
    if status == "shared":
        plan = plans.plan_share(by=matron, plan=plan, shared_on=TODAY, how="post")
    plan = _fresh(plan)
    goal = plan.goals.first()
    member = plan.care_team.first()
    before = (plan.revision, plan.contingency, plan.goals.count(), plan.care_team.count())
    client.force_login(matron)

    gets = [
        client.get(_url("plan_edit", plan)),
        client.get(_url("plan_goal", plan)),
        client.get(_url("plan_goal", plan, goal.pk)),
        client.get(_url("plan_team_add", plan)),
    ]
    followed = client.get(_url("plan", plan))
    posts = [
        client.post(_url("plan_edit", plan), _contents(plan, contingency="Changed")),
        client.post(_url("plan_goal", plan), _goal(plan)),
        client.post(_url("plan_goal", plan, goal.pk), _goal(plan, what_matters="Changed")),
        client.post(_url("plan_goal_remove", plan, goal.pk), {"revision": plan.revision}),
        client.post(
            _url("plan_team_add", plan),
            {
                "revision": plan.revision,
                "member_kind": "organisation",
                "organisation": age_well.pk,
                "role_in_plan": "Befriending",
            },
        ),
        client.post(_url("plan_team_remove", plan, member.pk), {"revision": plan.revision}),
    ]

    for response in gets:
        assert response["Location"] == _url("plan", plan)
    assert "cannot be changed. To change the plan, make a new version." in followed.text
    assert "Change the plan" not in followed.text and "Add a goal" not in followed.text
    for response in posts:
        assert response.status_code == 200
        assert "cannot be changed: make a new version" in response.text
    plan.refresh_from_db()
    assert (plan.revision, plan.contingency, plan.goals.count(), plan.care_team.count()) == before
    goal.refresh_from_db()
    assert goal.what_matters == "I want to stay in my own home"


# --- Several editors: stale revisions -----------------------------------------------------------


def test_a_stale_save_shows_the_message_and_the_other_persons_values(
    client, matron, chair, patient
):
    plan = _started(matron, patient)
    page = _contents(plan)  # the matron opens the form
    plans.plan_update(
        by=chair, plan=plan, expected_revision=page["revision"], contingency="Call 111 first"
    )
    client.force_login(matron)

    response = client.post(
        _url("plan_edit", plan), {**page, "self_management": "Walk daily", "contingency": ""}
    )

    text = response.text
    assert "Someone else saved this plan at" in text
    assert "Your changes have not been saved" in text
    assert "Call 111 first</textarea>" in text
    assert "Your changes that were not saved" in text
    unsaved = text.split("Your changes that were not saved")[1].split("</dl>")[0]
    assert "Walk daily" in unsaved and "Self-management plan" in unsaved
    assert f'name="revision" value="{_fresh(plan).revision}"' in text
    plan.refresh_from_db()
    assert (plan.contingency, plan.self_management) == ("Call 111 first", "")


def test_after_a_stale_refusal_saving_again_is_deliberate_and_works(client, matron, chair, patient):
    plan = _started(matron, patient)
    page = _contents(plan)
    plans.plan_update(by=chair, plan=plan, expected_revision=page["revision"], contingency="A")
    client.force_login(matron)
    client.post(_url("plan_edit", plan), {**page, "contingency": "B"})

    again = client.post(_url("plan_edit", plan), _contents(plan, contingency="B"))

    assert again.status_code == 302
    assert _fresh(plan).contingency == "B"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_at_once_one_saves_and_one_is_told(matron, chair, patient):
    plan = _started(matron, patient)
    page = _contents(plan)  # both opened the form at the same revision
    both_ready = threading.Barrier(2)
    answers, failures = [], []

    def save(user, contingency):
        try:
            client = Client()
            client.force_login(user)
            both_ready.wait(timeout=10)
            answers.append(
                client.post(_url("plan_edit", plan), {**page, "contingency": contingency})
            )
        except Exception as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(matron, "Call the matron")),
        threading.Thread(target=save, args=(chair, "Call the GP")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert sorted(response.status_code for response in answers) == [200, 302]
    refused = next(response for response in answers if response.status_code == 200)
    assert "Someone else saved this plan at" in refused.text
    saved = _fresh(plan)
    assert saved.revision == page["revision"] + 1
    assert saved.contingency in ("Call the matron", "Call the GP")
    assert f"{saved.contingency}</textarea>" in refused.text


def test_a_stale_goal_save_keeps_the_goal_as_saved_and_lists_yours(
    client, matron, chair, patient, signed_assessment
):
    plan = _started(matron, patient)
    goal = plan.goals.first()
    seen = _fresh(plan).revision
    plans.goal_save(
        by=chair,
        plan=plan,
        expected_revision=seen,
        goal=goal,
        what_matters=goal.what_matters,
        support_agreed="Grab rails",
    )
    client.force_login(matron)

    response = client.post(
        _url("plan_goal", plan, goal.pk),
        {
            **_goal(plan, what_matters=goal.what_matters, support_agreed="OT visit"),
            "revision": seen,
        },
    )

    assert "Someone else saved this plan" in response.text
    assert "Grab rails</textarea>" in response.text
    assert "OT visit" in response.text.split("Your changes that were not saved")[1]
    goal.refresh_from_db()
    assert goal.support_agreed == "Grab rails"


def test_a_stale_new_goal_keeps_what_was_typed(client, matron, chair, patient):
    plan = _started(matron, patient)
    seen = _fresh(plan).revision
    plans.plan_update(by=chair, plan=plan, expected_revision=seen, contingency="Call 111")
    client.force_login(matron)

    refused = client.post(_url("plan_goal", plan), {**_goal(plan), "revision": seen})
    again = client.post(_url("plan_goal", plan), _goal(plan))

    assert "Someone else saved this plan" in refused.text
    assert "keep going back into hospital" in refused.text
    assert f'value="{seen + 1}"' in refused.text
    assert again.status_code == 302
    assert plan.goals.count() == 1


def test_a_stale_removal_is_refused_and_the_goal_stays(client, matron, chair, patient):
    plan = _with_goals(matron, _started(matron, patient), 1)
    goal = plan.goals.get()
    seen = plan.revision
    plans.plan_update(by=chair, plan=plan, expected_revision=seen, contingency="x")
    client.force_login(matron)

    response = client.post(_url("plan_goal_remove", plan, goal.pk), {"revision": seen})

    assert response.status_code == 200
    assert "Someone else saved this plan" in response.text
    assert CarePlanGoal.objects.filter(pk=goal.pk).exists()


# --- Goals, the care team and the contents: what is refused, what is warned --------------------


def test_a_goal_with_no_words_is_refused(client, matron, patient):
    plan = _started(matron, patient)
    client.force_login(matron)

    response = client.post(_url("plan_goal", plan), _goal(plan, what_matters="   "))

    assert response.status_code == 200
    assert "Enter the goal in the person&#x27;s own words" in response.text
    assert 'href="#id_what_matters"' in response.text
    assert not plan.goals.exists()


def test_a_target_date_years_away_is_saved_with_a_warning(client, matron, patient):
    plan = _started(matron, patient)
    far = TODAY + dt.timedelta(days=5 * 365)
    client.force_login(matron)

    response = client.post(_url("plan_goal", plan), _goal(plan, target_on=far), follow=True)

    goal = plan.goals.get()
    assert goal.target_on == far
    assert f"The target date {far:%d/%m/%Y} is more than two years away: check it." in (
        response.text
    )


def test_a_goal_is_provided_by_a_practitioner_an_organisation_or_a_name(
    client, matron, navigator, patient, age_well
):
    plan = _started(matron, patient)
    client.force_login(matron)

    missing = client.post(_url("plan_goal", plan), _goal(plan, provider_kind="practitioner"))
    # Fields of the options not chosen are cleared, whatever was sent.
    client.post(
        _url("plan_goal", plan),
        _goal(
            plan,
            provider_kind="practitioner",
            provider=navigator.pk,
            provider_organisation=age_well.pk,
            provider_name="Her daughter",
        ),
    )

    assert "Choose the practitioner who provides it" in missing.text
    goal = plan.goals.get()
    assert (goal.provider, goal.provider_organisation, goal.provider_name) == (navigator, None, "")


def test_only_practitioners_of_the_network_are_offered(client, matron, outsider, patient):
    plan = _started(matron, patient)
    client.force_login(matron)

    page = client.get(_url("plan_goal", plan))
    response = client.post(
        _url("plan_goal", plan), _goal(plan, provider_kind="practitioner", provider=outsider.pk)
    )

    assert str(outsider) not in page.text
    assert "Select a valid choice" in response.text
    assert not plan.goals.exists()


def test_a_care_team_member_needs_a_role(client, matron, patient, age_well):
    plan = _started(matron, patient)
    client.force_login(matron)

    response = client.post(
        _url("plan_team_add", plan),
        {"revision": plan.revision, "member_kind": "organisation", "organisation": age_well.pk},
    )

    assert "Enter their role in this plan" in response.text
    assert not plan.care_team.filter(organisation=age_well).exists()


def test_a_goal_and_a_member_are_removed(client, matron, patient, signed_assessment):
    plan = _started(matron, patient)
    goal = plan.goals.first()
    member = plan.care_team.first()
    client.force_login(matron)

    client.post(_url("plan_goal_remove", plan, goal.pk), {"revision": _fresh(plan).revision})
    client.post(_url("plan_team_remove", plan, member.pk), {"revision": _fresh(plan).revision})
    again = client.post(
        _url("plan_goal_remove", plan, goal.pk), {"revision": _fresh(plan).revision}, follow=True
    )

    assert not CarePlanGoal.objects.filter(pk=goal.pk).exists()
    assert not plan.care_team.filter(pk=member.pk).exists()
    assert "That goal had already been removed." in again.text


def test_a_review_date_before_the_start_is_refused(client, matron, patient):
    plan = _started(matron, patient)
    client.force_login(matron)

    response = client.post(
        _url("plan_edit", plan),
        _contents(plan, next_review_on=plan.starts_on - dt.timedelta(days=1)),
    )

    assert response.status_code == 200
    assert "The review date must be on or after the plan&#x27;s start" in response.text
    assert 'href="#id_next_review_on_0"' in response.text
    assert _fresh(plan).next_review_on == plan.next_review_on


def test_the_review_interval_gives_the_next_review_date(client, matron, patient):
    plan = _started(matron, patient)
    client.force_login(matron)

    client.post(_url("plan_edit", plan), _contents(plan, review_interval_weeks=12))
    moved = _fresh(plan).next_review_on
    client.post(_url("plan_edit", plan), _contents(plan, next_review_on=TODAY + dt.timedelta(5)))
    chosen = _fresh(plan).next_review_on
    client.post(_url("plan_edit", plan), _contents(plan, carer_involvement="Daughter visits"))

    assert moved == plan.starts_on + dt.timedelta(weeks=12)
    assert chosen == TODAY + dt.timedelta(days=5)
    assert _fresh(plan).next_review_on == chosen  # an unrelated save keeps a chosen date


def test_a_plan_is_proposed_only_with_a_goal(client, matron, patient):
    plan = _started(matron, patient)
    client.force_login(matron)

    refused = client.post(_url("plan_propose", plan))

    assert refused.status_code == 200
    assert "Add at least one goal before proposing the plan." in refused.text
    assert "There is a problem" in refused.text
    assert _fresh(plan).status == CarePlan.Status.DRAFT


def test_a_second_propose_click_is_harmless(client, matron, patient, signed_assessment):
    plan = _started(matron, patient)
    client.force_login(matron)

    client.post(_url("plan_propose", plan))
    proposed_at = _fresh(plan).proposed_at
    again = client.post(_url("plan_propose", plan), follow=True)

    assert _fresh(plan).proposed_at == proposed_at
    assert "already been proposed" in again.text


# --- Sharing and new versions -------------------------------------------------------------------


def test_sharing_records_when_how_and_by_whom(client, matron, chair, navigator, patient):
    plan = _ratified(matron, chair, patient)
    client.force_login(navigator)

    future = client.post(
        _url("plan_share", plan),
        {**_date("shared_on", TODAY + dt.timedelta(days=1)), "shared_how": "post"},
    )
    no_how = client.post(_url("plan_share", plan), _date("shared_on", TODAY))
    shared = client.post(
        _url("plan_share", plan), {**_date("shared_on", TODAY), "shared_how": "post"}
    )
    again = client.get(_url("plan_share", plan), follow=True)

    assert "The date it was shared cannot be in the future" in future.text
    assert "Choose how it was shared" in no_how.text
    assert shared.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.shared_by, plan.shared_how) == ("shared", navigator, "post")
    assert "This plan was shared by post on" in again.text


def test_a_draft_is_not_shared_or_printed(client, matron, patient):
    plan = _started(matron, patient)
    client.force_login(matron)

    share = client.get(_url("plan_share", plan))
    printed = client.get(_url("plan_print", plan))

    assert share["Location"] == _url("plan", plan)
    assert printed["Location"] == _url("plan", plan)


def test_a_new_version_copies_the_plan_and_a_double_click_goes_to_the_same_draft(
    client, matron, chair, patient, signed_assessment
):
    plan = _ratified(matron, chair, patient)
    client.force_login(matron)

    first = client.post(_url("plan_new_version", plan))
    second = client.post(_url("plan_new_version", plan))

    draft = CarePlan.objects.get(patient=patient, number=2)
    assert first["Location"] == second["Location"] == _url("plan", draft)
    draft_page = client.get(_url("plan", draft)).text
    assert "This version replaces" in draft_page and "earlier version" not in draft_page
    assert draft.goals.count() == 2 and draft.status == CarePlan.Status.DRAFT
    assert CarePlan.objects.filter(patient=patient).count() == 2
    page = client.get(_url("plan", plan)).text
    assert "Version 2</a> is being written (draft)" in page
    assert "Make a new version" not in page


def test_an_old_version_points_to_the_plan_in_force(client, matron, chair, patient):
    first = _ratified(matron, chair, patient)
    second = plans.plan_new_version(by=matron, plan=first)
    plans.plan_ratify(
        by=chair, plan=plans.plan_propose(by=matron, plan=_with_goals(matron, second, 1))
    )
    client.force_login(matron)

    text = client.get(_url("plan", first)).text

    assert "This is an earlier version of the plan" in text
    assert _url("plan", second) in text
    assert "Make a new version" not in text and "Print for the person" not in text


# --- Comparing versions -------------------------------------------------------------------------


def test_compare_shows_what_changed_field_by_field_and_every_version(
    client, matron, chair, navigator, patient, signed_assessment
):
    first = _ratified(matron, chair, patient)
    second = plans.plan_new_version(by=matron, plan=first)
    plans.plan_update(
        by=matron,
        plan=second,
        expected_revision=second.revision,
        contingency="Call 111",
        navigator=None,
    )
    goal = second.goals.get(what_matters="I want to stay in my own home")
    plans.goal_save(
        by=matron,
        plan=second,
        expected_revision=_fresh(second).revision,
        goal=goal,
        what_matters=goal.what_matters,
        support_agreed="Grab rails",
    )
    client.force_login(matron)

    default = client.get(_url("plan_compare", second))
    reverse_order = client.get(_url("plan_compare", first) + f"?with={second.pk}")

    table = default.text.split("version 1 to version 2</caption>")[1].split("</table>")[0]
    assert "Contingency and escalation plan" in table and "Call 111" in table
    assert "Care navigator" in table and str(navigator) in table
    assert "Goal: “I want to stay in my own home”" in table and "Grab rails" in table
    assert "Primary need" not in table
    assert "What changed from version 1 to version 2" in reverse_order.text
    versions = default.text.split("All versions")[1]
    assert "Version 1" in versions and "Version 2" in versions
    assert "nhsuk-tag--green" in versions and "nhsuk-tag--blue" in versions


def test_the_first_version_has_nothing_to_compare_with(client, matron, patient):
    plan = _started(matron, patient)
    client.force_login(matron)

    response = client.get(_url("plan_compare", plan))

    assert "This is the first version of the plan" in response.text


def test_compare_only_with_a_version_of_the_same_plan(client, matron, chair, patient, practice_a):
    plan = _ratified(matron, chair, patient)
    other_person = PatientFactory(practice=practice_a)
    RegisterEntryFactory(patient=other_person, status="active")
    elsewhere = _started(matron, other_person)
    client.force_login(matron)

    assert client.get(_url("plan_compare", plan) + "?with=nonsense").status_code == 404
    assert client.get(_url("plan_compare", plan) + f"?with={elsewhere.pk}").status_code == 404
    assert client.get(_url("plan_compare", plan) + f"?with={plan.pk}").status_code == 404


# --- The person's copy --------------------------------------------------------------------------


def test_the_persons_copy_is_plain_english_with_what_matters_first(
    client, matron, chair, navigator, patient, signed_assessment, age_well
):
    plan = _started(matron, patient)
    goal = plan.goals.get(what_matters="I want to get to church on Sundays")
    plans.goal_save(
        by=matron,
        plan=plan,
        expected_revision=plan.revision,
        goal=goal,
        what_matters=goal.what_matters,
        support_agreed="Befriending and transport",
        provider_organisation=age_well,
        target_on=dt.date(2026, 3, 31),
        progress="on_track",
    )
    plans.plan_update(
        by=matron, plan=plan, expected_revision=_fresh(plan).revision, contingency=CONTINGENCY
    )
    plans.plan_ratify(by=chair, plan=plans.plan_propose(by=matron, plan=plan))
    client.force_login(matron)

    response = client.get(_url("plan_print", plan))

    text = response.text
    person = text.split('<article class="mdt-person-summary mdt-person-plan">')[1]
    person = person.split("</article>")[0]
    assert person.index("I want to get to church on Sundays") < person.index("If things get worse")
    assert "Befriending and transport" in person and "Northshire Age Well" in person
    assert "31 March 2026" in person and "Going to plan" in person
    assert CONTINGENCY in person and "call NHS 111" in person
    assert f"Your main contact about your care: {matron}, community matron" in person
    assert str(navigator) in person
    assert f"again by {plan.next_review_on.day} {plan.next_review_on:%B %Y}" in person
    for jargon in ("Tier", "tier", "atif", "Primary need", "frailty", "MDT", "Draft", "propos"):
        assert jargon not in person, jargon
    assert 'href="/static/css/print.css" media="print"' in text
    assert "data-print-page hidden" in text


# --- Plans needing attention --------------------------------------------------------------------


def test_the_attention_list_shows_the_reasons_and_is_scoped(
    client, matron, chair, navigator, outsider, patient, practice_b
):
    plan = _ratified(matron, chair, patient)
    plan = _with_goals(matron, plan, 1)
    CarePlan.objects.filter(pk=plan.pk).update(
        starts_on=TODAY - dt.timedelta(days=80),
        next_review_on=TODAY - dt.timedelta(days=3),
        ratified_at=timezone.now() - dt.timedelta(days=20),
        clinical_lead=None,
    )
    CarePlanGoal.objects.filter(plan=plan).update(target_on=TODAY - dt.timedelta(days=1))
    client.force_login(navigator)

    response = client.get(reverse("careplans:plan_attention"))
    client.force_login(outsider)
    elsewhere = client.get(reverse("careplans:plan_attention"))

    row = response.text.split(_url("plan", plan))[1].split("</tr>")[0]
    for reason in (
        "Review overdue",
        "Ratified but not shared",
        "No clinical lead",
        "A goal is past its target date",
    ):
        assert reason in row
    assert 'nhsuk-tag--red">Review overdue' in row
    assert "OKAFOR" not in elsewhere.text
    assert "No plans need attention" in elsewhere.text
    event = AccessEvent.objects.filter(what="care_plan.attention", user=navigator).get()
    assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]


def test_the_attention_list_is_paginated(client, matron, chair, practice_a):
    for person in PatientFactory.create_batch(26, practice=practice_a):
        RegisterEntryFactory(patient=person, status="active")
        plan = _started(matron, person)
        CarePlan.objects.filter(pk=plan.pk).update(status="proposed", clinical_lead=None)
    client.force_login(matron)

    first = client.get(reverse("careplans:plan_attention"))
    second = client.get(reverse("careplans:plan_attention") + "?page=2")

    assert len(first.context["rows"]) == 25 and len(second.context["rows"]) == 1
    assert "Page 2 of 2" in first.text


# --- The gate and the audit ---------------------------------------------------------------------

PAGES = [
    ("get", "plan", False),
    ("get", "plan_edit", False),
    ("post", "plan_edit", False),
    ("get", "plan_goal", False),
    ("post", "plan_goal", False),
    ("get", "plan_goal", True),
    ("post", "plan_goal_remove", True),
    ("get", "plan_team_add", False),
    ("post", "plan_team_add", False),
    ("post", "plan_team_remove", "member"),
    ("post", "plan_propose", False),
    ("get", "plan_ratify", False),
    ("post", "plan_ratify", False),
    ("get", "plan_share", False),
    ("post", "plan_share", False),
    ("post", "plan_new_version", False),
    ("get", "plan_compare", False),
    ("get", "plan_print", False),
]


def _page_args(plan: CarePlan, extra) -> list:
    if extra is True:
        return [plan.goals.first().pk]
    if extra == "member":
        return [plan.care_team.first().pk]
    return []


@pytest.mark.parametrize(("method", "name", "extra"), PAGES)
def test_the_outsider_gets_404_on_every_page_and_action(
    client, matron, chair, outsider, patient, signed_assessment, method, name, extra
):
    plan = _proposed(matron, patient)
    client.force_login(outsider)
    before = (AccessEvent.objects.count(), _fresh(plan).revision)

    response = getattr(client, method)(
        _url(name, plan, *_page_args(plan, extra)), {"revision": plan.revision}
    )

    assert response.status_code == 404
    assert "OKAFOR" not in response.text
    assert (AccessEvent.objects.count(), _fresh(plan).revision) == before


def test_the_outsider_cannot_start_a_plan_for_someone_else(client, outsider, patient):
    client.force_login(outsider)

    response = client.post(reverse("careplans:plan_create", args=[patient.pk]), {})

    assert response.status_code == 404
    assert not CarePlan.objects.exists()


@pytest.mark.parametrize(
    ("method", "name", "extra", "what"),
    [
        ("get", "plan", False, "care_plan.view"),
        ("get", "plan_edit", False, "care_plan.edit"),
        ("get", "plan_goal", True, "care_plan.goal"),
        ("get", "plan_team_add", False, "care_plan.team_add"),
        ("get", "plan_compare", False, "care_plan.compare"),
        ("post", "plan_propose", False, "care_plan.propose"),
        ("post", "plan_goal", False, "care_plan.goal"),
    ],
)
def test_every_page_and_action_writes_one_access_event(
    client, matron, patient, signed_assessment, method, name, extra, what
):
    plan = _started(matron, patient)
    client.force_login(matron)
    before = AccessEvent.objects.count()

    getattr(client, method)(_url(name, plan, *_page_args(plan, extra)), _goal(plan))

    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.latest("at")
    assert event.what == what
    assert list(event.patients.values_list("patient_id", flat=True)) == [patient.pk]
    assert event.reason == "member of North as Community matron"


def test_a_refused_ratification_is_audited_too(client, matron, navigator, patient):
    plan = _started(matron, patient)
    client.force_login(navigator)

    client.post(_url("plan_ratify", plan), {"revision": plan.revision})

    event = AccessEvent.objects.latest("at")
    assert (event.what, event.user) == ("care_plan.ratify", navigator)


# --- Query counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("goals", [1, 50])
def test_the_plan_print_and_compare_pages_query_counts_do_not_grow(
    client, matron, chair, patient, signed_assessment, age_well, goals, django_assert_num_queries
):
    first = _ratified(matron, chair, patient)
    second = plans.plan_new_version(by=matron, plan=first)
    for plan in (first, second):
        _with_goals(matron, plan, goals // 2, provider_organisation=age_well)
        _with_goals(matron, plan, goals - goals // 2)
    client.force_login(matron)
    client.get(reverse("home"))

    with django_assert_num_queries(PLAN_QUERIES):
        page = client.get(_url("plan", second))
    with django_assert_num_queries(PRINT_QUERIES):
        printed = client.get(_url("plan_print", first))
    with django_assert_num_queries(COMPARE_QUERIES):
        compared = client.get(_url("plan_compare", second))

    assert page.text.count('class="nhsuk-card mdt-goal"') == goals + 2
    assert printed.text.count('class="mdt-person-plan__goal"') == goals + 2
    assert "Nothing has changed between version 1 and version 2" in compared.text


@pytest.mark.parametrize("rows", [1, 50])
def test_the_attention_list_query_count_does_not_grow(
    client, matron, practice_a, rows, django_assert_num_queries
):
    for person in PatientFactory.create_batch(rows, practice=practice_a):
        RegisterEntryFactory(patient=person, status="active", clinical_lead=matron)
        plan = _started(matron, person)
        CarePlan.objects.filter(pk=plan.pk).update(status="proposed", clinical_lead=None)
    client.force_login(matron)
    client.get(reverse("home"))

    with django_assert_num_queries(ATTENTION_QUERIES):
        response = client.get(reverse("careplans:plan_attention"))
    assert len(response.context["rows"]) == min(rows, 25)


# Pinned: session, user, memberships (3); the access event and its patients in
# a savepoint (4); the session's renewed expiry in a savepoint (3); then, per page:
PLAN_QUERIES = 10 + 5  # the plan, its goals, its team, its versions, its assessment
PRINT_QUERIES = 10 + 3  # the plan, its goals, its team
COMPARE_QUERIES = 10 + 7  # both versions with goals and team (6), the versions
ATTENTION_QUERIES = 10 + 2  # the count, the page
