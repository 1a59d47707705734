from django.apps import AppConfig


class DataProtectionConfig(AppConfig):
    """Retention (the schedule, legal holds, the nightly run) and subject access requests.

    Core: it works on the case file and reaches the apps above it only through the registry
    (``safer.dataprotection.registry``) that they fill in from their ``AppConfig.ready()``."""

    name = "safer.dataprotection"
    label = "dataprotection"
    verbose_name = "Data protection"

    def ready(self) -> None:
        from safer.dataprotection.casefile import register_core

        register_core()
