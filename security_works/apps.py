from django.apps import AppConfig


class SecurityWorksConfig(AppConfig):
    name = "security_works"
