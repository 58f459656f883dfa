"""The demo data set: realistic, synthetic, idempotent, demo mode only."""

import datetime as dt
import itertools

import pytest
from django.core.management import CommandError, call_command

from careplans.demo import assessments_load, plans_load
from careplans.fhir import careplan_bundle
from careplans.models import Assessment, CarePlan, CarePlanGoal
from careplans.plan_selectors import IN_FORCE, current_plan, plan_get_for_user, review_state
from careplans.scoring import assessment_scores
from careplans.sections import SECTIONS_BY_KEY
from careplans.services import sections_incomplete
from mdtcare.accounts.models import Membership, Organisation, Profession, User
from mdtcare.core import demo, nhs_number
from mdtcare.notifications.models import Notification
from patients.models import EntryStatus, Patient, RegisterEntry
from tests.demo_snapshot import demo_restore

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    demo_restore(dt.date(2026, 3, 1))


def test_loading_twice_changes_nothing_the_second_time(loaded):
    counts = (
        User.objects.count(),
        Patient.objects.count(),
        RegisterEntry.objects.count(),
        Assessment.objects.count(),
        CarePlan.objects.count(),
        CarePlanGoal.objects.count(),
    )

    made = demo.demo_data_load(today=dt.date(2026, 3, 1))

    assert made == {
        "networks": 0,
        "organisations": 0,
        "users": 0,
        "patients": 0,
        "assessments": 0,
        "care plans": 0,
        "meetings": 0,
        "hospital activity": 0,
    }
    assert counts == (
        User.objects.count(),
        Patient.objects.count(),
        RegisterEntry.objects.count(),
        Assessment.objects.count(),
        CarePlan.objects.count(),
        CarePlanGoal.objects.count(),
    )


def test_it_is_refused_outside_demo_mode(settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="MDTCARE_DEMO=true"):
        call_command("load_demo_data")
    assert not User.objects.exists()


def test_the_demo_logins_have_their_roles(loaded):
    roles = {
        m.user.username: (m.network.name, m.role)
        for m in Membership.objects.select_related("user", "network").filter(
            user__username__in=demo.DEMO_LOGINS
        )
    }

    assert roles == {
        "matron": ("North", "matron"),
        "chair": ("North", "gp_chair"),
        "navigator": ("North", "navigator"),
        "admin": ("North", "admin"),
        "outsider": ("South", "member"),
    }
    assert User.objects.get(username="matron").check_password(demo.DEMO_PASSWORD)


def test_every_profession_and_eight_practices(loaded):
    assert set(User.objects.values_list("profession", flat=True)) == set(Profession.values)
    practices = Organisation.objects.filter(type=Organisation.Type.GP_PRACTICE)
    assert practices.count() == 8
    assert {p.network.name for p in practices} == {"North", "South"}


def test_people_are_synthetic_and_plausible(loaded):
    today = dt.date(2026, 3, 1)
    people = list(Patient.objects.all())

    assert len(people) == 528  # 66 in each of the eight practices
    for person in people:
        assert person.nhs_number.startswith("999")
        assert nhs_number.is_valid(person.nhs_number)
        age = (today - person.date_of_birth).days / 365.25
        assert 65 <= age <= 100.5


def test_episodes_in_every_status_and_a_few_highest_risk(loaded):
    statuses = set(RegisterEntry.objects.values_list("status", flat=True))
    high_risk = Patient.objects.filter(risk_score__gte=80).count()

    assert statuses == set(EntryStatus.values)
    assert 0.01 <= high_risk / Patient.objects.count() <= 0.03  # about the top 2%
    mary = Patient.objects.get(given_name="Mary", family_name="Okafor")
    assert set(mary.conditions.values_list("condition_id", flat=True)) == {
        "copd",
        "heart_failure",
        "osteoarthritis",
    }
    assert mary.entries.get().status == "active"


# --- holistic assessments ------------------------------------------------------------------

TODAY = dt.date(2026, 3, 1)


