"""The health check, error pages and the headers every response carries."""

import subprocess
import sys

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_broker_is_down(client, settings):
    from mdtcare.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous

    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"


def test_pages_need_a_log_in(client):
    response = client.get(reverse("patients:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_unknown_page_is_the_nhs_styled_404(client, matron):
    client.force_login(matron)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "nhsuk-header" in response.text


def test_every_page_has_the_security_headers(client, matron):
    client.force_login(matron)

    response = client.get(reverse("home"))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"


def test_the_home_page_names_the_network_and_the_role(client, navigator):
    client.force_login(navigator)

    response = client.get(reverse("home"))

    assert "Network: North (Care navigator)" in response.text
    assert "No referrals are waiting." in response.text


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "mdtcare.settings",
        "SECRET_KEY": "k" * 30 + "Production-Like-Secret-Key-0123456789!",
        "ALLOWED_HOSTS": "mdtcare.example.nhs.uk",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("persona", "links"),
    [
        (
            "matron",
            ["My caseload", "My actions", "Assessments", "Care plans", "Register", "Refer someone"],
        ),
        ("chair", ["Home", "Meetings", "My actions", "Care plans", "Register", "Refer someone"]),
        (
            "navigator",
            [
                "Today",
                "Referrals",
                "Worklist",
                "My actions",
                "Meetings",
                "Care plans",
                "Register",
                "Case finding",
            ],
        ),
        ("outsider", ["Home", "My actions", "Register", "Refer someone"]),
    ],
)
def test_navigation_follows_the_role(client, personas, persona, links):
    client.force_login(getattr(personas, persona))

    response = client.get(reverse("home"))

    nav = response.text.split('aria-label="Menu"')[1].split("</nav>")[0]
    shown = [label for label in links if f">{label}<" in nav]
    assert shown == links
    assert nav.count('class="nhsuk-header__navigation-link"') == len(links)


def test_a_user_in_two_networks_can_change_network(client, matron, network_b):
    from mdtcare.accounts.models import Membership

    Membership.objects.create(user=matron, network=network_b, role=Membership.Role.MEMBER)
    client.force_login(matron)
    assert "Network: North (Community matron)" in client.get(reverse("home")).text

    client.post(reverse("accounts:network_choose"), {"network": str(network_b.pk)})

    assert "Network: South (MDT member)" in client.get(reverse("home")).text


def test_a_user_cannot_choose_a_network_they_are_not_in(client, matron, network_b):
    client.force_login(matron)

    response = client.post(reverse("accounts:network_choose"), {"network": str(network_b.pk)})

    assert response.status_code == 400


def test_the_500_page_is_nhs_styled(rf):
    from mdtcare.core.views import error_500

    request = rf.get("/")
    response = error_500(request)

    assert response.status_code == 500
    assert b"Sorry, there is a problem with the service" in response.content


def test_log_lines_are_json_with_the_request_id():
    import json
    import logging

    from mdtcare.core.logging import JsonFormatter, RequestIdFilter

    record = logging.LogRecord("mdtcare", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "hello there"
    assert line["level"] == "INFO"
    assert "request_id" in line


def test_the_matrons_home_lists_her_drafts_and_audits_it(client, matron, practice_a):
    from django.utils import timezone

    from careplans.models import Assessment
    from mdtcare.audit.models import AccessEvent
    from tests.factories import PatientFactory

    patient = PatientFactory(practice=practice_a, family_name="Okafor", given_name="Mary")
    draft = Assessment.objects.create(
        patient=patient, kind="initial", assessor=matron, assessed_on=timezone.localdate()
    )
    client.force_login(matron)

    response = client.get(reverse("home"))

    assert reverse("careplans:assessment", args=[draft.pk]) in response.text
    assert "OKAFOR, Mary" in response.text
    event = AccessEvent.objects.get()
    assert (event.what, event.patient_count) == ("home.caseload", 1)


def test_the_chairs_home_shows_the_next_meetings(client, chair, navigator, network_a):
    import datetime as dt

    from django.utils import timezone

    from meetings.services import meeting_schedule

    meeting = meeting_schedule(
        by=navigator,
        network=network_a,
        date=timezone.localdate() + dt.timedelta(days=3),
        starts_at=dt.time(9),
        ends_at=dt.time(11),
    ).meetings[0]
    client.force_login(chair)

    response = client.get(reverse("home"))

    assert reverse("meetings:meeting", args=[meeting.pk]) in response.text
    assert "0 on the agenda, not published yet" in response.text


@pytest.mark.django_db
def test_the_apps_database_sessions_run_without_jit():
    """JIT compilation is off for the application's PostgreSQL sessions
    (docs/decisions/0009)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


@pytest.mark.django_db
def test_a_nul_character_is_refused_with_400_before_any_view(client, navigator):
    """PostgreSQL can neither store nor compare a NUL: in a search, a filter
    or a JSON body it is refused up front, not a server error."""
    client.force_login(navigator)

    page = client.get("/patients/", {"q": "Smi\x00th"})
    api = client.get("/api/v1/patients/", {"network": "\x00"})
    body = client.post(
        "/api/v1/patients/", data='{"given_name": "A\\u0000"}', content_type="application/json"
    )

    assert page.status_code == 400 and "NUL" in page.text
    assert api.status_code == 400 and "NUL" in api.json()["detail"]
    assert body.status_code == 400 and "NUL" in body.json()["detail"]
    assert client.get("/patients/", {"q": "Smith"}).status_code == 200
