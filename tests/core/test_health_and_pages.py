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
