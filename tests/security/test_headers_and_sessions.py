"""Security headers on every kind of response, and the life of a session:
a new key at log-in, the end of every session of a deactivated user, and
the idle and absolute timeouts (issue 10, item 4; ARCHITECTURE.md
"Security").

Responses are requested over HTTPS with the production values of the
settings the demo and the tests relax (HSTS, secure cookies, the redirect
to HTTPS), so that what is checked is what a browser gets in production.
"""

import datetime as dt
import time

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from mdtcare.accounts import services
from mdtcare.core.demo import _service_admin_group
from tests.conftest import PASSWORD
from tests.factories import PatientFactory
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db

HSTS_SECONDS = 31536000
UNKNOWN_ID = "7d0d5a8e-0000-4000-8000-000000000000"


@pytest.fixture(autouse=True)
def production_security(settings):
    """What settings.py gives outside the demo (``_local`` false)."""
    settings.SECURE_HSTS_SECONDS = HSTS_SECONDS
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


class HttpsClient(Client):
    """A browser on HTTPS: every request it makes is secure."""

    def generic(self, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


def https_client(**kwargs) -> Client:
    return HttpsClient(**kwargs)


@pytest.fixture
def https():
    return https_client()


@pytest.fixture
def patient(practice_a):
    return PatientFactory(practice=practice_a, family_name="Okafor", given_name="Mary")


# --- the headers ----------------------------------------------------------------------------


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def assert_security_headers(response, *, no_store: bool = True) -> None:
    where = f"{response.request['PATH_INFO']} ({response.status_code})"
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {where}"
    assert "Content-Security-Policy-Report-Only" not in response.headers, where
    directives = csp_directives(policy)
    for name in ("script-src", "script-src-elem", "script-src-attr"):
        sources = directives.get(
            name, directives.get("default-src", []) if name == "script-src" else []
        )
        assert "'unsafe-inline'" not in sources, f"{name} allows inline scripts on {where}"
        assert "'unsafe-eval'" not in sources, f"{name} allows eval on {where}"
        assert "*" not in sources, where
    assert "script-src" in directives or "default-src" in directives, where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    hsts = response.headers.get("Strict-Transport-Security", "")
    assert f"max-age={HSTS_SECONDS}" in hsts, f"no HSTS on {where}"
    assert "includeSubDomains" in hsts, where
    if no_store:
        assert response.headers.get("Cache-Control") == "no-store", where


def _login(client, user):
    client.force_login(user)
    if user.is_staff:
        _verify_second_factor(client, user)


def _get(client, url, **kwargs):
    response = client.get(url, **kwargs)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


# (name, persona or None, url builder, expected status). Pages of each kind:
# the log-in page, lists, a patient's record, a form, an export, the admin,
# the API (lists, a record, its schema and docs), and the errors.
RESPONSES = [
    ("log-in page", None, lambda p: reverse("accounts:login"), 200),
    ("page for the anonymous", None, lambda p: reverse("patients:list"), 302),
    ("health check", None, lambda p: reverse("healthz"), 200),
    ("home", "matron", lambda p: reverse("home"), 200),
    ("register", "matron", lambda p: reverse("patients:list"), 200),
    ("patient record", "matron", lambda p: reverse("patients:detail", args=[p.pk]), 200),
    ("patient form", "matron", lambda p: reverse("patients:edit", args=[p.pk]), 200),
    ("register export", "matron", lambda p: reverse("patients:export"), 200),
    ("worklist", "navigator", lambda p: reverse("meetings:worklist"), 200),
    ("meetings", "chair", lambda p: reverse("meetings:meeting_list"), 200),
    ("notifications", "matron", lambda p: reverse("notifications:list"), 200),
    ("account", "matron", lambda p: reverse("accounts:account"), 200),
    ("admin", "admin", lambda p: reverse("admin:index"), 200),
    ("404 page", "matron", lambda p: "/no-such-page/", 404),
    ("404 for another network's patient", "outsider", lambda p: f"/patients/{p.pk}/", 404),
    ("403 page", "outsider", lambda p: reverse("reports:monthly_activity"), 403),
    ("API list", "matron", lambda p: reverse("patient-list"), 200),
    ("API record", "matron", lambda p: reverse("patient-detail", args=[p.pk]), 200),
    ("API 404", "outsider", lambda p: reverse("patient-detail", args=[p.pk]), 404),
    ("API unauthenticated", None, lambda p: reverse("patient-list"), 403),
    ("API schema", "matron", lambda p: reverse("api-schema"), 200),
    ("API docs", "matron", lambda p: reverse("api-docs"), 200),
]


@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [pytest.param(persona, url, status, id=name) for name, persona, url, status in RESPONSES],
)
def test_every_kind_of_response_carries_the_security_headers(
    https, personas, patient, persona, url, status
):
    if persona is not None:
        _login(https, getattr(personas, persona))

    response = _get(https, url(patient))

    assert response.status_code == status
    assert_security_headers(response)


