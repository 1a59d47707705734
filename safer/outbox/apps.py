from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "safer.outbox"
    label = "outbox"
