"""Care plan review reminders: 14 days before, 7 days before and when
overdue, each once per plan version, review date and recipient, to the
episode's clinical lead and navigator; read in batches whose queries do not
grow with the plans."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplans import reminders
from careplans.models import CarePlan
from careplans.tasks import review_reminders
from mdtcare.notifications.models import Notification
from patients.models import Patient, RegisterEntry
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)
REVIEW_KINDS = ("review_due_14", "review_due_7", "review_overdue")


def _at(time_machine, day: dt.date):
    """Move the clock to noon, London time, on ``day`` (and keep it there)."""
    time_machine.move_to(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), tick=False)


@pytest.fixture(autouse=True)
def today(time_machine):
    _at(time_machine, TODAY)
    return TODAY


def _episode(practice, *, lead, navigator, status="active"):
    return RegisterEntry.objects.create(
        patient=PatientFactory(practice=practice),
        status=status,
        source="gp_practice",
        referrer_name="Dr Patel",
        reason="Falls",
        referred_on=TODAY - dt.timedelta(days=90),
        clinical_lead=lead,
        navigator=navigator,
    )


def _plan(entry, *, review_in: int, status="ratified", number=1, by=None):
    review_on = TODAY + dt.timedelta(days=review_in)
    return CarePlan.objects.create(
        patient_id=entry.patient_id,
        entry=entry,
        number=number,
        status=status,
        starts_on=min(review_on, TODAY) - dt.timedelta(days=42),
        next_review_on=review_on,
        ratified_by=by,
        ratified_at=timezone.now() if by else None,
    )


@pytest.fixture
def episode(practice_a, matron, navigator):
    return _episode(practice_a, lead=matron, navigator=navigator)


def _reminders():
    """(kind, username, event_id) of every review reminder, sorted."""
    return sorted(
        Notification.objects.filter(kind__in=REVIEW_KINDS).values_list(
            "kind", "recipient__username", "event_id"
        )
    )


def _raise():
    return reminders.review_reminders_raise()


def test_a_plan_is_reminded_14_days_before_7_days_before_and_when_overdue_once_each(
    time_machine, episode, chair
):
    plan = _plan(episode, review_in=14, by=chair)
    due = "2026-03-24"

    assert _raise().made == 2
    for day in range(1, 7):  # the job runs daily through the 14-day window
        _at(time_machine, TODAY + dt.timedelta(days=day))
        assert _raise().made == 0
    _at(time_machine, TODAY + dt.timedelta(days=7))
    assert _raise().made == 2
    for day in range(8, 15):  # …and the 7-day window, up to the review day
        _at(time_machine, TODAY + dt.timedelta(days=day))
        assert _raise().made == 0
    _at(time_machine, TODAY + dt.timedelta(days=15))
    assert _raise().made == 2
    _at(time_machine, TODAY + dt.timedelta(days=40))
    assert _raise().made == 0

    assert _reminders() == [
        ("review_due_14", "matron", f"plan:{plan.pk}:{due}:14"),
        ("review_due_14", "navigator", f"plan:{plan.pk}:{due}:14"),
        ("review_due_7", "matron", f"plan:{plan.pk}:{due}:7"),
        ("review_due_7", "navigator", f"plan:{plan.pk}:{due}:7"),
        ("review_overdue", "matron", f"plan:{plan.pk}:{due}:overdue"),
        ("review_overdue", "navigator", f"plan:{plan.pk}:{due}:overdue"),
    ]


def test_running_the_job_twice_on_one_day_adds_nothing(episode, chair, practice_a, matron):
    _plan(episode, review_in=10, by=chair)
    _plan(_episode(practice_a, lead=matron, navigator=None), review_in=3, by=chair)
    _plan(_episode(practice_a, lead=chair, navigator=matron), review_in=-30, by=chair)

    first = review_reminders.apply().get()
    second = review_reminders.apply().get()

    assert first == {"plans": 3, "batches": 1, "made": 5}
    assert second == {"plans": 3, "batches": 1, "made": 0}
    assert Notification.objects.filter(kind__in=REVIEW_KINDS).count() == 5


def test_a_plan_that_comes_into_a_window_late_gets_only_that_windows_reminder(episode, chair):
    plan = _plan(episode, review_in=5, by=chair)

    _raise()

    assert _reminders() == [
        ("review_due_7", "matron", f"plan:{plan.pk}:2026-03-15:7"),
        ("review_due_7", "navigator", f"plan:{plan.pk}:2026-03-15:7"),
    ]


def test_nothing_before_the_first_window_nor_on_the_review_day(episode, chair):
    far = _plan(episode, review_in=15, by=chair)
    _raise()
    CarePlan.objects.filter(pk=far.pk).update(next_review_on=TODAY)
    _raise()

    assert _reminders() == []


def test_a_changed_review_date_brings_new_reminders(time_machine, episode, chair):
    plan = _plan(episode, review_in=7, by=chair)
    _raise()
    # The MDT moves the review three weeks on (a new version would do the same).
    CarePlan.objects.filter(pk=plan.pk).update(next_review_on=TODAY + dt.timedelta(days=21))
    _at(time_machine, TODAY + dt.timedelta(days=8))

    assert _raise().made == 2
    assert [(kind, event) for kind, _, event in _reminders()] == [
        ("review_due_14", f"plan:{plan.pk}:2026-03-31:14"),
        ("review_due_14", f"plan:{plan.pk}:2026-03-31:14"),
        ("review_due_7", f"plan:{plan.pk}:2026-03-17:7"),
        ("review_due_7", f"plan:{plan.pk}:2026-03-17:7"),
    ]


def test_only_the_plan_in_force_of_an_open_episode_is_reminded(
    practice_a, episode, matron, navigator, chair
):
    _plan(episode, review_in=-200, status="superseded", number=1, by=chair)
    current = _plan(episode, review_in=-3, status="shared", number=2, by=chair)
    _plan(episode, review_in=-3, status="draft", number=3)
    for status in ("draft", "proposed", "closed"):
        _plan(_episode(practice_a, lead=matron, navigator=navigator), review_in=-3, status=status)
    for status in ("discharged", "stepped_down", "died"):
        entry = _episode(practice_a, lead=matron, navigator=navigator, status=status)
        _plan(entry, review_in=-3, by=chair)

    _raise()

    assert {event for _, _, event in _reminders()} == {f"plan:{current.pk}:2026-03-07:overdue"}


def test_an_older_version_left_in_force_is_not_reminded(episode, chair):
    _plan(episode, review_in=-3, number=1, by=chair)
    newest = _plan(episode, review_in=10, status="shared", number=2, by=chair)

    _raise()

    assert {event for _, _, event in _reminders()} == {f"plan:{newest.pk}:2026-03-20:14"}


def test_no_reminder_to_an_inactive_or_missing_lead_or_navigator(practice_a, chair, navigator):
    gone = UserFactory(username="gone", is_active=False)
    _plan(_episode(practice_a, lead=gone, navigator=navigator), review_in=7, by=chair)
    _plan(_episode(practice_a, lead=None, navigator=None), review_in=7, by=chair)
    same = _episode(practice_a, lead=chair, navigator=chair)
    _plan(same, review_in=7, by=chair)

    assert _raise().made == 2
    assert [user for _, user, _ in _reminders()] == ["chair", "navigator"]


def test_a_reminder_links_to_the_plan_and_is_about_its_patient(episode, chair):
    plan = _plan(episode, review_in=14, by=chair)

    _raise()

    reminder = Notification.objects.get(recipient__username="matron")
    assert reminder.link == reverse("careplans:plan", args=[plan.pk])
    assert reminder.patient_id == episode.patient_id
    assert (reminder.urgent, reminder.sent_at) == (False, None)


def test_the_windows_come_from_the_settings(settings, episode, chair, practice_a, matron):
    settings.REMINDER_WINDOWS = [7]
    _plan(episode, review_in=12, by=chair)
    soon = _plan(_episode(practice_a, lead=matron, navigator=None), review_in=6, by=chair)

    _raise()

    assert [event for _, _, event in _reminders()] == [f"plan:{soon.pk}:2026-03-16:7"]


@pytest.mark.parametrize("windows", [[21], [14, 3]])
def test_a_window_without_its_own_notification_is_refused(settings, windows):
    settings.REMINDER_WINDOWS = windows

    with pytest.raises(ImproperlyConfigured, match="REMINDER_WINDOWS"):
        _raise()


def test_the_windows_follow_each_other_without_a_gap():
    windows = reminders.review_windows([7, 14])

    assert [(w.kind, w.nearest, w.farthest) for w in windows] == [
        ("review_due_14", 8, 14),
        ("review_due_7", 1, 7),
        ("review_overdue", None, None),
    ]


# --- batches -----------------------------------------------------------------------


# Days to the review, each in a window: overdue, due in 1-7 or in 8-14 days.
REVIEW_IN = [day for day in range(-5, 15) if day != 0]


def _many_plans(practice, *, count, lead, navigator, by):
    """``count`` plans in force (half ratified, half shared), each in a
    window and in its own open episode (bulk-made: the test is about the
    job)."""
    patients = Patient.objects.bulk_create(PatientFactory.build_batch(count, practice=practice))
    entries = RegisterEntry.objects.bulk_create(
        RegisterEntry(
            patient=patient,
            status="active",
            source="gp_practice",
            referrer_name="Dr Patel",
            reason="Falls",
            referred_on=TODAY,
            clinical_lead=lead,
            navigator=navigator,
        )
        for patient in patients
    )
    CarePlan.objects.bulk_create(
        CarePlan(
            patient=entry.patient,
            entry=entry,
            status=("ratified", "shared")[n % 2],
            starts_on=TODAY - dt.timedelta(days=60),
            next_review_on=TODAY + dt.timedelta(days=REVIEW_IN[n % len(REVIEW_IN)]),
            ratified_by=by,
            ratified_at=timezone.now(),
        )
        for n, entry in enumerate(entries)
    )


def _queries_of_a_run(**kwargs):
    with CaptureQueriesContext(connection) as queries:
        run = reminders.review_reminders_raise(**kwargs)
    return run, len(queries)


def _queries_per_batch(count):
    """Queries per batch of 25 plans over ``count`` plans, all new (the
    first run) and all already reminded (every day after). Besides the
    batches, one more read finds the end of each status's plans (their
    last batch is full)."""
    Notification.objects.all().delete()
    first, first_queries = _queries_of_a_run(batch_size=25)
    again, again_queries = _queries_of_a_run(batch_size=25)
    assert first.plans == again.plans == count  # each plan read once, none missed
    assert (first.made, again.made) == (2 * count, 0)
    assert first.batches == again.batches == count // 25  # ratified ones, then shared
    return (
        (first_queries - 2) / first.batches,
        (again_queries - 2) / again.batches,
    )


def test_the_queries_per_batch_are_the_same_for_50_and_1000_plans(
    practice_a, matron, navigator, chair
):
    _many_plans(practice_a, count=50, lead=matron, navigator=navigator, by=chair)
    fifty = _queries_per_batch(50)
    _many_plans(practice_a, count=950, lead=matron, navigator=navigator, by=chair)

    thousand = _queries_per_batch(1000)

    assert thousand == fifty
    assert all(per_batch.is_integer() for per_batch in thousand)


def test_a_run_in_one_batch_takes_the_same_queries_for_50_or_1000_plans_already_reminded(
    practice_a, matron, navigator, chair, settings
):
    settings.REMINDER_BATCH_SIZE = 2000
    _many_plans(practice_a, count=50, lead=matron, navigator=navigator, by=chair)
    _raise()
    _, fifty = _queries_of_a_run()
    _many_plans(practice_a, count=950, lead=matron, navigator=navigator, by=chair)
    _raise()

    run, thousand = _queries_of_a_run()

    assert (run.plans, run.batches, run.made) == (1000, 2, 0)  # ratified ones, then shared
    assert thousand == fifty


# --- the task on a real worker -------------------------------------------------------


@pytest.fixture
def celery_worker(time_machine):
    """A real worker (as in tests/core/test_worker.py), started once the
    clock runs again from noon on TODAY: the worker and its broker need a
    running clock, and the date stays the same through the test."""
    from celery.contrib.testing.worker import start_worker

    from mdtcare.celery import app

    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC), tick=True)
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        (":memory:", "file:memorydb")
    ):
        pytest.skip("a worker thread cannot share an in-memory SQLite database")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_run_twice_on_one_day_reminds_once(
    celery_worker, practice_a, matron, navigator, chair
):
    plans = [
        _plan(_episode(practice_a, lead=matron, navigator=navigator), review_in=days, by=chair)
        for days in (14, 5, -2)
    ]

    first = review_reminders.apply_async().get(timeout=60)
    second = review_reminders.apply_async().get(timeout=60)

    assert (first["made"], second["made"]) == (6, 0)
    made = Notification.objects.filter(kind__in=REVIEW_KINDS)
    assert sorted(made.values_list("patient_id", "recipient__username")) == sorted(
        (plan.patient_id, user) for plan in plans for user in ("matron", "navigator")
    )
