from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "safer.accounts"
    label = "accounts"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from safer.accounts import workspace
        from safer.accounts.lockout import on_user_locked_out

        user_locked_out.connect(on_user_locked_out, dispatch_uid="safer_accounts_locked_out")
        workspace.register()  # the menu links and home panels (safer.workspace)
