from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mdtcare.accounts"
    label = "accounts"
    verbose_name = "Users, organisations and networks"
