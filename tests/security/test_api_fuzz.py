"""API fuzzing with schemathesis (issue 10, item 2).

The OpenAPI schema is loaded from the app itself (``/api/v1/schema/`` through
WSGI, no server process). Every operation is fuzzed with at least
``EXAMPLES_PER_OPERATION`` generated cases, positive and negative
(schemathesis' generation mode "all"), with a fixed seed and derandomized
Hypothesis, plus schemathesis' explicit-example and coverage cases. Each case
is sent with ``Authorization: Token …`` as one of ``ROLES``, chosen from a
stable hash of the case, so every operation is tried by every role.

The world is the demo data set (North and South: patients, register entries,
assessments, care plans with goals and teams, meetings, actions) topped up
with notifications, risk and hospital-activity imports and report exports for
each persona. Path parameters of positive cases are mapped to real ids most of
the time (``REAL_ID_SHARE``), so that cases reach real objects in and out of
the role's networks, not only 404s. Each case runs inside a savepoint that is
rolled back, so every case sees the same world and nothing leaks into other
tests (the whole test runs in pytest-django's test transaction too).

Checks on every response: no 5xx, status code documented (the errors any
operation can answer are documented on every one, ``mdtcare/api/schema.py``),
content type and body conform to the schema (error bodies included), and
negative (schema-invalid) data refused with a 4xx.
``test_undocumented_methods_are_refused`` checks that TRACE and the other
undocumented methods are refused on every API path.
"""

from __future__ import annotations

import datetime as dt
import zlib

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from mdtcare.wsgi import application

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/v1/schema/?format=json"
SEED = 20261126
# Generated (fuzzing-phase) cases per operation; schemathesis adds its
# explicit-example and coverage cases on top.
EXAMPLES_PER_OPERATION = 100
# Operations in the schema, each fuzzed (checked against the schema below).
OPERATIONS_FUZZED = 59
# Every role tries every operation; the role is picked from the case's hash.
ROLES = ("matron", "gp_chair", "navigator", "member", "admin", "outsider")
# Demo log-ins playing each role (``member`` is one of North's team).
USERNAMES = {
    "matron": "matron",
    "gp_chair": "chair",
    "navigator": "navigator",
    "member": "dnurse",
    "admin": "admin",
    "outsider": "outsider",
}
# Of the positive cases, the share (in 100ths) whose path ids are real.
REAL_ID_SHARE = 80


@schemathesis.check
def negative_body_or_path_rejected(ctx, response, case):
    """``negative_data_rejection`` for cases whose body, path or headers are
    schema-invalid. Query strings are lenient by design (django-filter and
    DRF's pagination ignore an empty or unusable filter, ``page_size`` or
    boolean), so a case negative only in its query is not held to it."""
    meta = case.meta
    if meta is not None and not any(
        meta.is_negative_at(location)
        for location in (ParameterLocation.BODY, ParameterLocation.PATH, ParameterLocation.HEADER)
    ):
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    # Every status documented, the generic errors too (mdtcare/api/schema.py).
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_body_or_path_rejected,
]
# Methods no API path documents: always refused.
UNDOCUMENTED_METHODS = ("TRACE", "CONNECT")

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            # Credentials come from the role, not from generated headers.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
    }
)

# Filled by the ``world`` fixture: role -> token, and resource -> real ids.
WORLD: dict = {}


@pytest.fixture
def world():
    from careplans.models import Assessment, CarePlan, CarePlanGoal, CareTeamMember
    from careplans.sections import SECTIONS
    from mdtcare.accounts.models import User
    from mdtcare.notifications.models import Notification
    from mdtcare.reports.models import ReportExport
    from meetings.models import Action, Meeting
    from patients.models import HospitalActivityImport, Patient, RegisterEntry, RiskImport
    from tests.demo_snapshot import demo_restore

    demo_restore()
    users = {role: User.objects.get(username=name) for role, name in USERNAMES.items()}
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=users["admin"], name="fuzz", confirmed=True)
    now = timezone.now()
    for index, user in enumerate(users.values()):
        RiskImport.objects.create(filename=f"risk{index}.csv", created_by=user, row_count=1)
        HospitalActivityImport.objects.create(
            filename=f"activity{index}.csv", created_by=user, row_count=1
        )
        for status in (ReportExport.Status.QUEUED, ReportExport.Status.FAILED):
            ReportExport.objects.create(
                requested_by=user,
                kind=ReportExport.Kind.ACTIONS,
                format=ReportExport.Format.CSV,
                status=status,
                params={"from": "2026-01", "to": "2026-02", "network_ids": []},
                file_name=f"fuzz-{index}-{status}.csv",
                expires_at=now + dt.timedelta(days=1),
            )
        Notification.objects.create(
            recipient=user, kind="referral_received", event_id=f"fuzz-{index}"
        )

    def sample(queryset, field="pk", n=12):
        return [str(value) for value in queryset.order_by(field).values_list(field, flat=True)[:n]]

    def both(model, **kwargs):
        return sample(model.objects.filter(**{kwargs["north"]: "north"})) + sample(
            model.objects.filter(**{kwargs["north"]: "south"}), n=4
        )

    goals = list(CarePlanGoal.objects.order_by("pk").values_list("plan_id", "pk")[:12])
    members = list(CareTeamMember.objects.order_by("pk").values_list("plan_id", "pk")[:12])
    WORLD.clear()
    WORLD.update(
        tokens={role: Token.objects.create(user=user).key for role, user in users.items()},
        ids={
            "patients": both(Patient, north="practice__network__code"),
            "register-entries": sample(RegisterEntry.objects.all(), n=16),
            "assessments": sample(Assessment.objects.all(), n=16),
            "careplans": sample(CarePlan.objects.all(), n=16),
            "meetings": sample(Meeting.objects.all(), n=16),
            "actions": sample(Action.objects.all(), n=16),
            "notifications": sample(Notification.objects.all(), field="public_id", n=16),
            "risk-imports": sample(RiskImport.objects.all()),
            "hospital-activity-imports": sample(HospitalActivityImport.objects.all()),
            "exports": sample(ReportExport.objects.all()),
        },
        goals=[(str(a), str(b)) for a, b in goals],
        members=[(str(a), str(b)) for a, b in members],
        sections=[section.key for section in SECTIONS],
    )
    yield WORLD
    WORLD.clear()


