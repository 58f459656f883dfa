"""The query-count guard ("fast by construction").

Every GET route of the project is found from the URL resolver. Each one is
either pinned in ``BUDGETS`` (route name -> the most queries it may make) or
skipped in ``SKIPPED`` with a reason; a new route in neither fails
``test_every_get_route_has_a_budget``.

Each budgeted route is requested in a world with 1 row of everything and
again after the world has grown to 50 rows of everything (patients on the
register, referrals in triage, risk scores, actions, assessments, care plans,
agenda items with discussions, meetings, notifications, exports). The two
counts must be equal and within the budget. The world is built once per
module, inside a transaction that is rolled back at the end, and every route
is measured in one pass per size, so the module stays fast.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
from dataclasses import dataclass, field

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from careplans.models import CarePlan
from mdtcare.accounts.models import Membership, Profession
from mdtcare.notifications.models import Notification
from mdtcare.reports.models import ReportExport
from meetings.models import AgendaItem, Meeting
from patients.models import (
    EmergencyAccess,
    HospitalActivity,
    HospitalActivityImport,
    RiskImport,
    RiskScore,
)
from tests.factories import MembershipFactory, NetworkFactory, PracticeFactory, UserFactory
from tests.patients.test_gate import _verify_second_factor
from tests.reports import builders

# Marks the tests as using the database, so that pytest-django sets it up
# before the module's world is built (each test itself only reads the counts).
pytestmark = pytest.mark.django_db

SMALL, LARGE = 1, 50

# Route name -> the most queries one GET may make, at 1 row and at 50.
BUDGETS: dict[str, int] = {}  # filled below, next to each route's recipe

# Routes not measured, each with its reason.
SKIPPED: dict[str, str] = {
    "home": "redirects to the register",
    "healthz": "health check",
    "accounts:login": "log-in page",
    "accounts:two_factor": "two-factor page",
    "accounts:password_reset": "log-in family (anonymous)",
    "accounts:password_reset_done": "log-in family (anonymous)",
    "accounts:password_reset_confirm": "log-in family (anonymous)",
    "accounts:password_reset_complete": "log-in family (anonymous)",
    "api-schema": "schema",
    "api-docs": "docs",
    "reports:export_download": "streams a stored file; needs a written export file",
    "api-report-export-download": "streams a stored file; needs a written export file",
}

_SKIPPED_PREFIXES = ("admin:", "djdt:")


@dataclass(frozen=True)
class Route:
    """How to request one route: as whom, and with which object's id."""

    kind: str  # "list", "detail" or "other"
    persona: str = "matron"
    api: bool = False
    obj: str | None = None  # an attribute of the world holding the object
    kwargs: dict = field(default_factory=dict)
    query: str = ""


def _route(name: str, budget: int, kind: str, **how) -> tuple[str, Route]:
    BUDGETS[name] = budget
    return name, Route(kind=kind, **how)


