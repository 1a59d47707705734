from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"

    def ready(self) -> None:
        from reporting import workspace

        workspace.register()  # the menu links and home panel (safer.workspace)
