from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "safer.organisations"
    label = "organisations"
