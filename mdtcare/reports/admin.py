"""Report exports in the admin: read-only, to see whose exports are waiting,
running or failed and why. The files are not offered here: only the user who
asked may download one."""

from django.contrib import admin

from mdtcare.reports.models import ReportExport


@admin.register(ReportExport)
class ReportExportAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "requested_by",
        "kind",
        "format",
        "status",
        "rows_done",
        "rows_total",
        "finished_at",
        "expires_at",
    ]
    list_filter = ["status", "kind", "format"]
    list_select_related = ["requested_by"]
    search_fields = ["requested_by__username"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "requested_by",
        "kind",
        "format",
        "params",
        "status",
        "rows_done",
        "rows_total",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