ROUTES: dict[str, Route] = dict(
    [
        # Pages whose rows grow with data.
        _route("patients:list", 14, "list"),
        _route("patients:export", 12, "list"),
        _route("patients:triage", 12, "list"),
        _route("patients:case_finding", 13, "list", persona="admin"),
        _route("careplans:assessment_list", 13, "list"),
        _route("careplans:plan_attention", 12, "list"),
        _route("meetings:meeting_list", 8, "list"),
        _route("meetings:worklist", 16, "list", persona="navigator"),
        _route("meetings:my_actions", 15, "list"),
        _route("meetings:agenda_builder", 18, "list", persona="chair", obj="open_meeting"),
        _route("meetings:meeting", 12, "list", obj="open_meeting"),
        _route("meetings:meeting_run", 21, "list", persona="chair", obj="open_meeting"),
        _route("meetings:meeting_pack", 19, "list", obj="open_meeting"),
        _route("meetings:meeting_minutes", 16, "list", obj="closed_meeting"),
        _route("notifications:list", 13, "list"),
        _route("reports:monthly_activity", 26, "list", persona="chair"),
        _route(
            "reports:monthly_activity_export", 26, "list", persona="chair", kwargs={"fmt": "csv"}
        ),
        _route("reports:export_list", 11, "list", persona="chair"),
        # API lists.
        _route("patient-list", 8, "list", api=True),
        _route("register-entry-list", 8, "list", api=True),
        _route("assessment-list", 8, "list", api=True),
        _route("careplan-list", 9, "list", api=True),
        _route("meeting-list", 10, "list", api=True),
        _route("action-list", 7, "list", api=True),
        _route("notification-list", 8, "list", api=True),
        _route("api-monthly-activity", 21, "list", api=True, persona="chair"),
        # One object's page or endpoint.
        _route("patients:detail", 23, "detail", obj="patient"),
        _route("patients:emergency_record", 21, "detail", obj="emergency_access"),
        _route("meetings:action_reassign", 14, "detail", obj="action"),
        _route("careplans:assessment", 13, "detail", obj="assessment"),
        _route("careplans:assessment_print", 13, "detail", obj="assessment"),
        _route("careplans:assessment_check", 13, "detail", obj="draft_assessment"),
        _route("careplans:plan", 14, "detail", obj="plan"),
        _route("careplans:plan_print", 13, "detail", obj="plan"),
        _route("careplans:plan_compare", 14, "detail", obj="plan"),
        _route("patients:risk_import_review", 8, "detail", persona="admin", obj="risk_import"),
        _route(
            "patients:hospital_activity_import_review",
            8,
            "detail",
            persona="admin",
            obj="activity_import",
        ),
        _route("reports:export", 12, "detail", persona="chair", obj="export"),
        _route("patient-detail", 7, "detail", api=True, obj="patient"),
        _route("register-entry-detail", 7, "detail", api=True, obj="entry"),
        _route("assessment-detail", 7, "detail", api=True, obj="assessment"),
        _route("careplan-detail", 8, "detail", api=True, obj="plan"),
        _route("careplan-fhir", 8, "detail", api=True, obj="plan"),
        _route("meeting-detail", 8, "detail", api=True, obj="open_meeting"),
        _route("action-detail", 6, "detail", api=True, obj="action"),
        _route("notification-detail", 7, "detail", api=True, obj="notification"),
        _route("risk-import-detail", 1, "detail", api=True, persona="admin", obj="risk_import"),
        _route(
            "hospital-activity-import-detail",
            1,
            "detail",
            api=True,
            persona="admin",
            obj="activity_import",
        ),
        _route("api-report-export", 7, "detail", api=True, persona="chair", obj="export"),
        # Forms and other pages.
        # The baseline of the benchmarks: what every logged-in page costs, plus one.
        _route("accounts:account", 7, "other"),
        _route("api-me", 1, "other", api=True),
        _route("notifications:settings", 7, "other"),
        _route("patients:create", 7, "other"),
        _route("patients:refer_start", 6, "other"),
        _route("patients:emergency_access", 11, "other"),
        _route("patients:risk_import", 9, "other", persona="admin"),
        _route("patients:hospital_activity_import", 9, "other", persona="admin"),
        _route("meetings:meeting_schedule", 9, "other", persona="chair"),
        _route("patients:edit", 12, "other", obj="patient"),
        _route("patients:conditions", 13, "other", obj="patient"),
        _route("patients:carer_add", 11, "other", obj="patient"),
        _route("patients:consent", 11, "other", obj="patient"),
        _route("patients:refer", 12, "other", obj="patient"),
        _route("patients:accept", 14, "other", persona="navigator", obj="referral"),
        _route("patients:decline", 12, "other", persona="navigator", obj="referral"),
        _route("patients:entry_status", 11, "other", persona="chair", obj="entry"),
        _route("patients:allocate", 13, "other", persona="chair", obj="entry"),
        _route("careplans:assessment_start", 14, "other", obj="patient"),
        _route("careplans:assessment_details", 13, "other", obj="draft_assessment"),
        _route("careplans:plan_create", 14, "other", obj="unplanned_patient"),
        _route("careplans:plan_edit", 15, "other", obj="draft_plan"),
        _route("careplans:plan_team_add", 15, "other", obj="draft_plan"),
        _route("careplans:plan_ratify", 13, "other", persona="chair", obj="proposed_plan"),
        _route("careplans:plan_share", 13, "other", obj="ratified_plan"),
        _route("meetings:meeting_cancel", 10, "other", persona="chair", obj="open_meeting"),
        _route("meetings:meeting_close", 12, "other", persona="chair", obj="open_meeting"),
        _route("meetings:action_create", 15, "other", obj="patient"),
        _route("careplans:plan_goal", 15, "other", obj="draft_plan"),
        _route(
            "careplans:assessment_section",
            13,
            "other",
            obj="draft_assessment",
            kwargs={"section": "medicines"},
        ),
        _route(
            "careplans:assessment_amend",
            13,
            "other",
            obj="assessment",
            kwargs={"section": "medicines"},
        ),
        _route(
            "meetings:meeting_run_item",
            21,
            "other",
            persona="chair",
            obj="open_meeting",
            kwargs={"item_id": "@open_item"},
        ),
        _route(
            "meetings:discussion_amend",
            12,
            "other",
            persona="chair",
            obj="closed_meeting",
            kwargs={"item_id": "@closed_item"},
        ),
        _route("reports:actions_export", 10, "other", persona="chair"),
        # Evaluation figures are sums over the period, not rows: the page
        # does not lengthen with data, but its count must still not grow.
        _route("reports:evaluation", 11, "other", persona="chair"),
        _route("reports:evaluation_export", 11, "other", persona="chair"),
        _route("api-report-actions", 9, "other", api=True, persona="chair"),
    ]
)


