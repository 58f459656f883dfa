"""Session lifetime and two-factor enforcement."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from mdtcare.accounts import two_factor

LOGIN_AT = "mdtcare_login_at"


class SessionLifetimeMiddleware:
    """Ends a session 12 hours (SESSION_ABSOLUTE_TIMEOUT) after log-in, however
    active it is. The idle timeout is the session cookie's age, renewed on
    every request (SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            login_at = request.session.get(LOGIN_AT)
            now = int(time.time())
            if login_at is None:
                request.session[LOGIN_AT] = now
            elif now - int(login_at) > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(request, "Your session ended after 12 hours. Log in again.")
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": "Session expired."}, status=401)
                return redirect(f"{reverse('accounts:login')}?next={request.path}")
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Users who must use two-factor authentication (admins by default) reach
    nothing but the two-factor pages and log-out until they have verified a
    code in this session."""

    ALWAYS_ALLOWED = ("/account/two-factor/", "/account/logout/", "/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(self.ALWAYS_ALLOWED)
            and two_factor.required_for(request)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Two-factor verification required."}, status=403)
            return redirect("accounts:two_factor")
        return self.get_response(request)
