"""Audit completeness: every request that shows people's data records whom
it showed, once; a request that shows no one records nothing.

Every GET route of the project (site pages and ``/api/v1/``), found from the
URL resolver by the access matrix's ``project_routes()``, is requested once
by a persona the matrix's ``POLICY`` lets in, for a record of their own
network: the record's owner when the route is one person's, else the first
of matron, GP chair, navigator, member and admin that the policy allows (an
anonymous visitor for a public route). Each request runs in the matrix's
``_request``, inside a savepoint that is rolled back; the audit rows it wrote
are read inside that savepoint, before the rollback.

What each GET route shows is written once, in three tables; a GET route in
none of them fails ``test_every_get_route_is_classified``:

- ``SHOWS_PATIENTS``: people's data. Exactly one access event, by the
  persona, carrying the request's id, naming at least one person and the
  people of the records listed for the route (the record the route names,
  or those a list shows in this world).
- ``ACTIVITY_ONLY``: a report or export of a network's activity, which names
  no one (``mdtcare/reports/detail.py``: "activity, never people"). Exports
  are recorded (ARCHITECTURE.md, Audit), so: exactly one access event,
  naming no one.
- ``NO_PATIENT_DATA``: forms, settings, the schema, an uploader's own file
  report, meetings with their counts. No access event.

Whatever the table says, the response is read too: every person of the
world whose public id, NHS number or (made unique here) family name is in it
must be named by the request's event. So a page cannot show someone it does
not record, and a page said to show no one shows no one. Every list is
requested where the world puts someone on it (the plain member is given an
action of their own for their home page), so that each row of
``SHOWS_PATIENTS`` can fail; what an empty list records is not pinned here
(a search that finds no one is still recorded as asked, the home page
records nothing when it names no one: ``_record_people_shown``).

The home page differs by role, so it is requested as each role
(``HOME_SHOWS``). Every write route is sent as its persona (``WRITE_PERSONAS``
where the service allows fewer than the policy), with the matrix's least
body or, for the main clinical writes, a body that gets past the form
(``WRITE_BODIES``); the writes that answer htmx with a block of a list are
sent as htmx too (``HTMX_WRITES``). No write may fail (a second access event
in one request raises), write more than one access event, or answer with
people it does not name; and every change any request makes is in the
change history with the persona as actor, the request's id and its source.

Bulk writes made through the application, the risk-score and the
hospital-activity import confirmed, are checked row by row in the change
history. That the audit tables refuse UPDATE, DELETE and TRUNCATE is in
``tests/audit/test_change_history.py``.

Where the app does not yet record what it shows, the request is listed in
``KNOWN_GAPS`` with what is wrong today and the fix: reported, not failed;
once fixed, it fails until its line goes.

The world is the access matrix's (North and South, one of everything), built
once per module inside a transaction rolled back at the end, and every
request is made in one pass.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from uuid import UUID

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Max
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from mdtcare.audit.models import AccessEvent, ChangeEvent
from mdtcare.core import nhs_number
from mdtcare.reports.models import ReportExport
from meetings.models import Meeting
from patients.models import HospitalActivity, HospitalActivityImport, Patient, RiskImport
from tests.factories import PatientFactory
from tests.reports import builders
from tests.security.test_access_matrix import (
    ALLOW,
    OWN,
    POLICY,
    RECIPES,
    _body_for,
    _clients,
    _outcome,
    _persona_user,
    _read,
    _request,
    build_worlds,
    expected,
    project_routes,
    project_write_routes,
)
from tests.test_query_budget import World

pytestmark = pytest.mark.django_db

# Who requests a route: the first of these that the policy lets in.
PERSONAS = ("matron", "gp_chair", "navigator", "member", "admin")


# --- what each GET route shows --------------------------------------------

# Route name -> the world's records whose people its access event must name
# (a record's person; a meeting's, everyone on its agenda). Empty: a list
# that must name someone, whoever it is.
SHOWS_PATIENTS: dict[str, tuple[str, ...]] = {
    # The matron's home page: her drafts and the plans she leads that are
    # due for review. Each role's: HOME_SHOWS.
    "home": ("draft_assessment", "plan"),
    # The register and a person's record.
    "patients:list": ("patient", "referral", "unplanned_patient"),
    "patients:export": ("patient", "referral", "unplanned_patient"),
    "patients:triage": ("referral",),
    # People at high risk and not on the register: the world does not keep
    # them by name, any will do.
    "patients:case_finding": (),
    "patients:detail": ("patient",),
    "patients:edit": ("patient",),
    "patients:conditions": ("patient",),
    "patients:carer_add": ("patient",),
    "patients:consent": ("patient",),
    "patients:refer": ("patient",),
    "patients:accept": ("referral",),
    "patients:decline": ("referral",),
    "patients:entry_status": ("entry",),
    "patients:allocate": ("entry",),
    # The form lists the user's emergency access in force, by person.
    "patients:emergency_access": ("emergency_access",),
    "patients:emergency_record": ("emergency_access",),
    "patient-list": ("patient", "referral", "unplanned_patient"),
    "patient-detail": ("patient",),
    "register-entry-list": ("entry", "referral"),
    "register-entry-detail": ("entry",),
    # Assessments.
    "careplans:assessment_list": ("assessment",),
    "careplans:assessment_start": ("patient",),
    "careplans:assessment": ("assessment",),
    "careplans:assessment_details": ("draft_assessment",),
    "careplans:assessment_section": ("draft_assessment",),
    "careplans:assessment_check": ("draft_assessment",),
    "careplans:assessment_print": ("assessment",),
    "careplans:assessment_amend": ("assessment",),
    "assessment-list": ("assessment",),
    "assessment-detail": ("assessment",),
    # Care plans.
    "careplans:plan_attention": ("plan", "proposed_plan"),
    "careplans:plan": ("plan",),
    "careplans:plan_compare": ("plan",),
    "careplans:plan_print": ("plan",),
    "careplans:plan_share": ("ratified_plan",),
    "careplans:plan_create": ("unplanned_patient",),
    "careplans:plan_edit": ("draft_plan",),
    "careplans:plan_goal": ("draft_plan",),
    "careplans:plan_team_add": ("draft_plan",),
    "careplans:plan_ratify": ("proposed_plan",),
    "careplan-list": ("plan", "draft_plan", "proposed_plan"),
    "careplan-detail": ("plan",),
    "careplan-fhir": ("plan",),
    # Meetings: everyone on the agenda.
    "meetings:meeting": ("open_meeting",),
    "meetings:meeting_pack": ("open_meeting",),
    "meetings:meeting_run": ("open_meeting",),
    "meetings:meeting_run_item": ("open_meeting",),
    "meetings:meeting_close": ("open_meeting",),
    "meetings:meeting_minutes": ("closed_meeting",),
    "meetings:discussion_amend": ("closed_item",),
    # The agenda, and the people proposed for it.
    "meetings:agenda_builder": ("open_meeting", "unplanned_patient"),
    "meeting-list": ("open_meeting", "closed_meeting"),
    "meeting-detail": ("open_meeting",),
    # Actions.
    "meetings:worklist": ("action",),
    "meetings:my_actions": ("action",),
    "meetings:action_create": ("patient",),
    # Who the action can go to, opened from its row's Reassign.
    "meetings:action_reassign": ("action",),
    "action-list": ("action",),
    "action-detail": ("action",),
    # A notification names the person it is about.
    "notifications:list": ("notification",),
    "notification-list": ("notification",),
    "notification-detail": ("notification",),
}

# Reports and exports of a network's activity: one access event, naming no one.
ACTIVITY_ONLY: set[str] = {
    "reports:monthly_activity",
    "reports:monthly_activity_export",
    "reports:evaluation",
    "reports:evaluation_export",
    # Without months, the form to ask for the actions export.
    "reports:actions_export",
    "reports:export_list",
    "reports:export",
    "reports:export_download",
    "api-monthly-activity",
    "api-report-actions",
    "api-report-export",
    "api-report-export-download",
}

# No one's data: no access event.
NO_PATIENT_DATA: set[str] = {
    "healthz",
    "accounts:login",
    "accounts:account",
    "accounts:two_factor",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "api-me",
    "api-schema",
    "api-docs",
    "notifications:settings",
    # Blank forms: a new person, the first step of a referral, a meeting.
    "patients:create",
    "patients:refer_start",
    "meetings:meeting_schedule",
    # Cancelling a meeting: its date and the reason asked, no one on its agenda.
    "meetings:meeting_cancel",
    # Meetings with how many people each agenda has, no one named.
    "meetings:meeting_list",
    # The upload forms, and the report of the uploader's own file (its rows
    # and problems by line: whom it matches is known only when confirmed).
    "patients:risk_import",
    "patients:risk_import_review",
    "patients:hospital_activity_import",
    "patients:hospital_activity_import_review",
    "risk-import-detail",
    "hospital-activity-import-detail",
}

# The home page by role: the records whose people it names, or None where it
# has counts only (the navigator's).
HOME_SHOWS: dict[str, tuple[str, ...] | None] = {
    "matron": ("draft_assessment", "plan"),
    "gp_chair": ("proposed_plan",),
    "navigator": None,
    # Their own actions (the world gives the member one).
    "member": ("member_action",),
    # Emergency access to the network's people, for the admins to review.
    "admin": ("emergency_access",),
}

# Requests that do not yet record what they show: "METHOD route" (as the
# failures name them) -> (what is wrong today, in the words of
# _read_problems or _write_problems; the fix). Reported, not failed.
KNOWN_GAPS: dict[str, tuple[str, str]] = {}


# --- how each write is sent -------------------------------------------------


def _date(name: str, day: int | str = "@today.day", month="@today.month", year="@today.year"):
    """A date as the site's three-box date input sends it."""
    return {f"{name}_0": day, f"{name}_1": month, f"{name}_2": year}


