from django.apps import AppConfig


class SecurityWorksConfig(AppConfig):
    name = "security_works"
    verbose_name = "Security works"

    def ready(self) -> None:
        from security_works.dataprotection import register as dataprotection_register

        dataprotection_register()
        from safer.search.registry import search_provider_register
        from security_works import workspace
        from security_works.search import JOB_SEARCH

        search_provider_register(JOB_SEARCH)

        workspace.register()  # the menu links and home panels (safer.workspace)
