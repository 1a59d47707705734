from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "safer.audit"
    label = "audit"
