from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "safer.api"
    label = "api"
    verbose_name = "Partner API"

    def ready(self) -> None:
        # Registers the OpenAPI description of the token authentication with drf-spectacular.
        from safer.api import authentication  # noqa: F401