def test_marys_assessment_is_the_worked_example(loaded):
    mary = Patient.objects.get(given_name="Mary", family_name="Okafor")
    [assessment] = mary.assessments.all()
    referral = mary.entries.get()

    assert referral.referred_on < assessment.assessed_on == TODAY - dt.timedelta(days=36)
    assert assessment.kind == Assessment.Kind.INITIAL
    assert assessment.setting == Assessment.Setting.HOME
    assert assessment.people_present == "Her daughter"
    assert assessment.assessor == assessment.signed_by == User.objects.get(username="matron")
    assert assessment.status == Assessment.Status.COMPLETED
    scores = {key: (value["total"], value["band"]) for key, value in assessment.scores.items()}
    assert scores["cfs"] == (6, "Living with moderate frailty")
    assert scores["barthel"] == (14, "moderate dependency")
    assert scores["phq9"] == (8, "mild")
    assert scores["gad7"] == (6, "mild")
    assert scores["falls"] == (2, "fallen")
    assert assessment.scores["falls"]["flags"] == [
        "Timed Up and Go 19 s (over 12 s)",
        "2 falls in 12 months",
    ]
    answers = assessment.answers
    assert answers["mood"]["phq9_9"] == 0
    # Needs help with bathing, stairs and dressing.
    assert {key: answers["function"][key] for key in ("bathing", "stairs", "dressing")} == {
        "bathing": 0,
        "stairs": 1,
        "dressing": 1,
    }
    assert answers["medicines"]["medicines_count"] == 11
    assert answers["medicines"]["last_review_on"] == "2024-11-24"  # 14 months before
    assert answers["what_matters"]["i_statements"] == [
        "I want to stay in my own home",
        "I want to get to church on Sundays",
        "I don't want to keep going back into hospital",
    ]


def test_most_people_with_an_active_episode_have_a_signed_assessment(loaded):
    active = set(
        RegisterEntry.objects.filter(status=EntryStatus.ACTIVE).values_list("patient", flat=True)
    )
    signed = Assessment.objects.filter(status=Assessment.Status.COMPLETED)

    assessed = set(signed.values_list("patient", flat=True))
    assert assessed <= active
    assert len(assessed) >= 0.75 * len(active)
    for assessment in signed.select_related("patient__practice", "assessor"):
        assert assessment.signed_by_id == assessment.assessor_id
        assert assessment.signed_at.date() >= assessment.assessed_on
        assert assessment.assessed_on < TODAY
        network = assessment.patient.practice.network_id
        role = Membership.objects.get(user=assessment.assessor, network_id=network).role
        # The lead when a matron, else the demo matron; South has no matron.
        assert (
            role == "matron"
            or not Membership.objects.filter(network_id=network, role="matron").exists()
        )


def test_every_signed_assessment_is_valid_complete_and_scored_from_its_answers(loaded):
    for assessment in Assessment.objects.all():
        for section, answers in assessment.answers.items():
            data = {
                key: "\n".join(value) if isinstance(value, list) else value
                for key, value in answers.items()
            }
            form = SECTIONS_BY_KEY[section].form(data=data)
            assert form.is_valid(), (section, form.errors)
        if assessment.is_signed:
            assert sections_incomplete(assessment) == []
            computed = assessment_scores(assessment.answers)
            assert {key: value["total"] for key, value in assessment.scores.items()} == {
                key: score.total for key, score in computed.items()
            }


def test_about_a_third_are_reassessed_6_to_12_weeks_later(loaded):
    initial = Assessment.objects.filter(kind=Assessment.Kind.INITIAL, status="completed").count()
    again = list(
        Assessment.objects.filter(kind=Assessment.Kind.REASSESSMENT).select_related("previous")
    )

    assert 0.2 * initial <= len(again) <= 0.45 * initial
    for assessment in again:
        assert assessment.is_signed
        assert assessment.previous.is_signed
        assert assessment.previous.patient_id == assessment.patient_id
        assert 42 <= (assessment.assessed_on - assessment.previous.assessed_on).days <= 84
    changed = [a for a in again if a.scores["barthel"] != a.previous.scores["barthel"]]
    assert changed  # plausible changes, not copies


def test_the_matron_has_one_draft_for_someone_with_an_active_episode(loaded):
    [draft] = Assessment.objects.filter(status=Assessment.Status.DRAFT)

    assert draft.assessor.username == "matron"
    assert draft.patient.entries.get(status=EntryStatus.ACTIVE)
    assert draft.scores == {}
    assert draft.signed_by is None
    assert draft.version == len(draft.answers) + 1


def test_nobody_in_the_demo_answers_phq9_item_9_above_zero(loaded):
    for answers in Assessment.objects.values_list("answers", flat=True):
        assert answers.get("mood", {}).get("phq9_9", 0) == 0
    assert not Notification.objects.filter(kind=Notification.Kind.SELF_HARM_ALERT).exists()


