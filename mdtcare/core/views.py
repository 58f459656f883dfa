"""Home pages by role, the health check and error pages."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache

from careplans.plan_selectors import (
    plans_awaiting_ratification,
    review_state,
    reviews_due_for_lead,
)
from careplans.selectors import assessment_drafts
from mdtcare.accounts.models import Membership
from mdtcare.accounts.selectors import current_membership, memberships_cached
from mdtcare.audit.services import access_record
from mdtcare.reports.dashboard import month_so_far
from meetings.action_selectors import (
    MINE,
    OPEN,
    WorklistFilters,
    my_actions,
    navigator_dashboard,
)
from meetings.selectors import upcoming_meetings
from patients.emergency import ADMIN_DAYS, emergency_accesses_for_admin
from patients.selectors import triage_queue

HOME_TEMPLATES = {
    Membership.Role.MATRON: "home/matron.html",
    Membership.Role.GP_CHAIR: "home/chair.html",
    Membership.Role.NAVIGATOR: "home/navigator.html",
    Membership.Role.ADMIN: "home/admin.html",
    Membership.Role.MEMBER: "home/member.html",
}
# Each list on a home page shows this many rows at most, and links to the rest.
HOME_ROWS = 10


def home(request):
    """Each role lands on the page that says what needs them."""
    membership = current_membership(request=request)
    template = HOME_TEMPLATES.get(membership.role) if membership else "home/no_network.html"
    context = {"membership": membership, "emergency_days": ADMIN_DAYS}
    if membership and membership.role == Membership.Role.NAVIGATOR:
        # Counts only (no one named): each card links to the list it counts.
        context["dashboard"] = navigator_dashboard(
            user=request.user,
            network_ids=[m.network_id for m in memberships_cached(request=request)],
        )
    if membership and membership.role == Membership.Role.ADMIN:
        context["referrals_waiting"] = triage_queue(user=request.user).count()
        context["activity"] = month_so_far(network=membership.network)
        # Emergency access to the network's people: each is the admins' to review.
        emergency = emergency_accesses_for_admin(
            user=request.user, network_id=membership.network_id
        )
        context["emergency"] = list(emergency[:HOME_ROWS])
        context["emergency_count"] = (
            len(context["emergency"])
            if len(context["emergency"]) < HOME_ROWS
            else emergency.count()
        )
        _record_people_shown(request, "home.emergency_access", context["emergency"])
    if membership and membership.role in (Membership.Role.NAVIGATOR, Membership.Role.GP_CHAIR):
        context["next_meetings"] = upcoming_meetings(user=request.user)[:3]
    if membership and membership.role == Membership.Role.MATRON:
        drafts = list(assessment_drafts(user=request.user)[:HOME_ROWS])
        reviews = list(reviews_due_for_lead(user=request.user)[:HOME_ROWS])
        context["drafts"] = drafts
        # "overdue" or "due": the plan pages' own rule.
        context["reviews"] = [(plan, review_state(plan)) for plan in reviews]
        # Both lists name people: one access to all their records.
        _record_people_shown(request, "home.caseload", [*drafts, *reviews])
    if membership and membership.role == Membership.Role.GP_CHAIR:
        proposed = plans_awaiting_ratification(user=request.user)
        context["proposed"] = list(proposed[:HOME_ROWS])
        context["proposed_count"] = proposed.count()
        _record_people_shown(request, "home.plans_awaiting_ratification", context["proposed"])
    if membership and membership.role == Membership.Role.MEMBER:
        # The "Mine" scope of the My actions page, still to do, soonest due first.
        listing = my_actions(user=request.user, filters=WorklistFilters(scope=MINE))
        context["actions"] = list(listing.page.object_list[:HOME_ROWS])
        context["actions_count"] = listing.counts[OPEN]
        _record_people_shown(request, "home.my_actions", context["actions"])
    return render(request, template, context)


def _record_people_shown(request, what: str, records) -> None:
    """A page that names people is an access to their records: one access
    event for all of them, and none when nobody is named."""
    if records:
        access_record(
            request=request,
            what=what,
            patient_ids=[record.patient_id for record in records],
            network_ids={record.patient.practice.network_id for record in records},
        )


@login_not_required
@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 otherwise."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


def _database_ok() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        return "unavailable"


def _broker_ok() -> str:
    from mdtcare.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:
        return "unavailable"


ERRORS = {
    400: (
        "Sorry, there is a problem with the request",
        "The page could not understand what was sent. Go back and try again.",
    ),
    403: (
        "You do not have permission to do this",
        "Your role does not allow this action. If you think it should, ask your service admin.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you followed a link to a "
        "person's record, it may be in a network you do not belong to.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you had saved is lost. If it keeps happening, tell your "
        "service admin the time it happened.",
    ),
}


# What the API says for the errors Django answers before (or instead of) DRF,
# in DRF's shape: the API speaks JSON whatever goes wrong.
API_ERRORS = {
    400: "Bad request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    500: "Server error.",
}


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _error(request, status, detail: str = ""):
    if _is_api(request):
        return JsonResponse({"detail": detail or API_ERRORS[status]}, status=status)
    title, text = ERRORS[status]
    return render(
        request, "errors/error.html", {"title": title, "text": detail or text}, status=status
    )


@login_not_required
def csrf_failure(request, reason=""):
    return render(request, "errors/csrf.html", status=403)


def error_400(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        if _is_api(request):
            return _error(request, 400, "The request is larger than mdtcare accepts (2 MB).")
        return render(
            request,
            "errors/error.html",
            {
                "title": "What you sent is too large",
                "text": "The form held more text than mdtcare accepts (2 MB). Nothing was "
                "saved. Go back, shorten the text and try again.",
            },
            status=400,
        )
    return _error(request, 400)


def error_403(request, exception=None):
    """A refusal says why, in the words of the rule that refused it (services
    raise PermissionDenied with a sentence naming the action)."""
    return _error(request, 403, str(exception) if exception is not None else "")


def error_404(request, exception=None):
    return _error(request, 404)


def error_500(request):
    # Rendered without the request's context: whatever failed (the database,
    # say) must not fail the error page too.
    if _is_api(request):
        return JsonResponse({"detail": API_ERRORS[500]}, status=500)
    title, text = ERRORS[500]
    html = loader.render_to_string("errors/error.html", {"title": title, "text": text})
    return HttpResponseServerError(html)
