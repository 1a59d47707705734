from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "safer.audit"
    label = "audit"

    def ready(self) -> None:
        from safer.audit import workspace
        from safer.audit.hardening import install_guards_after_migrate
        from safer.audit.history import connect_celery_signals

        # Schema set-up, not business logic: the guards must follow every migrate, including
        # the one that builds the test database (see safer/audit/hardening.py).
        post_migrate.connect(
            install_guards_after_migrate, sender=self, dispatch_uid="audit_install_guards"
        )
        connect_celery_signals()
        workspace.register()  # the menu links and home panel (safer.workspace)