def test_assessments_are_only_added_for_people_without_any(loaded):
    mary = Patient.objects.get(given_name="Mary", family_name="Okafor")
    CarePlan.objects.filter(patient=mary).delete()  # her plan keeps her assessment (PROTECT)
    Assessment.objects.filter(patient=mary).delete()
    someone = Assessment.objects.filter(kind=Assessment.Kind.REASSESSMENT).first().patient
    before = Assessment.objects.count()

    made = assessments_load(today=TODAY)

    assert made == 1  # Mary's again; the person with two keeps their two
    assert Assessment.objects.count() == before + 1
    assert someone.assessments.count() == 2
    assert Assessment.objects.get(patient=mary).scores["barthel"]["total"] == 14


# --- care and support plans ----------------------------------------------------------------


def test_there_are_plans_in_every_status(loaded):
    statuses = set(CarePlan.objects.values_list("status", flat=True))

    assert statuses == set(CarePlan.Status.values)
    # Superseded versions come from people with several versions.
    assert CarePlan.objects.filter(number__gte=3).exists()


def test_marys_plan_is_the_worked_example(loaded):
    mary = Patient.objects.get(given_name="Mary", family_name="Okafor")
    [plan] = mary.care_plans.all()
    [assessment] = mary.assessments.all()
    matron, chair = User.objects.get(username="matron"), User.objects.get(username="chair")
    mdt = plan.ratified_at.date()

    assert (plan.number, plan.status, plan.from_assessment) == (1, "shared", assessment)
    assert (plan.primary_need, plan.clinical_lead, plan.navigator.username) == (
        "frailty",
        matron,
        "navigator",
    )
    # Drafted two days after the assessment, ratified at the MDT five days
    # later, shared in person by the matron two days after, review in 6 weeks.
    assert plan.starts_on == assessment.assessed_on + dt.timedelta(days=2)
    assert plan.proposed_by == matron
    assert (mdt, plan.ratified_by) == (plan.starts_on + dt.timedelta(days=5), chair)
    assert (plan.shared_on, plan.shared_by, plan.shared_how) == (
        mdt + dt.timedelta(days=2),
        matron,
        "in_person",
    )
    assert plan.review_interval_weeks == 6
    assert plan.next_review_on == mdt + dt.timedelta(weeks=6) == TODAY + dt.timedelta(days=13)
    assert review_state(plan, TODAY) == "due"
    goals = list(plan.goals.select_related("provider", "provider_organisation"))
    assert [goal.what_matters for goal in goals] == [
        "I want to stay in my own home",
        "I want to get to church on Sundays",
        "I don't want to keep going back into hospital",
    ]
    assert [goal.provider.username for goal in goals] == ["ot", "vsnav", "pnurse"]
    assert goals[1].provider_organisation.name == "Northshire Age Well"
    assert "grab rails" in goals[0].support_agreed and "care package" in goals[0].support_agreed
    assert "transport" in goals[1].support_agreed
    assert "rescue pack" in goals[2].support_agreed
    assert "medication review" in goals[2].support_agreed
    assert [goal.target_on - mdt for goal in goals] == [
        dt.timedelta(days=28),
        dt.timedelta(days=28),
        dt.timedelta(days=14),
    ]
    contingency = plan.contingency
    assert (
        contingency.index("rescue pack")
        < contingency.index("community rapid-response team")
        < contingency.index("111")
    )
    team = {member.role_in_plan: member for member in plan.care_team.all()}
    assert team["Clinical lead"].practitioner == matron
    assert team["Practice pharmacist"].practitioner.username == "pharmacist"
    assert team["Social worker"].practitioner.username == "sworker"


def test_some_reviews_are_overdue_and_some_due(loaded):
    in_force = [
        plan
        for plan in CarePlan.objects.filter(
            status__in=IN_FORCE, entry__status="active"
        ).select_related("entry")
    ]
    states = [review_state(plan, TODAY) for plan in in_force]

    assert states.count("overdue") >= 2
    assert states.count("due") >= 2  # Mary among them
    assert states.count("") > states.count("overdue")  # most are on time


