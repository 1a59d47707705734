from django.apps import AppConfig


class CasefileConfig(AppConfig):
    name = "safer.casefile"
    label = "casefile"

    def ready(self) -> None:
        from safer.casefile import workspace
        from safer.casefile.search import CASEFILE_SEARCH
        from safer.search.registry import search_provider_register

        search_provider_register(CASEFILE_SEARCH)
        workspace.register()  # the menu links (safer.workspace)
