from django.apps import AppConfig


class CasefileConfig(AppConfig):
    name = "safer.casefile"
    label = "casefile"
