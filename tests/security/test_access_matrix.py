"""The access matrix (issue 10, item 1).

Every route of the project is found from the URL resolver and requested by
every role — matron, GP chair, navigator, member, admin (second factor
verified), an outsider (a member of the other network only) and an anonymous
visitor — once for a record of the user's own network and once for a record
of the other network. GET routes are requested with GET; a route that does
not answer GET gets its first write method (POST, PATCH, DELETE) with an
empty body, or the least body that gets past its form to the role check
(``BODIES``), inside a savepoint that is rolled back, so no request changes
the world the next one sees. Separately, every write route naming a record is
sent an empty body for the other network's record: it must be 404 before any
validation.

What each cell should answer is written once, in ``POLICY``: route name ->
the rule it follows. A route missing from ``POLICY`` fails
``test_every_route_has_a_policy``. Where the app does not yet follow the
policy, the cell is listed in ``KNOWN_MISMATCHES`` (a finding to fix); a
listed cell that starts to follow the policy fails until its line goes.

The gate's rule is checked for every route that names a record: a record
outside the user's networks answers 404 — never 403, never 200. In every
response, of every route, the public id of no record of a network the user is
not in may appear (for a list or a blank form this is what its "other
network" column checks).

The world (two networks, "North" and "South", each with one of everything)
is built once per module with the builders of ``tests/test_query_budget.py``
inside a transaction rolled back at the end, and every cell is requested in
one pass.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import get_resolver
from rest_framework.test import APIClient

from careplans.models import CarePlanGoal, CareTeamMember
from mdtcare.accounts.models import Membership, Profession
from patients.models import Carer, RegisterEntry
from tests.factories import MembershipFactory, UserFactory
from tests.patients.test_gate import _verify_second_factor
from tests.reports import builders
from tests.test_query_budget import ROUTES as BUDGET_ROUTES
from tests.test_query_budget import Route, World, _allowed_methods, _walk

pytestmark = pytest.mark.django_db

Role = Membership.Role

# --- outcomes -------------------------------------------------------------

ALLOW = "allow"  # 2xx, a redirect to a page other than log-in, 409; for a
# write also 400 (it got past the gate and the role check)
LOGIN = "login"  # anonymous: redirected to log-in (pages), 401/403 (API)
FORBIDDEN = "forbidden"  # 403
NOT_FOUND = "not_found"  # 404

ROLES = ("matron", "gp_chair", "navigator", "member", "admin", "outsider", "anonymous")
# Each persona's role in their own network (the outsider is a member of South).
ROLE_IN_NETWORK = {
    "matron": Role.MATRON,
    "gp_chair": Role.GP_CHAIR,
    "navigator": Role.NAVIGATOR,
    "member": Role.MEMBER,
    "admin": Role.ADMIN,
    "outsider": Role.MEMBER,
}
OWN, OTHER = "own", "other"
NETWORKS = (OWN, OTHER)
# Every route is checked in this many cells: each role, own and other network.
CELLS_PER_ROUTE = len(ROLES) * len(NETWORKS)


# --- how to request each route --------------------------------------------

# The query-budget test already says, for every GET route it measures, which
# of the world's records the route names. The rest are here.
_EXTRA_RECIPES: dict[str, Route] = {
    name: Route(kind="other", obj=obj, kwargs=kwargs or {})
    for name, obj, kwargs in [
        ("home", None, None),
        ("healthz", None, None),
        ("accounts:login", None, None),
        ("accounts:logout", None, None),
        ("accounts:two_factor", None, None),
        ("accounts:network_choose", None, None),
        ("accounts:password_reset", None, None),
        ("accounts:password_reset_done", None, None),
        ("accounts:password_reset_confirm", None, {"uidb64": "MQ", "token": "set-password"}),
        ("accounts:password_reset_complete", None, None),
        ("api-token", None, None),
        ("api-schema", None, None),
        ("api-docs", None, None),
        ("reports:export_download", "export", None),
        ("api-report-export-download", "export", None),
        ("patients:carer_remove", "patient", {"carer_id": "@carer"}),
        ("patients:emergency_access_end", "emergency_access", None),
        ("careplans:assessment_autosave", "draft_assessment", {"section": "medicines"}),
        ("careplans:assessment_complete", "draft_assessment", None),
        ("careplans:plan_goal_remove", "draft_plan", {"goal_id": "@goal"}),
        ("careplans:plan_team_remove", "draft_plan", {"member_id": "@team_member"}),
        ("careplans:plan_propose", "draft_plan", None),
        ("careplans:plan_new_version", "ratified_plan", None),
        ("meetings:agenda_add", "open_meeting", None),
        ("meetings:agenda_publish", "open_meeting", None),
        ("meetings:agenda_move", "open_meeting", {"item_id": "@open_item"}),
        ("meetings:agenda_remove", "open_meeting", {"item_id": "@open_item"}),
        ("meetings:action_start", "action", None),
        ("meetings:action_complete", "action", None),
        ("meetings:action_reassign", "action", None),
        ("meetings:action_cancel", "action", None),
        ("notifications:read_all", None, None),
        ("notifications:read", "notification", None),
        ("register-entry-accept", "referral", None),
        ("register-entry-decline", "referral", None),
        ("register-entry-activate", "accepted_entry", None),
        ("register-entry-died", "entry", None),
        ("register-entry-discharge", "entry", None),
        ("register-entry-step-down", "entry", None),
        ("risk-import-list", None, None),
        ("risk-import-confirm", "risk_import", None),
        ("risk-import-discard", "risk_import", None),
        ("hospital-activity-import-list", None, None),
        ("hospital-activity-import-confirm", "activity_import", None),
        ("hospital-activity-import-discard", "activity_import", None),
        ("assessment-amend", "assessment", None),
        ("assessment-complete", "draft_assessment", None),
        ("assessment-section", "draft_assessment", {"section": "medicines"}),
        ("careplan-goal", "draft_plan", {"goal_id": "@goal"}),
        ("careplan-goals", "draft_plan", None),
        ("careplan-new-version", "ratified_plan", None),
        ("careplan-propose", "draft_plan", None),
        ("careplan-ratify", "proposed_plan", None),
        ("careplan-share", "ratified_plan", None),
        ("careplan-team", "draft_plan", None),
        ("careplan-team-member", "draft_plan", {"member_id": "@team_member"}),
        ("action-cancel", "action", None),
        ("action-complete", "action", None),
        ("action-reassign", "action", None),
        ("action-start", "action", None),
        ("notification-read-all", None, None),
        ("notification-read", "notification", None),
    ]
}
RECIPES: dict[str, Route] = {**BUDGET_ROUTES, **_EXTRA_RECIPES}

# Writes whose form or serializer is read before the role is checked: an
# empty body would be refused (400, or the form again) before the rule this
# matrix is about, so they get the least that passes. "@a.b" is read from the
# world the request is made in.
BODIES: dict[str, dict] = {
    "action-cancel": {"note": "No longer needed"},
    "register-entry-accept": {
        "clinical_lead": "@users.matron.pk",
        "navigator": "@users.navigator.pk",
    },
    "careplan-goal": {"revision": "@draft_plan.revision"},
    "careplan-goals": {"revision": "@draft_plan.revision", "what_matters": "Walk again"},
    "careplan-team": {
        "revision": "@draft_plan.revision",
        "role_in_plan": "Pharmacist",
        "name": "Pat Pharmacist",
    },
    "careplan-team-member": {"revision": "@draft_plan.revision"},
    "assessment-complete": {"version": "@draft_assessment.version"},
    "careplans:assessment_complete": {"version": "@draft_assessment.version"},
    "careplans:plan_goal_remove": {"revision": "@draft_plan.revision"},
    "careplans:plan_team_remove": {"revision": "@draft_plan.revision"},
    "meetings:agenda_add": {"revision": "@open_meeting.revision", "add_all": "on"},
    "meetings:agenda_publish": {"revision": "@open_meeting.revision"},
    "meetings:agenda_move": {"revision": "@open_meeting.revision", "direction": "down"},
    "meetings:agenda_remove": {"revision": "@open_meeting.revision"},
}


def _read(world, path: str):
    value = world
    for part in path.split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return str(value)


def _body_for(name: str, world) -> dict:
    return {
        key: _read(world, value[1:]) if isinstance(value, str) and value.startswith("@") else value
        for key, value in BODIES.get(name, {}).items()
    }


# The records whose public ids must never appear in a response to someone
# outside their network.
_RECORDS = (
    "patient",
    "unplanned_patient",
    "entry",
    "referral",
    "assessment",
    "draft_assessment",
    "plan",
    "draft_plan",
    "proposed_plan",
    "open_meeting",
    "closed_meeting",
    "action",
    "notification",
    "export",
    "risk_import",
    "activity_import",
    "emergency_access",
)
_WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


def project_write_routes() -> dict[str, str]:
    """Every named route that takes (or may take) a write, name -> its method."""
    routes: dict[str, str] = {}
    for name, pattern in _walk(get_resolver()):
        if name.startswith(("admin:", "djdt:")) or "static" in name or name in routes:
            continue
        methods = _allowed_methods(pattern) or {"POST"}
        method = next((m for m in _WRITE_METHODS if m in methods), None)
        if method is not None:
            routes[name] = method.lower()
    return routes


def project_routes() -> dict[str, str]:
    """Every named route, name -> the method it is requested with: GET when
    it answers GET (or cannot tell), else its first write method."""
    routes: dict[str, str] = {}
    for name, pattern in _walk(get_resolver()):
        if name.startswith(("admin:", "djdt:")) or "static" in name or name in routes:
            continue
        methods = _allowed_methods(pattern)
        if methods is None or "GET" in methods:
            routes[name] = "get"
        else:
            routes[name] = next(m for m in _WRITE_METHODS if m in methods).lower()
    return routes


# --- the world: North and South, one of everything ------------------------


def _network_world(*, name: str, code: str, member: str) -> World:
    """The budget test's world (network "North", its personas, one row of
    everything), plus a plain member and the records the write routes name."""
    world = World()
    world.network.name, world.network.code = name, code
    world.network.save(update_fields=["name", "code"])
    user = UserFactory(username=member, profession=Profession.SOCIAL_WORKER)
    MembershipFactory(user=user, network=world.network, role=Role.MEMBER)
    world.users["member"] = user
    world.carer = Carer.objects.create(
        patient=world.patient, name="Sam Carer", relationship="Daughter"
    )
    world.goal = CarePlanGoal.objects.create(plan=world.draft_plan, what_matters="Walk to the shop")
    world.team_member = CareTeamMember.objects.create(
        plan=world.draft_plan, name="Ann Other", role_in_plan="District nurse"
    )
    world.accepted_entry = builders.referral(
        builders.person(world.practice),
        world.today,
        decided_on=world.today,
        status=RegisterEntry.Status.ACCEPTED,
    )
    world.record_ids = {str(World._pk(getattr(world, record))): record for record in _RECORDS}
    return world


def build_worlds() -> dict[str, World]:
    # World() always makes "North" and the usernames "matron", "chair", …:
    # the first one made becomes South, its personas renamed.
    south = _network_world(name="South", code="south", member="outsider")
    for user in south.users.values():
        if user.username != "outsider":
            user.username = f"south-{user.username}"
            user.email = f"south-{user.email}"
            user.save(update_fields=["username", "email"])
    north = _network_world(name="North", code="north", member="member")
    return {"north": north, "south": south}


def _persona_user(worlds, role):
    if role == "anonymous":
        return None
    if role == "outsider":
        return worlds["south"].users["member"]
    return worlds["north"].users["chair" if role == "gp_chair" else role]


def _home(role) -> str:
    return "south" if role == "outsider" else "north"


def _world_for(role, network) -> str:
    home = _home(role)
    if network == OWN:
        return home
    return "south" if home == "north" else "north"


# --- requesting every cell ------------------------------------------------


@dataclass
class Seen:
    method: str
    url: str
    status: int
    outcome: str
    leaked: tuple[str, ...] = ()


def _clients(worlds) -> dict:
    clients = {}
    for role in ROLES:
        user = _persona_user(worlds, role)
        page, api = Client(), APIClient()
        if user is not None:
            page.force_login(user)
            if role == "admin":
                _verify_second_factor(page, user)
            api.force_authenticate(user)
        clients[role] = (page, api)
    return clients


def _outcome(response, *, method: str, api: bool, anonymous: bool) -> str:
    status = response.status_code
    if 300 <= status < 400:
        location = response.get("Location", "")
        return LOGIN if location.startswith(resolve_url(settings.LOGIN_URL)) else ALLOW
    if anonymous and api and status in (401, 403):
        return LOGIN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    if 200 <= status < 300 or status == 409 or (method != "get" and status == 400):
        return ALLOW  # 409: an export not written yet, a stale write
    return f"status {status}"


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


# The API's file uploads (multipart; the rest of the API reads JSON only).
UPLOADS = ("/api/v1/risk-imports/", "/api/v1/hospital-activity-imports/")


def _request(client, method: str, url: str, data: dict) -> tuple:
    """One request and the text of its response, its changes rolled back (a
    page client's session cookie too, so that a log-out does not end the
    persona's session)."""
    cookies = SimpleCookie(client.cookies)
    try:
        with transaction.atomic():
            # A write sends the client's default: a form on the site, JSON to
            # the API, except to the API's uploads, which take multipart.
            options = {"format": "multipart"} if url.endswith(UPLOADS) else {}
            response = (
                getattr(client, method)(url, data, **options)
                if method != "get"
                else client.get(url)
            )
            body = _body(response)
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies
    return response, body


def _request_every_cell(worlds, clients) -> dict[tuple[str, str, str], Seen]:
    seen: dict[tuple[str, str, str], Seen] = {}
    for name, method in project_routes().items():
        recipe = RECIPES.get(name)
        if recipe is None:
            continue  # reported by test_every_route_has_a_policy
        for role in ROLES:
            anonymous = role == "anonymous"
            for network in NETWORKS:
                world = worlds[_world_for(role, network)]
                if recipe.obj is None and network == OTHER:
                    # Names no record: the same request; the "other" cell is
                    # the check that nothing of the other network shows.
                    first = seen[(name, role, OWN)]
                    seen[(name, role, OTHER)] = first
                    continue
                try:
                    url = world.url(name, recipe)
                except Exception as exc:  # a recipe that no longer fits its route
                    seen[(name, role, network)] = Seen(method, "?", 0, f"no url: {exc!r}")
                    continue
                api = url.startswith("/api/")
                client = clients[role][1 if api else 0]
                try:
                    response, body = _request(client, method, url, _body_for(name, world))
                except Exception as exc:  # a view that raised: a 500
                    seen[(name, role, network)] = Seen(method, url, 500, f"raised {exc!r}"[:300])
                    continue
                foreign = [w for key, w in worlds.items() if anonymous or key != _home(role)]
                leaked = tuple(
                    sorted(
                        record
                        for w in foreign
                        for record_id, record in w.record_ids.items()
                        if record_id in body
                    )
                )
                outcome = _outcome(response, method=method, api=api, anonymous=anonymous)
                seen[(name, role, network)] = Seen(
                    method, url, response.status_code, outcome, leaked
                )
    return seen


def _write_blind(worlds, clients) -> dict[str, Seen]:
    """Every write route naming a record, sent with an empty body by North's
    matron to South's record: the gate must answer before any validation."""
    seen = {}
    for name, method in project_write_routes().items():
        recipe = RECIPES.get(name)
        if recipe is None or recipe.obj is None:
            continue
        url = worlds["south"].url(name, recipe)
        api = url.startswith("/api/")
        response, _ = _request(clients["matron"][1 if api else 0], method, url, {})
        outcome = _outcome(response, method=method, api=api, anonymous=False)
        seen[name] = Seen(method, url, response.status_code, outcome)
    return seen


@pytest.fixture(scope="module")
def requested(django_db_setup, django_db_blocker):
    """Every cell requested once, in a world rolled back afterwards."""
    # Hundreds of expected 403s and 404s: log only what went wrong (5xx).
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            worlds = build_worlds()
            clients = _clients(worlds)
            seen = _request_every_cell(worlds, clients)
            blind = _write_blind(worlds, clients)
            transaction.set_rollback(True)
    finally:
        request_log.setLevel(level)
    return seen, blind


@pytest.fixture(scope="module")
def matrix(requested):
    return requested[0]


# --- the policy -----------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who a route lets in, in the network of the record it names.

    ``roles``: the roles (in that network) allowed; the others get ``refused``.
    ``owner``: the record is one person's (their notification, the export
    they asked for, the file they uploaded, the assessment they are writing):
    only that persona is allowed, the others get ``refused``.
    ``public``: no log-in needed.
    Whatever the rule, a record of another network is 404 and an anonymous
    visitor is sent to log in (unless ``public``)."""

    name: str
    roles: frozenset[str] = frozenset(Role.values)
    owner: str | None = None
    refused: str = FORBIDDEN
    public: bool = False


ANY_MEMBER = frozenset(Role.values)
PUBLIC = Rule("public: no log-in", public=True)
SIGNED_IN = Rule("any signed-in user (their own things, no record of a network)")
MEMBER = Rule("any member of the record's network")
TRIAGE = Rule("triage: navigator or admin", roles=frozenset({Role.NAVIGATOR, Role.ADMIN}))
IMPORTERS = Rule("imports: navigator or admin", roles=frozenset({Role.NAVIGATOR, Role.ADMIN}))
REGISTER_KEEPERS = Rule(
    "register keepers: everyone but a plain member",
    roles=frozenset({Role.NAVIGATOR, Role.ADMIN, Role.MATRON, Role.GP_CHAIR}),
)
ACTION_MANAGERS = Rule(
    "action managers: everyone but a plain member",
    roles=frozenset({Role.NAVIGATOR, Role.ADMIN, Role.MATRON, Role.GP_CHAIR}),
)
SCHEDULERS = Rule(
    "meeting schedulers: navigator, admin or GP chair",
    roles=frozenset({Role.NAVIGATOR, Role.ADMIN, Role.GP_CHAIR}),
)
REPORTERS = Rule("reports: admin or GP chair", roles=frozenset({Role.ADMIN, Role.GP_CHAIR}))
PLAN_WRITERS = Rule(
    "care-plan writers: matron or GP chair (or the clinical lead)",
    roles=frozenset({Role.MATRON, Role.GP_CHAIR}),
)
GP_CHAIR = Rule("the network's GP chair", roles=frozenset({Role.GP_CHAIR}))
CHAIRS = Rule(
    "who runs the meeting: GP chair, or an admin acting as chair",
    roles=frozenset({Role.GP_CHAIR, Role.ADMIN}),
)
AMENDERS = Rule(
    "who corrects MDT outcomes: GP chair, navigator (the minutes) or admin",
    roles=frozenset({Role.GP_CHAIR, Role.NAVIGATOR, Role.ADMIN}),
)
ASSESSOR = Rule("the assessor (the matron who started it)", owner="matron")
RECIPIENT = Rule("the recipient (the matron)", owner="matron", refused=NOT_FOUND)
REQUESTER = Rule("who asked for the export (the GP chair)", owner="gp_chair", refused=NOT_FOUND)
UPLOADER = Rule("who uploaded the file (the admin)", owner="admin", refused=NOT_FOUND)
PRACTITIONERS = Rule(
    "practitioners: every role but admin (emergency access)",
    roles=frozenset({Role.MATRON, Role.GP_CHAIR, Role.NAVIGATOR, Role.MEMBER}),
)
EMERGENCY_USER = Rule(
    "who opened the emergency access (the matron)", owner="matron", refused=NOT_FOUND
)


def _each(rule: Rule, *names: str) -> dict[str, Rule]:
    return dict.fromkeys(names, rule)


# Route name -> its rule. One table; a route not in it fails
# test_every_route_has_a_policy.
POLICY: dict[str, Rule] = {
    **_each(
        PUBLIC,
        "healthz",
        "accounts:login",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:password_reset_complete",
        "api-token",
    ),
    **_each(
        SIGNED_IN,
        "home",
        "accounts:account",
        "accounts:logout",
        "accounts:two_factor",
        "accounts:network_choose",
        "api-me",
        "api-schema",
        "api-docs",
        "notifications:list",
        "notifications:settings",
        "notifications:read_all",
        "notification-list",
        "notification-read-all",
        "meetings:my_actions",
        "reports:export_list",
    ),
    **_each(RECIPIENT, "notifications:read", "notification-detail", "notification-read"),
    **_each(
        MEMBER,
        # the register and the person's record
        "patients:list",
        "patients:export",
        "patients:triage",
        "patients:case_finding",
        "patients:create",
        "patients:refer_start",
        "patients:detail",
        "patients:edit",
        "patients:conditions",
        "patients:carer_add",
        "patients:carer_remove",
        "patients:consent",
        "patients:refer",
        "patients:entry_status",
        "patient-list",
        "patient-detail",
        "register-entry-list",
        "register-entry-detail",
        "register-entry-died",
        # assessments
        "careplans:assessment_list",
        "careplans:assessment_start",
        "careplans:assessment",
        "careplans:assessment_details",
        "careplans:assessment_section",
        "careplans:assessment_autosave",
        "careplans:assessment_check",
        "careplans:assessment_print",
        "careplans:assessment_amend",
        "assessment-list",
        "assessment-detail",
        "assessment-section",
        "assessment-amend",
        # care plans: reading and sharing
        "careplans:plan_attention",
        "careplans:plan",
        "careplans:plan_compare",
        "careplans:plan_print",
        "careplans:plan_share",
        "careplan-list",
        "careplan-detail",
        "careplan-fhir",
        "careplan-share",
        # meetings: every member attends and sees the meeting's pages; who
        # starts and records is the services' rule (meetings/views/run.py);
        # the close and the correction of an outcome are refused before
        # their forms are shown (CHAIRS, AMENDERS)
        "meetings:meeting_list",
        "meetings:meeting",
        "meetings:meeting_pack",
        "meetings:meeting_run",
        "meetings:meeting_run_item",
        "meetings:meeting_minutes",
        "meeting-list",
        "meeting-detail",
        # actions: anyone in the network adds, starts and completes them
        "meetings:action_create",
        "meetings:action_start",
        "meetings:action_complete",
        "action-list",
        "action-detail",
        "action-start",
        "action-complete",
    ),
    **_each(
        TRIAGE,
        "patients:accept",
        "patients:decline",
        "register-entry-accept",
        "register-entry-decline",
    ),
    **_each(
        REGISTER_KEEPERS,
        # The allocation form is refused before it is shown (as the plan forms are).
        "patients:allocate",
        "register-entry-activate",
        "register-entry-step-down",
        "register-entry-discharge",
    ),
    **_each(
        IMPORTERS,
        "patients:risk_import",
        "patients:hospital_activity_import",
        "risk-import-list",
        "hospital-activity-import-list",
    ),
    **_each(
        UPLOADER,
        "patients:risk_import_review",
        "patients:hospital_activity_import_review",
        "risk-import-detail",
        "risk-import-confirm",
        "risk-import-discard",
        "hospital-activity-import-detail",
        "hospital-activity-import-confirm",
        "hospital-activity-import-discard",
    ),
    **_each(
        REPORTERS,
        "reports:monthly_activity",
        "reports:monthly_activity_export",
        "reports:evaluation",
        "reports:evaluation_export",
        "reports:actions_export",
        "api-monthly-activity",
        "api-report-actions",
    ),
    **_each(
        REQUESTER,
        "reports:export",
        "reports:export_download",
        "api-report-export",
        "api-report-export-download",
    ),
    **_each(
        SCHEDULERS,
        "meetings:worklist",
        "meetings:meeting_schedule",
        "meetings:meeting_cancel",
        "meetings:agenda_builder",
        "meetings:agenda_add",
        "meetings:agenda_publish",
        "meetings:agenda_move",
        "meetings:agenda_remove",
    ),
    **_each(
        ACTION_MANAGERS,
        "meetings:action_cancel",
        "meetings:action_reassign",
        "action-cancel",
        "action-reassign",
    ),
    **_each(
        PLAN_WRITERS,
        # "Forms the user could not send are not shown" (careplans/views/plans.py).
        "careplans:plan_create",
        "careplans:plan_edit",
        "careplans:plan_goal",
        "careplans:plan_goal_remove",
        "careplans:plan_team_add",
        "careplans:plan_team_remove",
        "careplans:plan_propose",
        "careplans:plan_new_version",
        "careplan-goals",
        "careplan-goal",
        "careplan-team",
        "careplan-team-member",
        "careplan-propose",
        "careplan-new-version",
    ),
    **_each(GP_CHAIR, "careplans:plan_ratify", "careplan-ratify"),
    **_each(CHAIRS, "meetings:meeting_close"),
    **_each(AMENDERS, "meetings:discussion_amend"),
    **_each(PRACTITIONERS, "patients:emergency_access"),
    **_each(EMERGENCY_USER, "patients:emergency_record", "patients:emergency_access_end"),
    **_each(ASSESSOR, "careplans:assessment_complete", "assessment-complete"),
}

# Cells where the app does not (yet) do what the policy says: each is a
# finding to fix, with what the app answers today. They are reported, not
# failed; once the app is fixed the cell fails until its line here goes.
KNOWN_MISMATCHES: dict[tuple[str, str, str], tuple[str, str]] = {
    # (route, role, network): (what the app answers today, why it is wrong)
}


# Write routes that read the body before the gate (see
# test_an_empty_write_to_a_record_outside_the_gate_is_404): route -> why.
KNOWN_BLIND_WRITES: dict[str, str] = {}


def expected(name: str, role: str, network: str) -> str:
    rule = POLICY[name]
    if rule.public:
        return ALLOW
    if role == "anonymous":
        return LOGIN
    if RECIPES[name].obj is not None and network == OTHER:
        return NOT_FOUND
    if rule.owner is not None:
        return ALLOW if role == rule.owner else rule.refused
    return ALLOW if ROLE_IN_NETWORK[role] in rule.roles else rule.refused


# --- the tests ------------------------------------------------------------


def test_every_route_has_a_policy():
    routes = project_routes()
    missing = sorted(set(routes) - set(POLICY))
    stale = sorted(set(POLICY) - set(routes))
    no_recipe = sorted(set(routes) - set(RECIPES))
    assert not missing, f"Routes with no entry in POLICY (say who may use them): {missing}"
    assert not stale, f"POLICY names routes that no longer exist: {stale}"
    assert not no_recipe, f"Routes with no recipe (say which record they name): {no_recipe}"


def _describe(name: str, role: str, network: str, seen: Seen) -> str:
    where = "own network" if network == OWN else "other network"
    return f"{name} as {role}, {where}: {seen.method.upper()} {seen.url} -> {seen.status}"


@pytest.mark.parametrize("name", sorted(POLICY))
def test_route_answers_as_the_policy_says(matrix, name):
    """Every cell of one route: role x own/other network. All mismatches at once."""
    wrong, fixed, leaks = [], [], []
    for role in ROLES:
        for network in NETWORKS:
            seen = matrix[(name, role, network)]
            want = expected(name, role, network)
            known = KNOWN_MISMATCHES.get((name, role, network))
            where = _describe(name, role, network, seen)
            if known is not None:
                if seen.outcome != known[0]:
                    fixed.append(f"{where}: now {seen.outcome}; remove it from KNOWN_MISMATCHES")
            elif seen.outcome != want:
                wrong.append(f"{where}: expected {want}, got {seen.outcome}")
            if seen.leaked:
                leaks.append(f"{where}: shows the other network's {', '.join(seen.leaked)}")
    problems = wrong + leaks + fixed
    assert not problems, f"{name} ({POLICY[name].name}):\n  " + "\n  ".join(problems)


def test_a_record_outside_the_gate_is_404_never_403_or_200(matrix):
    """The gate, across all routes that name a record: for the other
    network's record every signed-in role gets 404."""
    wrong = []
    for (name, role, network), seen in matrix.items():
        if network != OTHER or role == "anonymous" or RECIPES[name].obj is None:
            continue
        if POLICY.get(name, PUBLIC).public or (name, role, network) in KNOWN_MISMATCHES:
            continue
        if seen.outcome != NOT_FOUND:
            wrong.append(f"{_describe(name, role, network, seen)} ({seen.outcome})")
    assert not wrong, "Records outside the gate must be 404:\n  " + "\n  ".join(sorted(wrong))