# --- enumerating the project's GET routes ---------------------------------


def _allowed_methods(pattern: URLPattern) -> set[str] | None:
    """The HTTP methods a route answers, or None when it cannot be told."""
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions is not None:  # a DRF viewset route
        return {method.upper() for method in actions}
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    func = callback
    while func is not None:  # require_GET / require_POST keep the list in a closure
        try:
            methods = inspect.getclosurevars(func).nonlocals.get("request_method_list")
        except (TypeError, ValueError):
            methods = None
        if methods:
            return {m.upper() for m in methods}
        func = getattr(func, "__wrapped__", None)
    return None


def _walk(resolver, namespace=None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, inner)
        elif pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, pattern


def project_get_routes() -> dict[str, str]:
    """Every named route that answers GET (or might), name -> its view's module."""
    routes: dict[str, str] = {}
    for name, pattern in _walk(get_resolver()):
        if name.startswith(_SKIPPED_PREFIXES) or "static" in name:
            continue
        methods = _allowed_methods(pattern)
        if methods is not None and "GET" not in methods:
            continue
        routes[name] = pattern.callback.__module__
    return routes


def test_every_get_route_has_a_budget():
    routes = project_get_routes()

    unbudgeted = sorted(set(routes) - set(BUDGETS) - set(SKIPPED))
    stale = sorted((set(BUDGETS) | set(SKIPPED)) - set(routes))

    assert not unbudgeted, f"GET routes with no query budget (add them to BUDGETS): {unbudgeted}"
    assert not stale, f"BUDGETS or SKIPPED name routes that no longer exist: {stale}"


def test_routes_are_classified():
    counts = {"list": 0, "detail": 0, "other": 0}
    for route in ROUTES.values():
        counts[route.kind] += 1
    assert counts["list"] and counts["detail"] and counts["other"]
    assert set(ROUTES) == set(BUDGETS)


# --- the world, at 1 row and at 50 ----------------------------------------