_PERSON = {
    "given_name": "Mary",
    "family_name": "Okafor",
    **_date("date_of_birth", 3, 4, 1941),
    "sex": "female",
    "postcode": "LS1 4AP",
    "practice": "@practice.pk",
}

# The main clinical writes, with a body that gets past their form or
# serializer to the service (the matrix's BODIES reach only the role check),
# so that the path that changes the record is the one checked. "@a.b" is
# read from the world. Each must still be accepted
# (test_the_write_bodies_here_get_past_their_forms).
WRITE_BODIES: dict[str, dict] = {
    # The person's record.
    "patients:edit": _PERSON,
    "patients:consent": {"topic": "mdt_discussion", "decision": "given", **_date("decided_on")},
    "patients:carer_add": {"name": "Grace Okafor", "relationship": "Daughter"},
    "patients:conditions": {"conditions": ["copd"]},
    "patients:accept": {
        "clinical_lead": "@users.matron.pk",
        "navigator": "@users.navigator.pk",
        "expected": "referred",
    },
    "patients:decline": {"reason": "Duplicate referral", "expected": "referred"},
    "patients:allocate": {
        "clinical_lead": "@users.matron.pk",
        "navigator": "@users.navigator.pk",
        "expected": "active",
    },
    "patients:entry_status": {
        "to_status": "stepped_down",
        "reason": "Goals met",
        "expected": "active",
    },
    "patients:emergency_access": {
        "nhs_number": "@outside_nhs_number",
        "reason": "Seen at home out of hours after a fall",
    },
    "register-entry-decline": {"reason": "Duplicate referral"},
    "register-entry-step-down": {"reason": "Goals met"},
    "register-entry-discharge": {"reason": "Moved away"},
    # Assessments and care plans.
    "careplans:assessment_section": {"version": "@draft_assessment.version", "medicines_count": 4},
    "careplans:plan_ratify": {"revision": "@proposed_plan.revision", "note": "Agreed at the MDT"},
    "careplans:plan_share": {"shared_how": "in_person", **_date("shared_on")},
    "assessment-section": {
        "version": "@draft_assessment.version",
        "answers": {"medicines_count": 4},
    },
    "assessment-amend": {
        "section": "medicines",
        "answers": {"medicines_count": 5},
        "reason": "Counted again with the pharmacist",
    },
    "careplan-share": {"shared_on": "@today", "how": "in_person"},
    # Meetings and actions.
    "meetings:meeting_run": {"acting_reason": ""},
    "meetings:action_create": {
        "what": "Book a medication review",
        "source": "other",
        "owner": "@users.matron.pk",
        "priority": "routine",
        **_date("due_on"),
    },
    "meetings:action_reassign": {"owner": "@users.navigator.pk", "note": "Back from leave"},
    "meetings:action_cancel": {"note": "No longer needed"},
    "action-reassign": {"owner": "@users.navigator.pk", "note": "Back from leave"},
}