def test_an_empty_write_to_a_record_outside_the_gate_is_404(requested):
    """No form or serializer is read before the gate: an empty body sent to
    another network's record is 404 (405 where the route takes no write)."""
    wrong = [
        f"{name}: {seen.method.upper()} {seen.url} -> {seen.status}"
        for name, seen in sorted(requested[1].items())
        if seen.status not in (404, 405) and name not in KNOWN_BLIND_WRITES
    ]
    fixed = [
        f"{name}: now {requested[1][name].status}; remove it from KNOWN_BLIND_WRITES"
        for name in KNOWN_BLIND_WRITES
        if requested[1][name].status in (404, 405)
    ]
    assert not wrong + fixed, "Empty writes to another network's record:\n  " + "\n  ".join(
        wrong + fixed
    )


def test_the_matrix_covers_every_route_role_and_network(matrix, requested):
    routes = {name for name, _, _ in matrix}
    assert routes == set(project_routes()) & set(RECIPES)
    assert len(matrix) == len(routes) * CELLS_PER_ROUTE
    # Run with -s to see the size (the README quotes it); ACCESS_MATRIX_DUMP=1
    # prints what every cell answered.
    print(
        f"\naccess matrix: {len(routes)} routes x {len(ROLES)} roles x {len(NETWORKS)}"
        f" networks = {len(matrix)} cells; {len(requested[1])} empty writes outside the gate;"
        f" {len(KNOWN_MISMATCHES) + len(KNOWN_BLIND_WRITES)} known mismatches"
    )
    if os.environ.get("ACCESS_MATRIX_DUMP"):
        for name in sorted(routes):
            row = " ".join(
                f"{role}={matrix[(name, role, OWN)].status}/{matrix[(name, role, OTHER)].status}"
                for role in ROLES
            )
            print(f"{name} [{matrix[(name, 'matron', OWN)].method.upper()}] {row}")
