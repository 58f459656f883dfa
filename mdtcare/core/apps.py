from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mdtcare.core"
    label = "core"
    verbose_name = "Core"