# Writes refused on purpose whose refusal names someone: what is sent
# (label -> route, body).
REFUSED_WRITES: dict[str, tuple[str, dict]] = {
    # Adding someone already on the register: the form says who they are.
    "patients:create (already on the register)": (
        "patients:create",
        {**_PERSON, "nhs_number": "@patient.nhs_number"},
    ),
}

# Writes whose service allows fewer people than the policy shows the page
# to: who sends them.
WRITE_PERSONAS: dict[str, str] = {"meetings:meeting_run": "gp_chair"}

# Writes that answer htmx with the block of the list or agenda they were
# made on (one access event naming everyone the block shows): each is sent
# again as htmx.
HTMX_WRITES = (
    "meetings:action_start",
    "meetings:action_complete",
    "meetings:action_reassign",
    "meetings:action_cancel",
    "meetings:agenda_move",
    "meetings:agenda_remove",
    "notifications:read",
)
HTMX = {"HX-Request": "true"}


def persona_for(name: str) -> str:
    """Who requests ``name``: the record's owner, or the first persona the
    policy lets in, in their own network; anonymous for a public route."""
    if POLICY[name].public:
        return "anonymous"
    allowed = [role for role in PERSONAS if expected(name, role, OWN) == ALLOW]
    if not allowed:
        raise LookupError(f"{name}: the policy lets none of {PERSONAS} in")
    return allowed[0]


