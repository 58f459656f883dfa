"""Log-in, log-out, two-factor, password reset and choosing a network."""

import time

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mdtcare.accounts import two_factor
from mdtcare.accounts.forms import (
    LoginForm,
    NhsPasswordResetForm,
    NhsSetPasswordForm,
    TwoFactorForm,
)
from mdtcare.accounts.middleware import LOGIN_AT
from mdtcare.accounts.selectors import memberships_of


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
