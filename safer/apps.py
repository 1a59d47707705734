from django.apps import AppConfig


class SaferConfig(AppConfig):
    name = "safer"
    verbose_name = "SAFER core"