def _write_body(name: str, world: World, body: dict | None = None) -> dict:
    """The body of a write: ``body``, or WRITE_BODIES', or the matrix's."""
    body = body if body is not None else WRITE_BODIES.get(name)
    if body is None:
        return _body_for(name, world)
    return {
        key: _read(world, value[1:]) if isinstance(value, str) and value.startswith("@") else value
        for key, value in body.items()
    }


# --- requesting, and reading what each request wrote -----------------------


@dataclass
class Written:
    """The audit rows one request wrote, read before its rollback."""

    events: list[tuple[AccessEvent, set[UUID]]] = field(default_factory=list)
    changes: list[ChangeEvent] = field(default_factory=list)

    @property
    def named(self) -> set[UUID]:
        return set().union(*(patients for _, patients in self.events))


class _Recording:
    """A client for ``_request`` that reads the audit rows each request
    wrote inside ``_request``'s savepoint, before it is rolled back."""

    def __init__(self, client, headers=None):
        self.client = client
        self.headers = headers or {}
        self.written = Written()

    @property
    def cookies(self):
        return self.client.cookies

    @cookies.setter
    def cookies(self, value):
        self.client.cookies = value

    def __getattr__(self, method):
        send = getattr(self.client, method)

        def request(*args, **kwargs):
            last_event = AccessEvent.objects.aggregate(last=Max("pk"))["last"] or 0
            last_change = ChangeEvent.objects.aggregate(last=Max("pk"))["last"] or 0
            response = send(*args, headers=self.headers, **kwargs)
            if response.streaming:  # a download may be written as it is read
                response.streaming_content = [b"".join(response.streaming_content)]
            events = AccessEvent.objects.filter(pk__gt=last_event).select_related("user")
            self.written = Written(
                events=[
                    (event, set(event.patients.values_list("patient_id", flat=True)))
                    for event in events.order_by("pk")
                ],
                changes=list(ChangeEvent.objects.filter(pk__gt=last_change).order_by("pk")),
            )
            return response

        return request


