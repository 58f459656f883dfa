"""The design-ceiling data generator (benchmarks/generator.py), at 300
people: deterministic, valid row by row, of the ceiling's shape, and
enough for the monthly activity report. PostgreSQL only (it loads with
COPY), like the generator."""

import datetime as dt
import io
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from benchmarks import generator
from careplans.models import Assessment, CarePlan
from careplans.scoring import assessment_scores
from careplans.sections import SECTIONS, section_state
from mdtcare.accounts.models import Membership, Network, Organisation, User
from mdtcare.reports.activity import monthly_activity
from mdtcare.reports.months import Month
from meetings.models import Action, AgendaItem, Attendance, Discussion, Meeting, MeetingSeries
from patients.models import (
    HospitalActivity,
    Patient,
    PatientCondition,
    RegisterEntry,
    RiskScore,
)

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, tzinfo=ZoneInfo("Europe/London"))
OPTIONS = {"patients": 300, "seed": 20261125, "today": TODAY}


def generate(**options):
    return generator.generate(**(OPTIONS | options), out=io.StringIO())


def fingerprint() -> dict[str, tuple[int, str]]:
    """(rows, md5 of all its rows as text, in order) of each generated table."""
    found = {}
    rows = "string_agg(t::text, E'\\n' ORDER BY t::text)"
    with connection.cursor() as cursor:
        for table in generator.GENERATED_TABLES:
            cursor.execute(f'SELECT count(*), md5({rows}) FROM "{table}" t')  # noqa: S608
            found[table] = cursor.fetchone()
    return found


def identities(result) -> list[tuple]:
    return [(t["table"], t["rows"], t["first_id"], t["last_id"]) for t in result.tables]


