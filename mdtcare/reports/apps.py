from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "mdtcare.reports"
    label = "reports"
    verbose_name = "Reports"