@dataclass
class Seen:
    method: str
    persona: str
    url: str
    status: int
    outcome: str = ""
    request_id: str = ""
    written: Written = field(default_factory=Written)
    shown: set[UUID] = field(default_factory=set)  # people the response shows
    error: str = ""

    def describe(self, name: str) -> str:
        return f"{self.method.upper()} {name} as {self.persona}: {self.url} -> {self.status}"


@dataclass
class Audited:
    reads: dict[str, Seen]
    homes: dict[str, Seen]
    writes: dict[str, Seen]
    users: dict  # persona -> user
    people_of: dict[str, set[UUID]]  # record of the world -> its people


def _unique_family_names() -> dict[UUID, tuple[str, ...]]:
    """Give everyone of the world a family name no page has otherwise, so
    that a page naming them is seen; each person -> the ways a response can
    show them (public id, NHS number as stored and as shown, family name)."""
    shown_as = {}
    for index, (pk, number) in enumerate(Patient.objects.values_list("pk", "nhs_number")):
        family_name = f"Zq{index:04d}x"
        Patient.objects.filter(pk=pk).update(family_name=family_name)
        shown_as[pk] = (str(pk), number, nhs_number.display(number), family_name.lower())
    return shown_as


def _request_as(
    clients, world, shown_as, name: str, method: str, persona: str, data=None, headers=None
) -> Seen:
    url = world.url(name, RECIPES[name])
    api = url.startswith("/api/")
    client = _Recording(clients[persona][1 if api else 0], headers)
    try:
        response, body = _request(client, method, url, data or {})
    except Exception as exc:  # a view that raised: a 500
        return Seen(method, persona, url, 500, error=repr(exc)[:300])
    body = body.lower()
    return Seen(
        method,
        persona,
        url,
        response.status_code,
        _outcome(response, method=method, api=api, anonymous=persona == "anonymous"),
        response.get("X-Request-ID", ""),
        client.written,
        {pk for pk, texts in shown_as.items() if any(text.lower() in body for text in texts)},
    )


def _extend_world(worlds, export_dir) -> None:
    """What the matrix's world lacks here: an action the plain member owns
    (their home page lists it), a finished export file to download, and
    the NHS number of someone outside North (for emergency access)."""
    north = worlds["north"]
    north.member_action = builders.action(
        north.patient,
        created_at=timezone.now(),
        due_on=north.today + dt.timedelta(days=3),
        owner=north.users["member"],
    )
    ReportExport.objects.filter(pk=north.export.pk).update(status=ReportExport.Status.READY)
    (export_dir / north.export.file_name).write_text("Network code,Status\nnorth,Open\n")
    north.outside_nhs_number = worlds["south"].patient.nhs_number


def _people_of(world: World) -> dict[str, set[UUID]]:
    """The people of each record the tables above name."""
    records = {name for names in SHOWS_PATIENTS.values() for name in names}
    records |= {name for names in HOME_SHOWS.values() if names for name in names}
    people = {}
    for name in records:
        record = getattr(world, name)
        if isinstance(record, Patient):
            people[name] = {record.pk}
        elif isinstance(record, Meeting):
            people[name] = set(record.agenda.values_list("patient_id", flat=True))
        else:
            people[name] = {record.patient_id}
    return people


@pytest.fixture(scope="module")
def audited(django_db_setup, django_db_blocker, tmp_path_factory) -> Audited:
    """Every GET route, the home page as each role and every write, each
    requested once, in a world rolled back afterwards."""
    export_dir = tmp_path_factory.mktemp("exports")
    # Writes that fall short of their form, or are refused: log only 5xx.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    try:
        with (
            override_settings(REPORT_EXPORT_DIR=export_dir),
            django_db_blocker.unblock(),
            transaction.atomic(),
        ):
            worlds = build_worlds()
            _extend_world(worlds, export_dir)
            north = worlds["north"]
            clients = _clients(worlds)
            shown_as = _unique_family_names()

            def send(name, method, persona, data=None, headers=None):
                return _request_as(clients, north, shown_as, name, method, persona, data, headers)

            # A route the matrix cannot request yet (no recipe or policy) is
            # reported by the matrix, and here by the test of its route.
            reads = {
                name: send(name, "get", persona_for(name))
                for name, method in project_routes().items()
                if method == "get" and name in RECIPES and name in POLICY
            }
            homes = {role: send("home", "get", role) for role in HOME_SHOWS}
            writes = {}
            for name, method in project_write_routes().items():
                if name not in RECIPES or name not in POLICY:
                    continue
                persona = WRITE_PERSONAS.get(name) or persona_for(name)
                body = _write_body(name, north)
                writes[name] = send(name, method, persona, body)
                if name in HTMX_WRITES:
                    writes[f"{name} (htmx)"] = send(name, method, persona, body, HTMX)
            for label, (name, body) in REFUSED_WRITES.items():
                method = project_write_routes()[name]
                writes[label] = send(
                    name, method, persona_for(name), _write_body(name, north, body)
                )
            audited = Audited(
                reads,
                homes,
                writes,
                {role: _persona_user(worlds, role) for role in (*PERSONAS, "anonymous")},
                _people_of(north),
            )
            transaction.set_rollback(True)
    finally:
        request_log.setLevel(level)
    return audited


