from mdtcare.audit.context import audit_context


class AuditContextMiddleware:
    """Every change made while serving a request is attributed to the
    request's user and id in the change history."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        source = "api" if request.path.startswith("/api/") else "web"
        with audit_context(request=request, request_id=request.request_id, source=source):
            return self.get_response(request)
