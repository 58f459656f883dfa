"""Exports too large to stream at once: queued when asked for (the task sent
on commit), written by the worker with progress, kept a day for the user
who asked only, and deleted when they expire."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from openpyxl import load_workbook

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from mdtcare.celery import app
from mdtcare.reports import background, tasks
from mdtcare.reports.detail import ACTIONS_HEADER
from mdtcare.reports.models import ReportExport
from mdtcare.reports.months import Month
from meetings.models import Action
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.test_gate import _verify_second_factor
from tests.reports.builders import utc

pytestmark = pytest.mark.django_db

PAGE = "/reports/actions/export/"
API = "/api/v1/reports/actions/"
ASK = {"from": "2026-04", "to": "2026-04", "network": "north"}
Status = ReportExport.Status


@pytest.fixture(autouse=True)
def export_folder(settings, tmp_path):
    settings.REPORT_EXPORT_DIR = tmp_path / "exports"
    # Anything above 3 rows goes to the worker.
    settings.REPORT_EXPORT_INLINE_ROWS = 3
    return settings.REPORT_EXPORT_DIR


@pytest.fixture
def sent(monkeypatch):
    """The export tasks sent to the broker (none leaves this process)."""
    messages = []
    monkeypatch.setattr(
        tasks.export_run, "apply_async", lambda args, **options: messages.append(args)
    )
    return messages


@pytest.fixture
def actions(practice_a, navigator):
    """Five actions of North created in April 2026."""
    patient = PatientFactory(practice=practice_a)
    made = []
    for day in range(1, 6):
        action = Action.objects.create(
            patient=patient, what="Order a walking frame", due_on=dt.date(2026, 5, 1)
        )
        Action.objects.filter(pk=action.pk).update(created_at=utc(2026, 4, day, 9, 0))
        made.append(action)
    return made


@pytest.fixture
def other_admin(network_a):
    """Another service admin of the same network, second factor verified."""
    user = UserFactory(username="admin2")
    MembershipFactory(user=user, network=network_a, role=Membership.Role.ADMIN)
    return user


def _queued(user, network, fmt="csv") -> ReportExport:
    decision = background.export_request(
        by=user,
        kind="actions",
        fmt=fmt,
        networks=[network],
        first=Month(2026, 4),
        last=Month(2026, 4),
    )
    assert decision.queued
    return decision.export


def _rows(path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- asking ------------------------------------------------------------------------------------


def test_a_large_export_is_queued_and_its_task_sent_only_after_commit(
    client, chair, actions, sent, django_capture_on_commit_callbacks
):
    client.force_login(chair)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(PAGE, ASK)
        assert sent == []  # not while the transaction is open

    export = ReportExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reports/exports/{export.pk}/"
    assert (export.status, export.kind, export.format) == ("queued", "actions", "csv")
    assert export.requested_by == chair
    assert export.rows_total == 5 and export.rows_done == 0
    assert export.params["from"] == "2026-04" and export.params["network_codes"] == ["north"]
    assert re.fullmatch(r"[0-9a-f]{32}\.csv", export.file_name)
    assert export.expires_at > timezone.now() + dt.timedelta(hours=23)
    assert len(callbacks) == 1
    assert sent == [[str(export.pk)]]
    event = AccessEvent.objects.get()
    assert (event.what, event.patient_count) == ("report.actions.export", 0)


def test_a_broker_down_at_commit_leaves_the_export_queued_for_the_hourly_job(
    chair, network_a, actions, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **options):
        raise BrokerError("connection refused")

    monkeypatch.setattr(tasks.export_run, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        export = _queued(chair, network_a)
    export.refresh_from_db()
    assert export.status == Status.QUEUED

    requeued = []
    monkeypatch.setattr(tasks.export_run, "apply_async", lambda args, **o: requeued.append(args))
    assert background.exports_expire().requeued == 0  # too soon: it may be in the queue
    later = timezone.now() + dt.timedelta(minutes=11)
    assert background.exports_expire(now=later).requeued == 1
    assert requeued == [[str(export.pk)]]


# --- writing -----------------------------------------------------------------------------------


def test_the_worker_writes_the_whole_file_and_saves_progress_with_single_updates(
    chair, network_a, actions, export_folder, monkeypatch
):
    export = _queued(chair, network_a)
    monkeypatch.setattr(background, "PROGRESS_EVERY", 2)

    with CaptureQueriesContext(connection) as queries:
        assert tasks.export_run(str(export.pk)) == Status.READY

    progress = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('UPDATE "reports_reportexport" SET "rows_done"')
    ]
    assert len(progress) == 2  # after rows 2 and 4: one UPDATE of two columns each
    assert all(
        '"status"' not in sql.split(" WHERE ")[0] and '"params"' not in sql for sql in progress
    )
    export.refresh_from_db()
    assert export.status == Status.READY
    assert (export.rows_done, export.rows_total) == (5, 5)
    assert export.finished_at is not None
    assert export.expires_at == export.finished_at + dt.timedelta(hours=24)
    rows = _rows(export_folder / export.file_name)
    assert rows[0] == ACTIONS_HEADER
    assert [row[3] for row in rows[1:]] == [f"2026-04-0{day}" for day in range(1, 6)]
    assert sorted(path.name for path in export_folder.iterdir()) == [export.file_name]


def test_an_xlsx_export_is_a_workbook(chair, network_a, actions, export_folder):
    export = _queued(chair, network_a, fmt="xlsx")

    background.export_run(export_id=export.pk)

    sheet = load_workbook(export_folder / export.file_name, read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == ACTIONS_HEADER
    assert len(values) == 6


def test_an_export_run_twice_is_written_once(chair, network_a, actions, export_folder):
    export = _queued(chair, network_a)
    assert background.export_run(export_id=export.pk) == Status.READY
    written = (export_folder / export.file_name).stat().st_mtime_ns

    assert background.export_run(export_id=export.pk) is None

    assert (export_folder / export.file_name).stat().st_mtime_ns == written
    export.refresh_from_db()
    assert export.status == Status.READY


def test_an_export_another_worker_is_writing_is_left_to_it_unless_that_worker_was_lost(
    chair, network_a, actions
):
    export = _queued(chair, network_a)
    now = timezone.now()
    ReportExport.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, started_at=now, updated_at=now, rows_done=2
    )

    assert background.export_run(export_id=export.pk) is None
    export.refresh_from_db()
    assert (export.status, export.rows_done) == (Status.RUNNING, 2)

    # No progress for longer than STALE_AFTER: its worker died; a redelivered
    # task takes it over.
    long_ago = now - background.STALE_AFTER - dt.timedelta(seconds=1)
    ReportExport.objects.filter(pk=export.pk).update(started_at=long_ago, updated_at=long_ago)
    assert background.export_run(export_id=export.pk) == Status.READY


def test_a_lost_run_is_failed_by_the_hourly_job(chair, network_a, actions):
    export = _queued(chair, network_a)
    long_ago = timezone.now() - dt.timedelta(minutes=30)
    ReportExport.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, started_at=long_ago, updated_at=long_ago
    )

    assert background.exports_expire().failed == 1

    export.refresh_from_db()
    assert (export.status, export.error) == (Status.FAILED, background.LOST_MESSAGE)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_failure_is_recorded_with_a_message_and_leaves_no_file(
    chair, network_a, actions, export_folder, monkeypatch, fmt
):
    export = _queued(chair, network_a, fmt=fmt)
    monkeypatch.setattr(background, "PROGRESS_EVERY", 1)

    class Breaking:
        """An export whose database goes away at its third row."""

        title, header = "Broken", ["n"]

        def rows(self):
            for number in range(1, 6):
                if number == 3:
                    raise RuntimeError("the database went away")
                yield [number]

    monkeypatch.setitem(background.DETAIL_EXPORTS, "actions", lambda *args: Breaking())

    assert background.export_run(export_id=export.pk) == Status.FAILED

    export.refresh_from_db()
    assert export.status == Status.FAILED
    assert export.error == background.FAILED_MESSAGE
    assert export.rows_done == 2  # how far it got
    assert export.finished_at is not None
    assert list(export_folder.iterdir()) == []  # no half file, no temporary file


def test_an_export_whose_user_lost_their_reporting_role_is_not_written(
    chair, network_a, actions, export_folder
):
    export = _queued(chair, network_a)
    Membership.objects.filter(user=chair).update(role=Membership.Role.MEMBER)

    assert background.export_run(export_id=export.pk) == Status.FAILED

    export.refresh_from_db()
    assert export.error == background.NOT_ALLOWED_MESSAGE
    assert list(export_folder.iterdir()) == []


# --- expiry ------------------------------------------------------------------------------------


def test_expired_exports_and_their_files_are_deleted_and_stray_files_tidied(
    chair, network_a, actions, export_folder
):
    old, fresh = _queued(chair, network_a), _queued(chair, network_a)
    for export in (old, fresh):
        background.export_run(export_id=export.pk)
    ReportExport.objects.filter(pk=old.pk).update(expires_at=timezone.now())
    stray = export_folder / "0123abcd.csv.5f5f5f5f.part"  # a killed worker's half file
    stray.write_text("half")
    twenty_minutes_ago = (timezone.now() - dt.timedelta(minutes=20)).timestamp()
    os.utime(stray, (twenty_minutes_ago, twenty_minutes_ago))

    run = tasks.exports_expire()

    assert run == {"deleted": 1, "failed": 0, "requeued": 0, "stray_files": 1}
    assert list(ReportExport.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert sorted(path.name for path in export_folder.iterdir()) == [fresh.file_name]


def test_the_expiry_job_runs_hourly_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["report-exports-expire"]
    assert entry["task"] == "reports.exports_expire"
    assert entry["schedule"].minute == {15} and len(entry["schedule"].hour) == 24
    assert {"reports.export_run", "reports.exports_expire"} <= set(app.tasks)


# --- pages -------------------------------------------------------------------------------------


def _ready(chair, network_a) -> ReportExport:
    export = _queued(chair, network_a)
    background.export_run(export_id=export.pk)
    export.refresh_from_db()
    return export


def test_the_user_who_asked_downloads_the_file(client, chair, network_a, actions):
    export = _ready(chair, network_a)
    client.force_login(chair)

    response = client.get(f"/reports/exports/{export.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="actions-2026-04-to-2026-04.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))
    assert len(rows) == 6
    event = AccessEvent.objects.get()
    assert (event.what, event.patient_count) == ("report.export.download", 0)
    assert "North" in event.reason


def test_another_admin_of_the_same_network_gets_404_everywhere(
    client, chair, other_admin, network_a, actions
):
    export = _ready(chair, network_a)
    client.force_login(other_admin)
    _verify_second_factor(client, other_admin)

    for address in (
        f"/reports/exports/{export.pk}/",
        f"/reports/exports/{export.pk}/download/",
        f"/api/v1/reports/exports/{export.pk}/",
        f"/api/v1/reports/exports/{export.pk}/download/",
    ):
        assert client.get(address).status_code == 404, address
    assert client.get(f"/reports/exports/{export.pk}/", HTTP_HX_REQUEST="true").status_code == 404
    assert export.pk not in [e.pk for e in client.get("/reports/exports/").context["exports"]]
    assert AccessEvent.objects.filter(what__startswith="report.export.").count() == 1  # the list


def test_a_download_after_expiry_is_refused_with_a_page_saying_so(
    client, chair, network_a, actions
):
    export = _ready(chair, network_a)
    ReportExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    client.force_login(chair)

    response = client.get(f"/reports/exports/{export.pk}/download/")
    api = client.get(f"/api/v1/reports/exports/{export.pk}/download/")

    assert response.status_code == 410
    assert "This export is no longer available" in response.content.decode()
    assert "/reports/actions/export/?from=2026-04&amp;to=2026-04&amp;network=north" in (
        response.content.decode()
    )
    assert api.status_code == 410
    assert api.json() == {"detail": "The export has expired: ask for it again"}
    assert not AccessEvent.objects.exists()
    # Once the hourly job has run, it is simply not there.
    background.exports_expire()
    assert client.get(f"/reports/exports/{export.pk}/download/").status_code == 404


def test_a_download_before_the_file_is_ready_goes_to_the_status_page(
    client, chair, network_a, actions
):
    export = _queued(chair, network_a)
    client.force_login(chair)

    response = client.get(f"/reports/exports/{export.pk}/download/")

    assert response.status_code == 302
    assert response["Location"] == f"/reports/exports/{export.pk}/"


def test_the_status_page_shows_progress_and_polls_while_running(client, chair, network_a, actions):
    export = _queued(chair, network_a)
    ReportExport.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, rows_done=1200, rows_total=5000, started_at=timezone.now()
    )
    client.force_login(chair)

    page = client.get(f"/reports/exports/{export.pk}/").content.decode()
    partial = client.get(f"/reports/exports/{export.pk}/", HTTP_HX_REQUEST="true")

    assert "<h1>Actions detail export</h1>" in page
    assert "<noscript>" in page and f'href="/reports/exports/{export.pk}/">Refresh</a>' in page
    html = partial.content.decode()
    assert "<html" not in html
    assert f'hx-get="/reports/exports/{export.pk}/"' in html
    assert 'hx-trigger="every 2s"' in html
    assert '<progress id="export-progress-bar"' in html
    assert 'max="5000" value="1200">24%</progress>' in html
    assert "1,200 of 5,000 rows" in html
    assert [event.what for event in AccessEvent.objects.order_by("at")] == [
        "report.export.status",
        "report.export.status",
    ]


def test_the_status_stops_polling_and_offers_the_download_when_ready(
    client, chair, network_a, actions
):
    export = _ready(chair, network_a)
    client.force_login(chair)

    html = client.get(f"/reports/exports/{export.pk}/", HTTP_HX_REQUEST="true").content.decode()

    assert "hx-trigger" not in html
    assert f'href="/reports/exports/{export.pk}/download/"' in html
    assert ">Download<" in html
    assert "5 rows." in html


def test_a_failed_export_shows_its_message_and_try_again(client, chair, network_a, actions):
    export = _queued(chair, network_a)
    ReportExport.objects.filter(pk=export.pk).update(
        status=Status.FAILED, error=background.FAILED_MESSAGE
    )
    client.force_login(chair)

    html = client.get(f"/reports/exports/{export.pk}/").content.decode()

    assert "The export failed" in html
    assert background.FAILED_MESSAGE in html
    assert "hx-trigger" not in html
    assert (
        'href="/reports/actions/export/?from=2026-04&amp;to=2026-04&amp;network=north&amp;'
        'format=csv"'
    ) in html
    assert "Try again" in html


def test_your_exports_lists_the_last_day_newest_first(
    client, chair, other_admin, network_a, actions, monkeypatch
):
    from mdtcare.reports.views import exports as export_views

    monkeypatch.setattr(export_views, "PAGE_SIZE", 2)
    first, second, third = (_queued(chair, network_a) for _ in range(3))
    for number, export in enumerate((first, second, third)):
        ReportExport.objects.filter(pk=export.pk).update(
            created_at=timezone.now() - dt.timedelta(hours=3 - number)
        )
    expired = _queued(chair, network_a)
    ReportExport.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    _queued(other_admin, network_a)
    client.force_login(chair)

    page_one = client.get("/reports/exports/")
    page_two = client.get("/reports/exports/", {"page": 2})

    assert [e.pk for e in page_one.context["exports"]] == [third.pk, second.pk]
    assert [e.pk for e in page_two.context["exports"]] == [first.pk]
    assert "Page 2 of 2" in page_one.content.decode()
    assert AccessEvent.objects.filter(what="report.export.list").count() == 2


# --- the API -----------------------------------------------------------------------------------


def test_the_api_queues_a_large_export_and_reports_its_status_then_the_file(
    client, chair, actions, sent, django_capture_on_commit_callbacks
):
    client.force_login(chair)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(API, {**ASK, "format": "xlsx"})

    assert response.status_code == 202
    export = ReportExport.objects.get()
    status_url = f"http://testserver/api/v1/reports/exports/{export.pk}/"
    assert response.json() == {
        "id": str(export.pk),
        "kind": "actions",
        "format": "xlsx",
        "status": "queued",
        "rows_done": 0,
        "rows_total": 5,
        "error": "",
        "created_at": response.json()["created_at"],
        "finished_at": None,
        "expires_at": response.json()["expires_at"],
        "status_url": status_url,
        "download_url": None,
    }
    assert response["Location"] == status_url
    assert sent == [[str(export.pk)]]

    tasks.export_run(*sent[0])
    status = client.get(status_url).json()
    assert (status["status"], status["rows_done"], status["rows_total"]) == ("ready", 5, 5)
    assert status["download_url"] == status_url + "download/"
    download = client.get(status["download_url"])
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert sheet.max_row == 6
    assert [event.what for event in AccessEvent.objects.order_by("at")] == [
        "report.actions.export",
        "report.export.status",
        "report.export.download",
    ]


def test_the_api_download_of_an_export_not_ready_is_409(client, chair, network_a, actions):
    export = _queued(chair, network_a)
    client.force_login(chair)

    response = client.get(f"/api/v1/reports/exports/{export.pk}/download/")

    assert response.status_code == 409
    assert response.json() == {"detail": "The export is not ready: it is waiting to start"}
