from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support casework"

    def ready(self) -> None:
        from support.dataprotection import register as dataprotection_register

        dataprotection_register()
        from safer.search.registry import search_provider_register
        from support import workspace
        from support.search import ADULT_CASE_SEARCH, CYP_CASE_SEARCH

        search_provider_register(ADULT_CASE_SEARCH)
        search_provider_register(CYP_CASE_SEARCH)

        workspace.register()  # the menu links and home panels (safer.workspace)
