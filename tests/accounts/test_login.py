"""Log-in, lockout, sessions and two-factor, as ARCHITECTURE.md "Security" says."""

import time

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from mdtcare.accounts import services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

GENERIC_ERROR = "Enter a correct username and password. Both are case-sensitive."


def _login(client, username, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


@pytest.mark.parametrize(
    ("persona", "heading"),
    [
        ("matron", "My caseload"),
        ("chair", "Meetings"),
        ("navigator", "Today"),
        ("outsider", "Home"),
    ],
)
def test_each_role_logs_in_and_lands_on_its_home_page(client, personas, persona, heading):
    response = _login(client, persona)

    assert response.status_code == 302
    home = client.get(response["Location"])
    assert f"<h1>{heading}</h1>" in home.text


def test_admin_must_set_up_two_factor_before_anything_else(client, admin_user, settings):
    settings.TWO_FACTOR_REQUIRED_FOR = "admins"
    _login(client, "admin")

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:two_factor")
    setup = client.get(reverse("accounts:two_factor"))
    assert "Set up your authenticator app" in setup.text
    assert "<svg" in setup.text


def test_admin_with_a_verified_code_reaches_the_admin_home(client, admin_user, settings):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.TWO_FACTOR_REQUIRED_FOR = "admins"
    _login(client, "admin")
    client.get(reverse("accounts:two_factor"))  # makes the unconfirmed device
    device = TOTPDevice.objects.get(user=admin_user)

    wrong = client.post(reverse("accounts:two_factor"), {"token": "000000"})
    # django-otp makes the next try wait a little after a wrong code.
    with time_machine.travel(time.time() + 5, tick=False):
        right = client.post(
            reverse("accounts:two_factor"), {"token": f"{totp(device.bin_key):06d}"}
        )

    assert "The security code is not right" in wrong.text
    assert right.status_code == 302
    assert "<h1>Activity</h1>" in client.get(reverse("home")).text
    device.refresh_from_db()
    assert device.confirmed


def test_two_factor_is_not_asked_when_switched_off(client, admin_user, settings):
    settings.TWO_FACTOR_REQUIRED_FOR = "off"
    _login(client, "admin")

    assert "<h1>Activity</h1>" in client.get(reverse("home")).text


def test_wrong_password_and_unknown_user_get_the_same_message(client, matron):
    wrong_password = _login(client, "matron", "not-the-password")
    unknown_user = _login(client, "nobody-here", "not-the-password")

    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert GENERIC_ERROR in response.text
        assert "There is a problem" in response.text


def test_empty_fields_say_what_to_enter(client):
    response = _login(client, "", "")

    assert "Enter your username" in response.text
    assert "Enter your password" in response.text
    assert 'href="#id_username"' in response.text


def test_a_10kb_password_is_refused_cleanly(client, matron):
    response = _login(client, "matron", "x" * 10_240)

    assert response.status_code == 200
    assert GENERIC_ERROR in response.text


def test_the_sixth_wrong_password_locks_the_account(client, matron):
    for _ in range(5):
        assert _login(client, "matron", "wrong-password").status_code == 200

    sixth = _login(client, "matron", "wrong-password")
    right_password_now = _login(client, "matron")

    assert sixth.status_code == 429
    assert "Too many attempts to log in" in sixth.text
    assert right_password_now.status_code == 429


def test_the_lock_ends_after_the_cool_off(client, matron):
    for _ in range(6):
        _login(client, "matron", "wrong-password")

    with time_machine.travel(time.time() + 16 * 60, tick=False):
        response = _login(client, "matron")

    assert response.status_code == 302


def test_a_missing_csrf_token_gets_a_clear_page(matron):
    client = Client(enforce_csrf_checks=True)

    response = _login(client, "matron")

    assert response.status_code == 403
    assert "Your form could not be sent" in response.text


def test_log_in_gives_a_new_session_key(client, matron):
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key

    _login(client, "matron")

    assert client.session.session_key != before


def test_deactivating_a_user_ends_their_sessions(client, matron):
    _login(client, "matron")
    assert client.get(reverse("home")).status_code == 200

    services.user_deactivate(user=matron)

    assert not Session.objects.exists()
    assert client.get(reverse("home")).status_code == 302


def test_idle_session_ends_after_30_minutes(client, matron):
    _login(client, "matron")
    with time_machine.travel(time.time() + 29 * 60, tick=False):
        assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(time.time() + 29 * 60 + 31 * 60, tick=False):
        assert client.get(reverse("home")).status_code == 302


def test_active_session_ends_12_hours_after_log_in(client, matron):
    _login(client, "matron")
    start = time.time()
    # Busy all day: a request every 20 minutes keeps the idle timer fresh.
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(start + minutes * 60, tick=False):
            assert client.get(reverse("home")).status_code == 200

    with time_machine.travel(start + 12 * 3600 + 60, tick=False):
        response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_demo_accounts_cannot_log_in_outside_demo_mode(client, matron, settings):
    matron.is_demo = True
    matron.save()
    settings.DEMO_MODE = False

    response = _login(client, "matron")

    assert response.status_code == 200
    assert "Demo accounts can only log in when the demo is running." in response.text


def test_log_out_ends_the_session(client, matron):
    _login(client, "matron")

    response = client.post(reverse("accounts:logout"))

    assert "You have logged out" in response.text
    assert client.get(reverse("home")).status_code == 302


def test_password_reset_sends_a_link_without_revealing_accounts(client, matron, mailoutbox):
    known = client.post(reverse("accounts:password_reset"), {"email": matron.email})
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.nhs.uk"})

    assert known["Location"] == unknown["Location"] == reverse("accounts:password_reset_done")
    [message] = mailoutbox
    assert message.to == [matron.email]
    assert "/account/password-reset/" in message.body