def test_a_refused_form_post_carries_the_security_headers(matron):
    client = https_client(enforce_csrf_checks=True)

    response = client.post(reverse("accounts:login"), {"username": "matron", "password": PASSWORD})

    assert response.status_code == 403
    assert_security_headers(response)


def test_an_api_refusal_for_the_role_carries_the_security_headers(https, matron):
    https.force_login(matron)

    response = https.post(reverse("risk-import-list"), {})

    assert response.status_code == 403
    assert_security_headers(response)


def test_the_swagger_page_relaxes_styles_only(https, matron):
    https.force_login(matron)

    directives = csp_directives(_get(https, reverse("api-docs"))["Content-Security-Policy"])

    assert directives["script-src"] == ["'self'"]


def test_plain_http_is_sent_to_https(matron):
    response = Client().get(reverse("accounts:login"))

    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_static_files_carry_the_transport_headers(https):
    response = _get(https, f"{django_settings.STATIC_URL}css/mdtcare.css")

    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert f"max-age={HSTS_SECONDS}" in response.headers["Strict-Transport-Security"]


def test_static_files_carry_csp_and_frame_denial(https):
    response = _get(https, f"{django_settings.STATIC_URL}css/mdtcare.css")

    assert "Content-Security-Policy" in response.headers
    assert response.headers.get("X-Frame-Options") == "DENY"


# --- a new session key at log-in ------------------------------------------------------------


def _form_login(client, username, password=PASSWORD):
    """Through the real log-in page, with its CSRF token, as a browser does."""
    client.get(reverse("accounts:login"))
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password, "csrfmiddlewaretoken": token},
        # Over HTTPS, Django's CSRF check wants the same-origin Referer a
        # browser sends (the Referrer-Policy is same-origin).
        HTTP_REFERER=f"https://testserver{reverse('accounts:login')}",
    )


def test_log_in_through_the_form_gives_a_new_session_key(matron):
    cookie = django_settings.SESSION_COOKIE_NAME
    client = https_client(enforce_csrf_checks=True)
    # A session key an attacker planted before the log-in (session fixation).
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    client.cookies[cookie] = planted.session_key

    response = _form_login(client, "matron")

    assert response.status_code == 302
    after = response.cookies[cookie]
    assert after.value != planted.session_key
    assert after["httponly"] and after["secure"] and after["samesite"] == "Lax"
    assert not Session.objects.filter(session_key=planted.session_key).exists()
    assert _get(client, reverse("home")).status_code == 200
    attacker = https_client()
    attacker.cookies[cookie] = planted.session_key
    assert _get(attacker, reverse("home")).status_code == 302


# --- deactivation ends every session --------------------------------------------------------


def _sessions_of(user) -> int:
    return sum(
        session.get_decoded().get("_auth_user_id") == str(user.pk)
        for session in Session.objects.all()
    )