# --- what is wrong with one request -----------------------------------------


def _event_problems(seen: Seen, user) -> list[str]:
    problems = []
    for event, _ in seen.written.events:
        if event.user_id != getattr(user, "pk", None):
            problems.append(f"its access event names {event.user}, not {seen.persona}")
        if event.request_id != seen.request_id:
            problems.append("its access event does not carry the request's id")
    unnamed = seen.shown - seen.written.named
    if unnamed:
        problems.append(f"shows {len(unnamed)} people it does not name")
    return problems


def _read_problems(seen: Seen, *, names, activity: bool, user, people_of) -> list[str]:
    """What is wrong with a GET's access events, in words that stay the same
    from run to run (``KNOWN_GAPS`` quotes them). ``names``: the records whose
    people it must name; None when it shows no one."""
    events, named = seen.written.events, seen.written.named
    want = 1 if names is not None or activity else 0
    if len(events) != want:
        return [f"writes {len(events)} access events, not {want}"]
    problems = []
    if names is not None:
        if not named:
            problems.append("its access event names no one")
        problems += [
            f"does not name the person of {record}"
            for record in names
            if not people_of[record] <= named
        ]
    elif named:
        problems.append(f"names {len(named)} people but is said to show no one")
    return problems + _event_problems(seen, user)


def _write_problems(seen: Seen, user) -> list[str]:
    if seen.error or seen.status >= 500:
        return [f"fails: {seen.error or seen.status}"]
    if len(seen.written.events) > 1:
        return [f"writes {len(seen.written.events)} access events"]
    return _event_problems(seen, user)


def _check(key: str, problems: list[str]) -> list[str]:
    """The problems to report, with KNOWN_GAPS taken into account."""
    known = KNOWN_GAPS.get(key)
    if known is None:
        return problems
    if problems[:1] != [known[0]]:
        return [f"now {problems or 'right'}: update or remove its line in KNOWN_GAPS"]
    return []


# --- the tests ----------------------------------------------------------------


def get_routes() -> set[str]:
    return {name for name, method in project_routes().items() if method == "get"}


CLASSIFIED = set(SHOWS_PATIENTS) | ACTIVITY_ONLY | NO_PATIENT_DATA


def test_every_get_route_is_classified():
    routes = get_routes()
    tables = (set(SHOWS_PATIENTS), ACTIVITY_ONLY, NO_PATIENT_DATA)
    missing = sorted(routes - CLASSIFIED)
    stale = sorted(CLASSIFIED - routes)
    twice = sorted(name for name in CLASSIFIED if sum(name in table for table in tables) > 1)
    no_recipe = sorted(routes - set(RECIPES))
    assert not missing, (
        f"GET routes in none of SHOWS_PATIENTS, ACTIVITY_ONLY, NO_PATIENT_DATA: {missing}"
    )
    assert not stale, f"Classified routes that are not GET routes (any more): {stale}"
    assert not twice, f"Routes classified twice: {twice}"
    assert not no_recipe, f"GET routes with no recipe in the access matrix: {no_recipe}"