class World:
    """A network "North" with the personas, grown one row of everything at a time."""

    def __init__(self):
        self.today = timezone.localdate()
        self.network = NetworkFactory(name="North", code="north")
        self.practice = PracticeFactory(network=self.network, name="Riverside Medical Centre")
        self.users = {
            "matron": self._persona("matron", Profession.COMMUNITY_MATRON, Membership.Role.MATRON),
            "chair": self._persona("chair", Profession.GP, Membership.Role.GP_CHAIR),
            "navigator": self._persona(
                "navigator", Profession.CARE_NAVIGATOR, Membership.Role.NAVIGATOR
            ),
            "admin": self._persona("admin", Profession.SERVICE_ADMIN, Membership.Role.ADMIN),
        }
        self.users["admin"].is_staff = True
        self.users["admin"].save(update_fields=["is_staff"])
        matron = self.users["matron"]
        self.open_meeting = builders.meeting(
            self.network, self.today + dt.timedelta(days=7), status=Meeting.Status.SCHEDULED
        )
        self.closed_meeting = builders.meeting(self.network, self.today - dt.timedelta(days=7))
        self.risk_import = RiskImport.objects.create(
            filename="risk.csv", created_by=self.users["admin"]
        )
        self.activity_import = HospitalActivityImport.objects.create(
            filename="activity.csv", created_by=self.users["admin"]
        )
        self.rows = 0
        self.patients, self.entries, self.referrals, self.assessments = [], [], [], []
        self.plans, self.actions, self.notifications, self.exports = [], [], [], []
        self.grow(SMALL)
        self.patient = self.patients[0]
        self.entry = self.entries[0]
        self.referral = self.referrals[0]
        self.assessment = self.assessments[0]
        self.draft_assessment = builders.assessment(
            self.patient, matron, kind="reassessment", assessed_on=self.today
        )
        self.plan = self.plans[0]
        self.ratified_plan = self.plan
        self.unplanned_patient = builders.person(self.practice)
        builders.referral(self.unplanned_patient, self.today, decided_on=self.today)
        self.draft_plan = self._plan_for_new_patient(CarePlan.Status.DRAFT)
        self.proposed_plan = self._plan_for_new_patient(CarePlan.Status.PROPOSED)
        self.open_item = self.open_meeting.agenda.order_by("position").first()
        self.closed_item = self.closed_meeting.agenda.first()
        self.action = self.actions[0]
        self.notification = self.notifications[0]
        self.export = self.exports[0]
        # The matron's emergency access to the person (in their own network
        # here: the pages read it the same way wherever the person is).
        now = timezone.now()
        self.emergency_access = EmergencyAccess.objects.create(
            user=matron,
            patient=self.patient,
            reason="Seen at home out of hours after a fall",
            starts_at=now,
            ends_at=now + dt.timedelta(hours=1),
        )

    def _plan_for_new_patient(self, status):
        entry = builders.referral(builders.person(self.practice), self.today, decided_on=self.today)
        made = builders.plan(entry, next_review_on=self.today + dt.timedelta(days=90))
        CarePlan.objects.filter(pk=made.pk).update(status=status)
        made.refresh_from_db()
        return made

    def _persona(self, username, profession, role):
        user = UserFactory(username=username, profession=profession)
        MembershipFactory(user=user, network=self.network, role=role)
        return user

    def grow(self, to: int):
        """Add rows until there are ``to`` of everything."""
        matron = self.users["matron"]
        chair = self.users["chair"]
        long_ago = self.today - dt.timedelta(days=60)
        for n in range(self.rows, to):
            patient = builders.person(self.practice)
            self.patients.append(patient)
            entry = builders.referral(patient, long_ago, decided_on=long_ago)
            self.entries.append(entry)
            waiting = builders.person(self.practice)
            self.referrals.append(builders.referral(waiting, self.today))
            # Found by case finding: at high risk and not on the register.
            builders.person(self.practice, risk_score=90)
            RiskScore.objects.create(
                patient=patient, score="0.50", scored_on=self.today, imported_by=matron
            )
            HospitalActivity.objects.create(
                patient=patient, month=self.today.replace(day=1), ae_attendances=1
            )
            self.assessments.append(
                builders.assessment(
                    patient,
                    matron,
                    kind="initial",
                    assessed_on=long_ago,
                    signed_at=timezone.now() - dt.timedelta(days=59),
                )
            )
            self.plans.append(
                builders.plan(
                    entry,
                    ratified_at=timezone.now() - dt.timedelta(days=30),
                    next_review_on=self.today - dt.timedelta(days=1),
                    by=chair,
                )
            )
            self.actions.append(
                builders.action(
                    patient,
                    created_at=timezone.now() - dt.timedelta(days=5),
                    due_on=self.today + dt.timedelta(days=n % 20 - 10),
                    owner=matron,
                )
            )
            AgendaItem.objects.create(
                meeting=self.open_meeting,
                patient=patient,
                reason=AgendaItem.Reason.NEW_REFERRAL,
                position=n,
            )
            builders.discussed(self.closed_meeting, patient, chair)
            builders.meeting(self.network, self.today + dt.timedelta(days=14 + n))
            self.notifications.append(
                Notification.objects.create(
                    recipient=matron,
                    kind=Notification.Kind.choices[0][0],
                    patient_id=patient.pk,
                    event_id=f"event-{n}",
                    link="/",
                )
            )
            self.exports.append(
                ReportExport.objects.create(
                    requested_by=chair,
                    kind=ReportExport.Kind.ACTIONS,
                    format=ReportExport.Format.CSV,
                    file_name=f"actions-{n}.csv",
                    params={
                        "network_ids": [str(self.network.pk)],
                        "network_codes": [self.network.code],
                        "from": "2026-01",
                        "to": "2026-03",
                    },
                    expires_at=timezone.now() + dt.timedelta(days=1),
                )
            )
        self.rows = to

    def url(self, name: str, route: Route) -> str:
        kwargs = {
            key: self._pk(getattr(self, value[1:])) if value.startswith("@") else value
            for key, value in route.kwargs.items()
        }
        if route.obj:
            obj = getattr(self, route.obj)
            pk = self._pk(obj)
            pattern_kwargs = _url_kwarg_names(name)
            key = next(k for k in pattern_kwargs if k not in kwargs and k != "format")
            kwargs[key] = pk
        return reverse(name, kwargs=kwargs) + route.query

    @staticmethod
    def _pk(obj):
        return getattr(obj, "public_id", None) or obj.pk


