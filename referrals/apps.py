from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"

    def ready(self) -> None:
        from safer.celery import app

        # Drafts of the public form are deleted after two idle hours even if nobody comes back.
        app.conf.beat_schedule.setdefault(
            "referral-drafts-purge",
            {"task": "referrals.tasks.referral_drafts_purge_task", "schedule": 15 * 60.0},
        )
