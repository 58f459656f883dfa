"""Log-in, log-out, two-factor, password reset, choosing a network and the
user's own account page."""

import datetime as dt
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from mdtcare.accounts import two_factor
from mdtcare.accounts.forms import (
    LoginForm,
    NhsPasswordResetForm,
    NhsSetPasswordForm,
    TwoFactorForm,
)
from mdtcare.accounts.middleware import LOGIN_AT
from mdtcare.accounts.selectors import account_of, memberships_cached, memberships_of


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # Django's login() gives the session a new key (no session fixation).
        response = super().form_valid(form)
        self.request.session[LOGIN_AT] = int(time.time())
        return response


class LogoutView(auth_views.LogoutView):
    template_name = "accounts/logged_out.html"


def two_factor_view(request):
    """Set up an authenticator app (first time) or enter its current code."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    device = two_factor.confirmed_device(request.user)
    setup = None if device else two_factor.device_for_setup(request.user)
    form = TwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request, token=form.cleaned_data["token"]):
            next_url = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                next_url = ""
            return redirect(next_url or "home")
        form.add_error("token", "The security code is not right. Enter the code your app shows now")
    context = {"form": form, "setup": setup}
    if setup:
        context["qr_svg"] = two_factor.qr_code_svg(setup)
        context["secret"] = two_factor.secret_for_typing(setup)
    return render(request, "accounts/two_factor.html", context)


@require_POST
def network_choose(request):
    """Work in another of the user's networks (kept for this session)."""
    chosen = request.POST.get("network", "")
    if not any(str(m.network_id) == chosen for m in memberships_of(user=request.user)):
        return HttpResponseBadRequest("Choose one of your networks.")
    request.session["network_id"] = chosen
    messages.success(request, "You are now working in another network.")
    return redirect("home")


@require_GET
def account(request):
    """Your account: name, profession, organisation, networks and roles, and
    when the session ends. Shows no patient, so it writes no access event
    (like the notification settings page); one query beyond what every
    logged-in page makes (the user's organisation, by primary key)."""
    user = account_of(user=request.user)
    now = timezone.now()
    # The idle timeout is renewed by this request (SESSION_SAVE_EVERY_REQUEST);
    # the absolute one counts from log-in, however active the user is.
    idle_ends = now + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    login_at = request.session.get(LOGIN_AT)
    absolute_ends = (
        dt.datetime.fromtimestamp(int(login_at), tz=dt.UTC)
        + dt.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT)
        if login_at is not None
        else now + dt.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT)
    )
    return render(
        request,
        "accounts/account.html",
        {
            "account": user,
            "account_memberships": memberships_cached(request=request),
            "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
            "absolute_hours": settings.SESSION_ABSOLUTE_TIMEOUT // 3600,
            "session_ends": min(idle_ends, absolute_ends),
            "absolute_ends": absolute_ends,
        },
    )


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    form_class = NhsPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = NhsSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