@pytest.mark.parametrize("name", sorted(CLASSIFIED))
def test_a_page_or_endpoint_records_exactly_the_access_it_gives(audited, name):
    seen = audited.reads.get(name)
    assert seen is not None, f"{name} was not requested (no recipe or policy in the matrix)"
    assert not seen.error, f"{seen.describe(name)}: {seen.error}"
    # Refused or sent elsewhere, it would show nothing and prove nothing.
    assert seen.outcome == ALLOW and seen.status < 300, f"{seen.describe(name)}: not let in"
    problems = _read_problems(
        seen,
        names=SHOWS_PATIENTS.get(name),
        activity=name in ACTIVITY_ONLY,
        user=audited.users[seen.persona],
        people_of=audited.people_of,
    )
    problems = _check(f"GET {name}", problems)
    assert not problems, f"{seen.describe(name)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("role", sorted(HOME_SHOWS))
def test_each_roles_home_page_records_the_people_it_names(audited, role):
    seen = audited.homes[role]
    assert not seen.error and seen.status == 200, f"{seen.describe('home')} {seen.error}"
    problems = _read_problems(
        seen,
        names=HOME_SHOWS[role],
        activity=False,
        user=audited.users[role],
        people_of=audited.people_of,
    )
    assert not problems, f"{seen.describe('home')}:\n  " + "\n  ".join(problems)


def test_no_write_fails_writes_two_access_events_or_shows_someone_unnamed(audited):
    """A write answers with at most one access event (a second in one request
    raises: no write may fail with it), naming everyone its answer shows."""
    wrong = []
    for name, seen in sorted(audited.writes.items()):
        problems = _write_problems(seen, audited.users[seen.persona])
        problems = _check(f"{seen.method.upper()} {name}", problems)
        wrong += [f"{seen.describe(name)}: {problem}" for problem in problems]
    assert not wrong, "Writes:\n  " + "\n  ".join(wrong)


def test_every_change_names_the_user_and_the_request(audited):
    """Whatever a request changes is in the change history as the persona's
    change, with the request's id and where it came from (web or API)."""
    wrong = []
    requests = [*audited.reads.items(), *audited.writes.items()]
    for name, seen in requests:
        user = audited.users[seen.persona]
        source = "api" if seen.url.startswith("/api/") else "web"
        for change in seen.written.changes:
            made = (change.actor_id, change.request_id, change.source)
            if made != (getattr(user, "pk", None), seen.request_id, source):
                wrong.append(f"{seen.describe(name)}: {change} made by {made}")
    assert not wrong, "Changes not recorded as the request's:\n  " + "\n  ".join(wrong)


def test_the_writes_change_what_they_say(audited):
    """The checks above reach the services: the writes sent with a body here
    changed their records (each change names the persona, above)."""
    unchanged = sorted(name for name in WRITE_BODIES if not audited.writes[name].written.changes)
    assert not unchanged, (
        f"Writes that changed nothing (is their body still accepted?): {unchanged}"
    )


def test_the_write_bodies_here_get_past_their_forms(audited):
    """Accepted: the site redirects (a form sent back is a 200), the API
    answers 200 or 201."""
    refused = []
    for name in sorted(WRITE_BODIES):
        seen = audited.writes[name]
        accepted = (200, 201) if seen.url.startswith("/api/") else (302,)
        if seen.status not in accepted:
            refused.append(seen.describe(name))
    assert not refused, "WRITE_BODIES no longer accepted:\n  " + "\n  ".join(refused)


def test_every_get_route_and_write_was_requested(audited):
    assert set(audited.reads) == get_routes() & set(RECIPES) & set(POLICY)
    sent = set(project_write_routes()) & set(RECIPES) & set(POLICY)
    variants = {f"{name} (htmx)" for name in HTMX_WRITES} | set(REFUSED_WRITES)
    assert set(audited.writes) == sent | variants
    requests = {f"GET {name}" for name in audited.reads} | {
        f"{seen.method.upper()} {label}" for label, seen in audited.writes.items()
    }
    assert set(KNOWN_GAPS) <= requests, "KNOWN_GAPS names requests that are not made"
    print(
        f"\naudit completeness: {len(audited.reads)} GET routes, {len(SHOWS_PATIENTS)} showing"
        f" people, {len(ACTIVITY_ONLY)} activity only, {len(NO_PATIENT_DATA)} no one;"
        f" {len(audited.writes)} writes; {len(KNOWN_GAPS)} known gaps"
    )


