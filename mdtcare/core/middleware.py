"""Cross-cutting request handling: a request id for logs and audit, no
caching of pages that may hold patient data, and no NUL characters."""

import contextvars
import re
import uuid

from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as _DjangoLoginRequiredMiddleware,
)
from django.http import HttpResponseBadRequest, JsonResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "mdtcare_request_id", default=""
)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Takes a well-formed ``X-Request-ID`` from the proxy or makes one; it is
    on every log line and audit row of the request, and in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class NoStoreMiddleware:
    """Pages and API responses may show patient data: browsers and proxies
    must not keep them. Static files are answered before this runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


class LoginRequiredMiddleware(_DjangoLoginRequiredMiddleware):
    """Every page needs a logged-in user unless its view says otherwise
    (``login_not_required``). The API answers 401/403 itself (DRF), so it is
    not redirected to the log-in page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


NUL_REFUSED = "The request contains a NUL character (\\x00), which no field may hold"


class RefuseNulMiddleware:
    """A NUL character can be in no field, and PostgreSQL cannot store or
    even compare one: a query parameter or a JSON body that carries one is
    refused with 400 before any view reads it (forms and serializers refuse
    it in their own fields already)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._carries_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_REFUSED}, status=400)
            return HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request) -> bool:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return True
        if request.content_type == "application/json":
            body = request.body
            return b"\x00" in body or b"\\u0000" in body
        return False