def _url_kwarg_names(name: str) -> list[str]:
    for resolver_name, pattern in _walk(get_resolver()):
        if resolver_name == name:
            return list(pattern.pattern.regex.groupindex)
    raise KeyError(name)


@dataclass
class Measure:
    status: int
    queries: int
    sql: list[str]
    size: int = 0


def _clients(world: World) -> dict:
    clients = {}
    for persona, user in world.users.items():
        page = Client()
        page.force_login(user)
        if persona == "admin":
            _verify_second_factor(page, user)
        api = APIClient()
        api.force_authenticate(user)
        clients[persona] = (page, api)
    return clients


def _measure_all(world: World, clients: dict) -> dict[str, Measure]:
    measured = {}
    for name, route in ROUTES.items():
        try:
            url = world.url(name, route)
        except Exception as exc:  # reported by the route's own test
            measured[name] = Measure(status=-1, queries=-1, sql=[repr(exc)])
            continue
        client = clients[route.persona][1 if route.api else 0]
        client.get(url)  # warm up: session, memberships, caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            # A streamed export reads its rows as it is sent.
            body = b"".join(response.streaming_content) if response.streaming else None
        measured[name] = Measure(
            status=response.status_code,
            queries=len(captured.captured_queries),
            sql=[q["sql"] for q in captured.captured_queries],
            size=len(body if body is not None else response.content),
        )
    return measured


@pytest.fixture(scope="module")
def measurements(django_db_setup, django_db_blocker):
    """Every route measured at 1 row and at 50, in a world rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = World()
        clients = _clients(world)
        small = _measure_all(world, clients)
        world.grow(LARGE)
        large = _measure_all(world, clients)
        transaction.set_rollback(True)
    return small, large


def _repeats(sql: list[str]) -> str:
    from collections import Counter

    top = Counter(sql).most_common(3)
    return "\n".join(f"  {count}x {text[:300]}" for count, text in ((c, t) for t, c in top))


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_query_count_does_not_grow_with_rows(measurements, name):
    small, large = measurements[0][name], measurements[1][name]
    budget = BUDGETS[name]
    if os.environ.get("QUERY_BUDGET_SHOW"):
        print(f"\nCOUNT {name} {small.queries} {large.queries} {small.size} {large.size}")

    assert small.status == 200, f"{name}: status {small.status} at {SMALL} row {small.sql[:1]}"
    assert large.status == 200, f"{name}: status {large.status} at {LARGE} rows"
    assert small.queries == large.queries, (
        f"{name}: {small.queries} queries at {SMALL} row, {large.queries} at {LARGE};"
        f" most repeated at {LARGE}:\n{_repeats(large.sql)}"
    )
    assert large.queries <= budget, f"{name}: {large.queries} queries, budget {budget}"
    if ROUTES[name].kind == "list":  # the rows really are on the page
        assert large.size > small.size, f"{name}: the page did not grow with its rows"
