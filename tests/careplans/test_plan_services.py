"""The care plan's rules: who writes, proposes, ratifies and shares it, and
that ratified versions change only through a new version."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from careplans import plans
from careplans.models import Assessment, CarePlan
from patients.models import RegisterEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def episode(practice_a, matron, navigator):
    patient = PatientFactory(practice=practice_a)
    return RegisterEntry.objects.create(
        patient=patient,
        status="active",
        source="gp_practice",
        referrer_name="Dr Patel",
        reason="Falls",
        referred_on=TODAY,
        clinical_lead=matron,
        navigator=navigator,
        primary_need="frailty",
    )


@pytest.fixture
def signed_assessment(episode, matron):
    return Assessment.objects.create(
        patient=episode.patient,
        kind="initial",
        assessor=matron,
        assessed_on=TODAY,
        status="completed",
        signed_by=matron,
        signed_at=timezone.now(),
        answers={
            "what_matters": {
                "i_statements": ["I want to stay in my own home", "I want to get to church"]
            }
        },
    )


def test_a_plan_starts_from_the_episode_and_the_assessment(matron, episode, signed_assessment):
    plan = plans.plan_create(by=matron, patient=episode.patient)

    assert (plan.status, plan.number, plan.primary_need) == ("draft", 1, "frailty")
    assert plan.from_assessment == signed_assessment
    assert [g.what_matters for g in plan.goals.all()] == [
        "I want to stay in my own home",
        "I want to get to church",
    ]
    assert {m.role_in_plan for m in plan.care_team.all()} == {"Clinical lead", "Care navigator"}
    assert plan.next_review_on == TODAY + dt.timedelta(weeks=6)


def test_no_plan_without_an_open_episode(matron, practice_a):
    with pytest.raises(ValidationError, match="no open episode"):
        plans.plan_create(by=matron, patient=PatientFactory(practice=practice_a))


def test_a_navigator_who_is_not_the_lead_cannot_write_the_plan(navigator, episode):
    with pytest.raises(PermissionDenied):
        plans.plan_create(by=navigator, patient=episode.patient)


def test_a_goal_needs_the_persons_words_and_a_far_target_is_warned(matron, episode):
    plan = plans.plan_create(by=matron, patient=episode.patient)

    with pytest.raises(ValidationError, match="own words"):
        plans.goal_save(by=matron, plan=plan, expected_revision=plan.revision, what_matters=" ")
    goal, warnings = plans.goal_save(
        by=matron,
        plan=plan,
        expected_revision=plan.revision,
        what_matters="I want to walk to the shops",
        target_on=TODAY + dt.timedelta(days=3 * 365),
    )

    assert goal.pk and "more than two years away" in warnings[0]


def test_a_stale_save_is_refused(matron, chair, episode):
    plan = plans.plan_create(by=matron, patient=episode.patient)
    seen = plan.revision
    plans.plan_update(by=chair, plan=plan, expected_revision=seen, contingency="Call 111")

    with pytest.raises(plans.StalePlan, match="Someone else saved this plan"):
        plans.plan_update(by=matron, plan=plan, expected_revision=seen, contingency="Call GP")

    plan.refresh_from_db()
    assert plan.contingency == "Call 111"


def test_a_review_date_before_the_start_is_refused(matron, episode):
    plan = plans.plan_create(by=matron, patient=episode.patient)

    with pytest.raises(ValidationError, match="on or after the plan's start"):
        plans.plan_update(
            by=matron,
            plan=plan,
            expected_revision=plan.revision,
            next_review_on=plan.starts_on - dt.timedelta(days=1),
        )


@pytest.mark.parametrize("persona", ["matron", "navigator", "admin_user", "outsider"])
def test_only_a_gp_chair_ratifies(request, matron, episode, signed_assessment, persona):
    plan = plans.plan_propose(by=matron, plan=plans.plan_create(by=matron, patient=episode.patient))

    with pytest.raises(PermissionDenied):
        plans.plan_ratify(by=request.getfixturevalue(persona), plan=plan)


def test_the_cycle_and_a_new_version(matron, chair, episode, signed_assessment):
    plan = plans.plan_create(by=matron, patient=episode.patient)
    plan = plans.plan_propose(by=matron, plan=plan)
    plan = plans.plan_ratify(by=chair, plan=plan, note="Agreed at the MDT")
    again = plans.plan_ratify(by=chair, plan=plan)  # a double click
    assert again.ratified_at == plan.ratified_at

    with pytest.raises(ValidationError, match="cannot be changed"):
        plans.plan_update(by=matron, plan=plan, expected_revision=plan.revision, contingency="x")

    plan = plans.plan_share(by=matron, plan=plan, shared_on=TODAY, how="in_person")
    second = plans.plan_new_version(by=matron, plan=plan)
    assert plans.plan_new_version(by=matron, plan=plan) == second
    assert (second.number, second.status, second.goals.count()) == (2, "draft", 2)

    plans.plan_ratify(by=chair, plan=plans.plan_propose(by=matron, plan=second))
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.SUPERSEDED


def test_review_state_is_derived_from_the_next_review_date(matron, chair, episode):
    from careplans.plan_selectors import review_state

    plan = plans.plan_ratify(
        by=chair, plan=plans.plan_propose(by=matron, plan=_with_goal(matron, episode))
    )
    today = plan.next_review_on

    assert review_state(plan, today - dt.timedelta(days=15)) == ""
    assert review_state(plan, today - dt.timedelta(days=14)) == "due"
    assert review_state(plan, today) == "due"
    assert review_state(plan, today + dt.timedelta(days=1)) == "overdue"


def test_plans_needing_attention_and_why(matron, chair, episode, outsider):
    from careplans.plan_selectors import attention_reasons, plans_needing_attention

    plan = plans.plan_ratify(
        by=chair, plan=plans.plan_propose(by=matron, plan=_with_goal(matron, episode))
    )
    later = plan.next_review_on + dt.timedelta(days=1)

    [found] = plans_needing_attention(user=chair, today=later)
    assert attention_reasons(found, later) == (
        "Review overdue",
        "Ratified but not shared",
        "A goal is past its target date",
    )
    assert not plans_needing_attention(user=outsider, today=later).exists()


def test_versions_are_compared_field_by_field(matron, chair, episode):
    from careplans.plan_selectors import plan_changes

    first = plans.plan_ratify(
        by=chair, plan=plans.plan_propose(by=matron, plan=_with_goal(matron, episode))
    )
    second = plans.plan_new_version(by=matron, plan=first)
    plans.plan_update(
        by=matron, plan=second, expected_revision=second.revision, contingency="Call 111"
    )
    second.refresh_from_db()

    changes = plan_changes(first, second)

    assert [(c.what, c.before, c.after) for c in changes] == [
        ("Contingency and escalation plan", "", "Call 111")
    ]


def _with_goal(matron, episode):
    plan = plans.plan_create(by=matron, patient=episode.patient)
    plans.goal_save(
        by=matron,
        plan=plan,
        expected_revision=plan.revision,
        what_matters="I want to stay at home",
        target_on=TODAY + dt.timedelta(days=7),
    )
    plan.refresh_from_db()
    return plan


def test_plans_close_when_the_episode_ends(matron, chair, episode):
    from patients.services import entry_status_change

    plan = plans.plan_ratify(
        by=chair, plan=plans.plan_propose(by=matron, plan=_with_goal(matron, episode))
    )

    entry_status_change(by=matron, entry=episode, to_status="discharged", reason="Moved away")

    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.CLOSED
