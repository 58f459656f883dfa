"""A person's own notifications: the list, marking them read, and how they
hear about each kind. Someone else's notification is a 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mdtcare.audit.services import access_record
from mdtcare.core.forms_errors import add_service_errors
from mdtcare.notifications import selectors, services
from mdtcare.notifications.forms import NotificationPreferencesForm
from mdtcare.notifications.models import URGENT_KINDS, NotificationKind

PAGE_SIZE = 25


def _record_shown(request, what: str, notifications) -> dict:
    """One access event naming the people the notifications are about;
    returns those the user may still see, by id, to name them on the page."""
    patient_ids = [n.patient_id for n in notifications if n.patient_id]
    patients = selectors.patients_shown(user=request.user, patient_ids=patient_ids)
    access_record(
        request=request,
        what=what,
        patient_ids=patient_ids,
        network_ids={patient.practice.network_id for patient in patients.values()},
    )
    return patients


@require_GET
def notification_list(request):
    """The user's notifications, newest first, unread ones marked."""
    page = Paginator(selectors.notifications_of(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    patients = _record_shown(request, "notifications.list", page.object_list)
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "items": [(n, patients.get(n.patient_id)) for n in page.object_list],
            "next": request.get_full_path(),
        },
    )


def _next(request) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("notifications:list")


@require_POST
def notification_read(request, notification_id):
    """Mark one read; with htmx, answer with its row (and the header's count)."""
    notification = selectors.notification_get_for_user(
        user=request.user, notification_id=notification_id
    )
    notification = services.notification_mark_read(user=request.user, notification=notification)
    patients = _record_shown(request, "notifications.mark_read", [notification])
    if request.htmx:
        return render(
            request,
            "notifications/_read.html",
            {
                "notification": notification,
                "patient": patients.get(notification.patient_id),
                "next": _next(request),
            },
        )
    return redirect(_next(request))


@require_POST
def notification_read_all(request):
    marked = services.notifications_mark_all_read(user=request.user)
    if marked:
        messages.success(request, "All your notifications are marked as read.")
    return redirect(_next(request))


@require_http_methods(["GET", "POST"])
def notification_settings(request):
    """How the user hears about each kind: in mdtcare only, by e-mail too, or
    in a daily summary e-mail. Urgent kinds are always e-mailed at once."""
    form = NotificationPreferencesForm(
        request.POST or None, preferences=selectors.preferences_of(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_preferences_save(user=request.user, deliveries=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your notification settings are saved.")
            return redirect("notifications:settings")
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "urgent_kinds": [NotificationKind(kind).label for kind in URGENT_KINDS]},
    )