def scalar(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_the_same_seed_gives_byte_identical_data(db):
    first = generate()
    first_tables = fingerprint()
    second = generate(replace=True)

    assert identities(second) == identities(first)
    assert fingerprint() == first_tables
    assert first.rows("patients_patient") == 300
    assert first_tables["meetings_action"][0] > 0


@pytest.mark.postgres
def test_another_seed_gives_other_data(db):
    first = generate()
    other = generate(seed=7, replace=True)

    assert other.tables[0]["first_id"] != first.tables[0]["first_id"]
    assert [t["first_id"] for t in other.tables if t["rows"]] != [
        t["first_id"] for t in first.tables if t["rows"]
    ]


@pytest.mark.postgres
def test_a_database_with_data_is_refused_unless_replace(db):
    out = io.StringIO()
    call_command("generate_ceiling_data", patients=300, today=TODAY, stdout=out)
    assert "bench-admin-aire" in out.getvalue()

    with pytest.raises(CommandError, match="has data already"):
        call_command("generate_ceiling_data", patients=300, today=TODAY, stdout=io.StringIO())
    call_command(
        "generate_ceiling_data", patients=300, today=TODAY, replace=True, stdout=io.StringIO()
    )
    assert Patient.objects.count() == 300


@pytest.mark.postgres
def test_replace_refuses_a_database_with_real_nhs_numbers(db):
    generate()
    Patient.objects.filter(pk=Patient.objects.first().pk).update(nhs_number="4857773456")

    with pytest.raises(generator.GeneratorError, match="999 test range"):
        generate(replace=True)


def test_other_databases_than_postgresql_are_refused(db, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("generate_ceiling_data", patients=300, stdout=io.StringIO())


@pytest.mark.postgres
def test_every_row_keeps_the_rules_of_its_model(db, settings):
    settings.NHS_NUMBER_ALLOW_TEST_RANGE = True
    generate()
    models = (
        Network,
        Organisation,
        User,
        Membership,
        Patient,
        PatientCondition,
        RiskScore,
        RegisterEntry,
        Assessment,
        CarePlan,
        MeetingSeries,
        Meeting,
        Attendance,
        AgendaItem,
        Discussion,
        Action,
        HospitalActivity,
    )
    for model in models:
        sample = list(model.objects.order_by("pk")[:40])
        assert sample, model
        for row in sample:
            row.full_clean()
    # A draft's scores are {} until it is signed, as assessment_start leaves
    # them, which full_clean calls blank (the field has no blank=True).
    drafts = Assessment.objects.filter(status="draft")
    assert drafts.exists()
    for draft in drafts:
        assert draft.scores == {}
        draft.full_clean(exclude=["scores"])
    for assessment in Assessment.objects.filter(status="completed")[:40]:
        mandatory = [s for s in SECTIONS if s.mandatory]
        assert all(section_state(s, assessment.answers) == "completed" for s in mandatory)
        scores = assessment_scores(assessment.answers)
        assert {key: value["total"] for key, value in assessment.scores.items()} == {
            key: score.total for key, score in scores.items()
        }


@pytest.mark.postgres
def test_the_records_hang_together(db):
    generate()
    broken = {
        "a plan's previous version is not the one before it": """
            SELECT count(*) FROM careplans_careplan p JOIN careplans_careplan q
            ON p.previous_id = q.id WHERE q.number <> p.number - 1 OR q.entry_id <> p.entry_id""",
        "two versions in force in an episode": """
            SELECT count(*) FROM (SELECT entry_id FROM careplans_careplan
            WHERE status IN ('ratified', 'shared') GROUP BY 1 HAVING count(*) > 1) x""",
        "a plan in force in a closed episode": """
            SELECT count(*) FROM careplans_careplan p JOIN patients_registerentry e
            ON e.id = p.entry_id WHERE p.status <> 'closed' AND p.status <> 'superseded'
            AND e.closed_on IS NOT NULL""",
        "an open episode without decision, lead or navigator": """
            SELECT count(*) FROM patients_registerentry WHERE status IN ('accepted', 'active')
            AND (decided_on IS NULL OR clinical_lead_id IS NULL OR navigator_id IS NULL)""",
        "a discussion at a meeting not held": """
            SELECT count(*) FROM meetings_discussion d JOIN meetings_agendaitem i
            ON i.id = d.item_id JOIN meetings_meeting m ON m.id = i.meeting_id
            WHERE m.status <> 'closed'""",
        "an item of a held meeting neither discussed nor marked not reached": """
            SELECT count(*) FROM meetings_agendaitem i JOIN meetings_meeting m
            ON m.id = i.meeting_id LEFT JOIN meetings_discussion d ON d.item_id = i.id
            WHERE m.status = 'closed' AND d.id IS NULL AND NOT i.not_reached""",
        "a plan ratified at a discussion of someone else": """
            SELECT count(*) FROM meetings_discussion d JOIN meetings_agendaitem i
            ON i.id = d.item_id JOIN careplans_careplan p ON p.id = d.ratified_plan_id
            WHERE p.patient_id <> i.patient_id""",
        "a person discussed at another network's MDT": """
            SELECT count(*) FROM meetings_agendaitem i JOIN meetings_meeting m
            ON m.id = i.meeting_id JOIN patients_patient p ON p.id = i.patient_id
            JOIN accounts_organisation o ON o.id = p.practice_id
            WHERE o.network_id <> m.network_id""",
        "a meeting's revision is not its items plus one": """
            SELECT count(*) FROM meetings_meeting m WHERE revision <>
            1 + (SELECT count(*) FROM meetings_agendaitem i WHERE i.meeting_id = m.id)""",
        "something done after today": """
            SELECT (SELECT count(*) FROM meetings_action WHERE created_at >= '2026-11-25'
            OR completed_at >= '2026-11-25' OR cancelled_at >= '2026-11-25')
            + (SELECT count(*) FROM careplans_assessment WHERE signed_at >= '2026-11-25')
            + (SELECT count(*) FROM careplans_careplan WHERE ratified_at >= '2026-11-25')""",
        "an action done or cancelled without its moment": """
            SELECT count(*) FROM meetings_action WHERE (status = 'done') <>
            (completed_at IS NOT NULL) OR (status = 'cancelled') <> (cancelled_at IS NOT NULL)""",
        "hospital activity after death": """
            SELECT count(*) FROM patients_hospitalactivity h JOIN patients_patient p
            ON p.id = h.patient_id WHERE h.month > p.date_of_death""",
        "a change-history row for made-up data": "SELECT count(*) FROM audit_changeevent",
    }
    assert {rule: scalar(sql) for rule, sql in broken.items()} == dict.fromkeys(broken, 0)


@pytest.mark.postgres
def test_the_shape_is_the_ceilings(db):
    result = generate()

    assert result.scale.networks == 3
    open_episodes = RegisterEntry.objects.open().count()
    assert 0.3 * 300 < open_episodes < 0.5 * 300
    discussed_twice = scalar("""
        SELECT avg((n >= 2)::int) FROM (SELECT i.patient_id, count(*) n
        FROM meetings_discussion d JOIN meetings_agendaitem i ON i.id = d.item_id GROUP BY 1) x""")
    assert 0.5 < discussed_twice < 0.9
    assert AgendaItem.objects.filter(not_reached=True).exists()
    assert Meeting.objects.filter(status="cancelled").exists()
    actions = Action.objects.count()
    assert 3 * 300 < actions < 5 * 300
    assert Action.objects.filter(status="done").count() > 0.8 * actions
    overdue = Action.objects.still_to_do().filter(due_on__lt=TODAY).count()
    assert 0.005 * actions < overdue < 0.08 * actions
    assert Action.objects.filter(status="cancelled", cancelled_at__isnull=False).exists()
    assert Action.objects.filter(owner__isnull=True, owner_organisation__isnull=False).exists()
    roles = set(Membership.objects.values_list("network__code", "role"))
    for network in Network.objects.all():
        assert {(network.code, "admin"), (network.code, "gp_chair")} <= roles
        assert User.objects.filter(username=f"bench-admin-{network.code}").exists()
        assert User.objects.get(username=f"bench-chair-{network.code}").check_password(
            generator.DEFAULT_PASSWORD
        )
    assert {"matron", "navigator", "member"} <= {role for _, role in roles}
    scores = sorted(Patient.objects.exclude(risk_score=None).values_list("risk_score", flat=True))
    assert scores[len(scores) // 2] < 30 < scores[-1]  # most low, a long tail
    assert HospitalActivity.objects.exists()


def test_the_meeting_series_scale_with_the_people_discussed():
    # The ceiling: 250,000 people in 12 networks of 20 practices.
    assert generator.meeting_series(250_000 / 12, 20) == (6, "weekly")
    # Half a million: twice the localities.
    assert generator.meeting_series(500_000 / 12, 25) == (12, "weekly")
    # A network too small for a weekly meeting of 20 has one fortnightly MDT.
    assert generator.meeting_series(100, 2) == (1, "fortnightly")
    assert generator.meeting_series(2_000, 2) == (1, "fortnightly")
    # A locality has at least one practice.
    assert generator.meeting_series(250_000, 3) == (3, "weekly")
    for people in (2_000, 5_000, 20_000, 50_000):
        series, frequency = generator.meeting_series(people, 25)
        weeks = 1 if frequency == "weekly" else 2
        a_meeting = generator.AGENDA_ITEMS_A_YEAR * people * 7 * weeks / 365.25 / series
        assert 15 < a_meeting / generator.HELD_SHARE < 45, people


@pytest.mark.postgres
def test_meetings_are_of_a_real_mdts_size(db):
    """At 6,000 people in one network: two localities meeting weekly, about
    30 people on a held meeting's agenda, each locality's next meeting
    filling, every meeting chaired by the network's GP chair."""
    result = generate(patients=6_000, networks=1)

    assert (result.scale.series_per_network, result.scale.frequency) == (2, "weekly")
    network = Network.objects.get()
    series = list(MeetingSeries.objects.filter(network=network))
    assert len(series) == 2
    assert {s.frequency for s in series} == {"weekly"}
    sizes = scalar("""
        SELECT array_agg(n ORDER BY n) FROM (SELECT count(i.id) n FROM meetings_meeting m
        LEFT JOIN meetings_agendaitem i ON i.meeting_id = m.id
        WHERE m.status = 'closed' GROUP BY m.id) x""")
    assert 15 <= sum(sizes) / len(sizes) <= 45
    assert sizes[len(sizes) // 10] >= 10  # hardly any small ones
    assert sizes[-1] <= generator.MEETING_ITEMS_MOST
    for one in series:
        meetings = one.meetings.order_by("date")
        assert {m.date.weekday() for m in meetings} == {one.first_on.weekday()}
        # Weekly, to four weeks ahead.
        assert {(b.date - a.date).days for a, b in itertools.pairwise(meetings)} == {7}
        assert meetings.filter(status="scheduled", date__gte=TODAY).exists()
    # The next meeting of each locality is filling (how full, from the days
    # since its last one): some are on an agenda already.
    assert AgendaItem.objects.filter(meeting__status="scheduled").exists()
    assert not Meeting.objects.filter(series=None).exists()
    chair = User.objects.get(username=f"bench-chair-{network.code}")
    assert set(Meeting.objects.values_list("chair", flat=True)) == {chair.pk}
    overlapping = scalar("""
        SELECT count(*) FROM meetings_meeting a JOIN meetings_meeting b
        ON a.network_id = b.network_id AND a.date = b.date AND a.id < b.id
        AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at""")
    assert overlapping == 0
    # A person is discussed at their own locality's meetings only.
    localities = scalar("""
        SELECT max(n) FROM (SELECT i.patient_id, count(DISTINCT m.series_id) n
        FROM meetings_agendaitem i JOIN meetings_meeting m ON m.id = i.meeting_id
        GROUP BY 1) x""")
    assert localities == 1


@pytest.mark.postgres
def test_the_monthly_activity_report_counts_the_generated_months(db):
    generate()
    networks = list(Network.objects.order_by("name"))

    report = monthly_activity(
        networks=networks, first=Month(2024, 11), last=Month(2026, 11), now=NOW
    )

    for key in (
        "meetings_held",
        "discussions",
        "patients_discussed",
        "new_patients",
        "referrals_received",
        "referrals_accepted",
        "assessments_initial",
        "assessments_reassessment",
        "plans_ratified",
        "plans_shared",
        "reviews_due",
        "reviews_on_time",
        "actions_created",
        "actions_completed",
        "actions_overdue",
        "attended_gp",
    ):
        assert report.value(key) > 0, key
    assert report.value("meetings_held", networks[0].pk, Month(2026, 3)) > 0