# --- bulk writes: the imports ------------------------------------------------


def _history_of(model, rows) -> dict:
    """Each row's change events, by row."""
    ids = {str(row.pk): row.pk for row in rows} | {row.pk.hex: row.pk for row in rows}
    events = ChangeEvent.objects.filter(table_name=model._meta.db_table, row_id__in=ids)
    history = {}
    for event in events.order_by("pk"):
        history.setdefault(ids[event.row_id], []).append(event)
    return history


def _last_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def test_confirming_a_risk_import_records_each_persons_change_as_the_importers(
    navigator, practice_a
):
    people = PatientFactory.create_batch(3, practice=practice_a)
    scored_on = timezone.localdate().isoformat()
    rows = "\n".join(f"{p.nhs_number},8{n}.5,mild,{scored_on}" for n, p in enumerate(people))
    content = f"NHS number,risk score,eFI category,score date\n{rows}\n".encode()
    api = APIClient()
    api.force_authenticate(navigator)
    uploaded = api.post(
        reverse("risk-import-list"),
        {"file": SimpleUploadedFile("scores.csv", content, content_type="text/csv")},
        format="multipart",
    )
    risk_import = RiskImport.objects.get(pk=uploaded.json()["id"])
    before = ChangeEvent.objects.aggregate(last=Max("pk"))["last"]

    response = api.post(reverse("risk-import-confirm", args=[risk_import.pk]))

    assert response.status_code == 200, response.content
    history = _history_of(Patient, people)
    assert set(history) == {p.pk for p in people}
    for person in people:
        [change] = [c for c in history[person.pk] if c.pk > before]
        assert change.operation == "update"
        assert change.after["risk_score"] is not None
        assert (change.actor_id, change.source) == (navigator.pk, "api")
        assert change.request_id == response["X-Request-ID"]
    [event] = AccessEvent.objects.filter(request_id=response["X-Request-ID"])
    assert set(event.patients.values_list("patient_id", flat=True)) == {p.pk for p in people}


def test_confirming_a_hospital_activity_import_records_each_row_as_the_importers(
    client, navigator, practice_a
):
    people = PatientFactory.create_batch(3, practice=practice_a)
    month = _last_month(timezone.localdate())
    # One month already imported: confirming replaces its counts (an upsert).
    earlier = HospitalActivity.objects.create(patient=people[0], month=month, ae_attendances=9)
    rows = "\n".join(f"{p.nhs_number},{month:%Y-%m},1,1,0,2,{n}" for n, p in enumerate(people))
    content = (
        "nhs_number,month,ae_attendances,non_elective_admissions,elective_admissions,"
        f"outpatient_attendances,bed_days\n{rows}\n"
    ).encode()
    client.force_login(navigator)
    uploaded = client.post(
        reverse("patients:hospital_activity_import"),
        {"file": SimpleUploadedFile("activity.csv", content, content_type="text/csv")},
    )
    assert uploaded.status_code == 302, uploaded.content
    activity_import = HospitalActivityImport.objects.get()
    before = ChangeEvent.objects.aggregate(last=Max("pk"))["last"]

    response = client.post(
        reverse("patients:hospital_activity_import_review", args=[activity_import.pk]),
        {"action": "apply"},
    )

    assert response.status_code == 302
    rows = list(HospitalActivity.objects.filter(patient__in=people, month=month))
    assert len(rows) == 3
    history = _history_of(HospitalActivity, rows)
    for row in rows:
        [change] = [c for c in history.get(row.pk, []) if c.pk > before]
        assert change.operation == ("update" if row.pk == earlier.pk else "insert")
        assert (change.actor_id, change.source) == (navigator.pk, "web")
        assert change.request_id == response["X-Request-ID"]
    [event] = AccessEvent.objects.filter(request_id=response["X-Request-ID"])
    assert set(event.patients.values_list("patient_id", flat=True)) == {p.pk for p in people}