def test_deactivating_a_user_ends_all_their_sessions_and_their_token(matron, chair):
    laptop, phone, colleague = https_client(), https_client(), https_client()
    _form_login(laptop, "matron")
    _form_login(phone, "matron")
    _form_login(colleague, "chair")
    token = Token.objects.create(user=matron)
    assert _sessions_of(matron) == 2

    services.user_deactivate(user=matron, by=None)

    assert _sessions_of(matron) == 0
    assert _sessions_of(chair) == 1
    for client in (laptop, phone):
        assert _get(client, reverse("home")).status_code == 302
        assert _get(client, reverse("patient-list")).status_code in (401, 403)
    api = https_client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert _get(api, reverse("patient-list")).status_code in (401, 403)
    assert _get(colleague, reverse("home")).status_code == 200


def test_the_admin_action_deactivates_and_ends_the_sessions(admin_user, matron):
    victim = https_client()
    _form_login(victim, "matron")
    admin_user.groups.add(_service_admin_group())
    admin = https_client()
    _login(admin, admin_user)

    response = admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate", "_selected_action": [str(matron.pk)]},
    )

    assert response.status_code == 302
    matron.refresh_from_db()
    assert not matron.is_active
    assert _sessions_of(matron) == 0
    assert _get(victim, reverse("home")).status_code == 302
    assert _get(admin, reverse("admin:index")).status_code == 200


def test_a_user_made_inactive_another_way_is_refused_on_the_next_request(matron):
    """Unticking "active" on the admin's change form saves the user without
    the service: Django refuses an inactive user's session on every request."""
    client = https_client()
    _form_login(client, "matron")

    matron.is_active = False
    matron.save(update_fields=["is_active"])

    assert _get(client, reverse("home")).status_code == 302
    assert _get(client, reverse("patient-list")).status_code in (401, 403)


# --- idle and absolute timeouts -------------------------------------------------------------

# A whole second: what the session stores (its expiry, the log-in time) is
# read with no sub-second slack either way.
START = int(time.time())


def test_the_timeouts_are_the_ones_the_architecture_decided():
    assert django_settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert django_settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60
    assert django_settings.SESSION_COOKIE_AGE == django_settings.SESSION_IDLE_TIMEOUT
    assert django_settings.SESSION_SAVE_EVERY_REQUEST


@pytest.mark.parametrize(
    ("url", "logged_out"),
    [
        pytest.param(lambda: reverse("home"), (302,), id="page"),
        pytest.param(lambda: reverse("patient-list"), (401, 403), id="api"),
    ],
)
def test_the_idle_timeout_ends_a_quiet_session_and_not_a_busy_one(matron, url, logged_out):
    idle = django_settings.SESSION_IDLE_TIMEOUT
    client = https_client()
    with time_machine.travel(START, tick=False) as traveller:
        _form_login(client, "matron")
        # Each request renews the idle timer: just under it, twice in a row.
        traveller.shift(idle - 1)
        assert _get(client, url()).status_code == 200
        traveller.shift(idle - 1)
        assert _get(client, url()).status_code == 200
        # Then just over it.
        traveller.shift(idle + 1)
        response = _get(client, url())

    assert response.status_code in logged_out
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("url", "logged_out"),
    [
        pytest.param(lambda: reverse("home"), (302,), id="page"),
        pytest.param(lambda: reverse("patient-list"), (401,), id="api"),
    ],
)
def test_the_absolute_timeout_ends_a_busy_session_after_12_hours(matron, url, logged_out):
    absolute = django_settings.SESSION_ABSOLUTE_TIMEOUT
    step = django_settings.SESSION_IDLE_TIMEOUT - 5 * 60
    client = https_client()
    with time_machine.travel(START, tick=False) as traveller:
        _form_login(client, "matron")
        # Busy all day, a request every 25 minutes, never nesting travels.
        for at in range(step, absolute, step):
            traveller.move_to(START + at)
            assert _get(client, url()).status_code == 200, dt.timedelta(seconds=at)
        traveller.move_to(START + absolute - 1)
        assert _get(client, url()).status_code == 200
        traveller.move_to(START + absolute + 1)
        response = _get(client, url())
        after = _get(client, url())

    assert response.status_code in logged_out
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("accounts:login"))
    # Logged out for good, not just turned away once.
    assert after.status_code in (*logged_out, 401, 403)
    assert _sessions_of(matron) == 0
