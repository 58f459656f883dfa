"""Read-only views of the audit trail for service admins, including "who
accessed this patient's record" and its CSV export."""

import csv
import uuid

from django.contrib import admin
from django.http import Http404, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from mdtcare.audit.models import AccessEvent, ChangeEvent
from mdtcare.audit.selectors import access_events_for_patient
from mdtcare.core.exports import csv_safe


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "operation", "table_name", "row_id", "actor", "source"]
    list_filter = ["operation", "table_name", "source"]
    list_select_related = ["actor"]
    search_fields = ["row_id", "request_id"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "role", "what", "patient_count", "emergency", "reason"]
    list_filter = ["emergency", "what"]
    list_select_related = ["user"]
    search_fields = ["user__username", "request_id"]
    date_hierarchy = "at"
    show_full_result_count = False

    def get_urls(self):
        return [
            path(
                "patient/<uuid:patient_id>/",
                self.admin_site.admin_view(self.patient_access_view),
                name="audit_accessevent_patient",
            ),
            path(
                "patient/<uuid:patient_id>/csv/",
                self.admin_site.admin_view(self.patient_access_csv),
                name="audit_accessevent_patient_csv",
            ),
            *super().get_urls(),
        ]

    def _events(self, request, patient_id: uuid.UUID):
        if not self.has_view_permission(request):
            raise Http404
        return access_events_for_patient(patient_id=patient_id)

    def patient_access_view(self, request, patient_id):
        events = list(self._events(request, patient_id)[:500])
        context = {
            "emergency_count": sum(event.emergency for event in events),
            **self.admin_site.each_context(request),
            "title": "Who accessed this patient's record",
            "patient_id": patient_id,
            "events": events,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/audit/patient_access.html", context)

    def patient_access_csv(self, request, patient_id):
        events = self._events(request, patient_id)

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def rows():
            yield writer.writerow(
                ["when", "user", "role", "what", "why allowed", "emergency access", "request id"]
            )
            for event in events.iterator(chunk_size=500):
                yield writer.writerow(
                    csv_safe(
                        [
                            event.at.isoformat(),
                            event.user.get_full_name() or event.user.username,
                            event.role,
                            event.what,
                            event.reason,
                            "yes" if event.emergency else "no",
                            event.request_id,
                        ]
                    )
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="record-access-{patient_id}.csv"'
        return response
