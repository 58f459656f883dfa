"""The demo data set: realistic, synthetic, idempotent, demo mode only."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from careplans.demo import assessments_load
from careplans.models import Assessment
from careplans.scoring import assessment_scores
from careplans.sections import SECTIONS_BY_KEY
from careplans.services import sections_incomplete
from mdtcare.accounts.models import Membership, Organisation, Profession, User
from mdtcare.core import demo, nhs_number
from mdtcare.notifications.models import Notification
from patients.models import EntryStatus, Patient, RegisterEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    demo.demo_data_load(today=dt.date(2026, 3, 1))


def test_loading_twice_changes_nothing_the_second_time(loaded):
    counts = (
        User.objects.count(),
        Patient.objects.count(),
        RegisterEntry.objects.count(),
        Assessment.objects.count(),
    )

    made = demo.demo_data_load(today=dt.date(2026, 3, 1))

    assert made == {
        "networks": 0,
        "organisations": 0,
        "users": 0,
        "patients": 0,
        "assessments": 0,
    }
    assert counts == (
        User.objects.count(),
        Patient.objects.count(),
        RegisterEntry.objects.count(),
        Assessment.objects.count(),
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

    assert len(people) == 200
    for person in people:
        assert person.nhs_number.startswith("999")
        assert nhs_number.is_valid(person.nhs_number)
        age = (today - person.date_of_birth).days / 365.25
        assert 65 <= age <= 100.5


def test_episodes_in_every_status_and_a_few_highest_risk(loaded):
    statuses = set(RegisterEntry.objects.values_list("status", flat=True))
    high_risk = Patient.objects.filter(risk_score__gte=80).count()

    assert statuses == set(EntryStatus.values)
    assert 2 <= high_risk <= 8  # about the top 2%
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
    Assessment.objects.filter(patient=mary).delete()
    someone = Assessment.objects.filter(kind=Assessment.Kind.REASSESSMENT).first().patient
    before = Assessment.objects.count()

    made = assessments_load(today=TODAY)

    assert made == 1  # Mary's again; the person with two keeps their two
    assert Assessment.objects.count() == before + 1
    assert someone.assessments.count() == 2
    assert Assessment.objects.get(patient=mary).scores["barthel"]["total"] == 14