@pytest.fixture
def api_schema(request, world):
    # schemathesis 4.32's lazy loader reads ``node._nodeid``, gone in pytest 9.
    request.node._nodeid = request.node.nodeid
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens']['matron']}")
    response = api.get(SCHEMA_PATH)
    assert response.status_code == 200
    loaded = schemathesis.openapi.from_dict(_without_time_format(response.json()), config=CONFIG)
    loaded.app = application
    loaded.location = SCHEMA_PATH
    # What Django's test client does around each request (and undoes after
    # it, so only after the client's last request): schemathesis' WSGI
    # requests must not close the connection holding the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield loaded
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _without_time_format(node):
    """drf-spectacular gives time fields JSON Schema's ``format: time``, an
    RFC 3339 full-time with a UTC offset; DRF writes local wall-clock times
    ("12:30:00"), which is what the fields mean (a meeting's start). OpenAPI
    defines no ``time`` format, so the format is dropped, not the type."""
    if isinstance(node, dict):
        return {
            key: _without_time_format(value)
            for key, value in node.items()
            if not (key == "format" and value == "time")
        }
    if isinstance(node, list):
        return [_without_time_format(value) for value in node]
    return node


schema = schemathesis.pytest.from_fixture("api_schema")


def _digest(case) -> int:
    text = repr((case.method, case.path, case.path_parameters, case.query, case.body))
    return zlib.crc32(text.encode("utf-8", "backslashreplace"))


def _map_real_ids(case, digest: int) -> None:
    """Point the path at real objects (in or out of the role's networks)."""
    if not case.path_parameters or (case.meta and case.meta.is_negative_at(ParameterLocation.PATH)):
        return
    if (digest >> 8) % 100 >= REAL_ID_SHARE:
        return
    pick = digest >> 16
    params = dict(case.path_parameters)
    segments = case.path.strip("/").split("/")
    resource = segments[3] if segments[2] == "reports" else segments[2]
    if "goal_id" in params and WORLD["goals"]:
        params["id"], params["goal_id"] = WORLD["goals"][pick % len(WORLD["goals"])]
    elif "member_id" in params and WORLD["members"]:
        params["id"], params["member_id"] = WORLD["members"][pick % len(WORLD["members"])]
    elif "id" in params and WORLD["ids"].get(resource):
        ids = WORLD["ids"][resource]
        params["id"] = ids[pick % len(ids)]
    if "section" in params:
        params["section"] = WORLD["sections"][pick % len(WORLD["sections"])]
    case.path_parameters.update(params)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case):
    digest = _digest(case)
    role = ROLES[digest % len(ROLES)]
    _map_real_ids(case, digest)
    # Rate limits and lockouts count in the cache, not in the rolled-back rows.
    cache.clear()
    with transaction.atomic():
        case.call_and_validate(
            headers={"Authorization": f"Token {WORLD['tokens'][role]}"}, checks=CHECKS
        )
        transaction.set_rollback(True)


def test_undocumented_methods_are_refused(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens']['admin']}")
    schema_doc = api.get(SCHEMA_PATH).json()
    methods = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    operations = [m for item in schema_doc["paths"].values() for m in item if m in methods]
    assert len(operations) == OPERATIONS_FUZZED
    refused = {}
    for template in schema_doc["paths"]:
        path = template
        for name in ("id", "goal_id", "member_id"):
            path = path.replace("{" + name + "}", "00000000-0000-4000-8000-000000000000")
        path = path.replace("{section}", "social")
        for method in UNDOCUMENTED_METHODS:
            response = api.generic(method, path)
            refused[(method, template)] = response.status_code
    allowed = {key: status for key, status in refused.items() if status not in (403, 404, 405)}
    assert allowed == {}
