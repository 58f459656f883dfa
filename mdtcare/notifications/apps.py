from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "mdtcare.notifications"
    label = "notifications"
    verbose_name = "Notifications"