def test_each_episodes_versions_follow_on_with_at_most_one_in_force(loaded):
    by_episode = {}
    for plan in CarePlan.objects.select_related("previous").order_by("number"):
        by_episode.setdefault(plan.entry_id, []).append(plan)

    for versions in by_episode.values():
        assert [plan.number for plan in versions] == list(range(1, len(versions) + 1))
        assert versions[0].previous is None
        for index, (before, after) in enumerate(itertools.pairwise(versions), start=1):
            assert after.previous == before
            assert after.starts_on >= before.starts_on
            # Superseded exactly when a later version was ratified.
            assert (before.status == "superseded") == any(
                later.status in IN_FORCE for later in versions[index:]
            )
        assert sum(plan.status in IN_FORCE for plan in versions) <= 1
        # Drafts and proposals are only ever the newest version.
        assert all(plan.is_editable is False for plan in versions[:-1])
        assert current_plan(reversed(versions)) is not None or versions[-1].status == "closed"


def test_plans_are_for_people_assessed_or_whose_episode_has_ended(loaded):
    for plan in CarePlan.objects.select_related("entry", "from_assessment"):
        if plan.entry.status == "active":
            assert plan.from_assessment.is_signed
            assert plan.from_assessment.patient_id == plan.patient_id
            assert plan.starts_on > plan.from_assessment.assessed_on
        else:
            assert plan.status == "closed"
            assert plan.starts_on < plan.entry.closed_on
        assert plan.starts_on <= TODAY
        assert plan.next_review_on >= plan.starts_on


def test_goals_are_the_persons_own_words_with_the_support_agreed(loaded):
    first_versions = CarePlan.objects.filter(number=1, entry__status="active").select_related(
        "from_assessment"
    )
    for plan in first_versions:
        statements = plan.from_assessment.answers["what_matters"]["i_statements"]
        assert [goal.what_matters for goal in plan.goals.all()] == statements
    in_force = CarePlanGoal.objects.filter(plan__status__in=IN_FORCE)
    assert in_force.exists()
    for goal in in_force:
        assert goal.support_agreed
        assert goal.provider_id or goal.provider_organisation_id
        assert goal.target_on
    providers = set(
        CarePlanGoal.objects.exclude(provider=None).values_list("provider__username", flat=True)
    )
    assert {"ot", "vsnav", "pnurse", "pharmacist"} <= providers
    assert CarePlanGoal.objects.filter(provider_organisation__name="Northshire Age Well").exists()
    assert set(CarePlanGoal.objects.values_list("progress", flat=True)) == set(
        CarePlanGoal.Progress.values
    )


def test_ratified_plans_were_ratified_by_a_gp_chair_of_their_network(loaded):
    ratified = CarePlan.objects.exclude(ratified_by=None).select_related("patient__practice")

    assert ratified.exists()
    for plan in ratified:
        role = Membership.objects.get(
            user=plan.ratified_by, network_id=plan.patient.practice.network_id
        ).role
        assert role == "gp_chair"
        assert plan.ratified_at.date() <= TODAY
    # Each network's own chair: North's Dr Patel, South's Dr Doyle.
    by_network = {
        (network, username)
        for network, username in ratified.values_list(
            "patient__practice__network__code", "ratified_by__username"
        )
    }
    assert by_network == {("north", "chair"), ("south", "southchair")}
    south = CarePlan.objects.filter(patient__practice__network__code="south")
    assert {"ratified", "shared", "superseded", "closed"} <= set(
        south.values_list("status", flat=True)
    )


def test_every_demo_plan_exports_as_valid_fhir(loaded):
    from tests.careplans.test_fhir import BUNDLE_VALIDATOR

    chair = User.objects.get(username="chair")
    one_of_each = {
        plan.status: plan
        for plan in CarePlan.objects.filter(patient__practice__network__code="north")
    }

    for plan in one_of_each.values():
        bundle = careplan_bundle(plan_get_for_user(user=chair, plan_id=plan.pk))
        assert BUNDLE_VALIDATOR.is_valid(bundle), plan.status


def test_plans_are_only_added_for_episodes_without_one(loaded):
    mary = Patient.objects.get(given_name="Mary", family_name="Okafor")
    CarePlan.objects.filter(patient=mary).delete()
    before = CarePlan.objects.count()

    made = plans_load(today=TODAY)

    assert made == 1  # Mary's again; everyone else keeps theirs
    assert CarePlan.objects.count() == before + 1
    assert CarePlan.objects.get(patient=mary).goals.count() == 3
