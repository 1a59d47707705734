from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"

    def ready(self) -> None:
        from referrals import workspace
        from referrals.dataprotection import register as dataprotection_register

        dataprotection_register()
        from referrals.search import REFERRAL_SEARCH
        from referrals.services.drafts import draft_discard
        from safer.celery import app
        from safer.exit import session_exit_hook_register
        from safer.search.registry import search_provider_register

        search_provider_register(REFERRAL_SEARCH)

        # "Exit this page" deletes the visitor's draft at once, not two hours later.
        session_exit_hook_register(draft_discard)

        # Drafts of the public form are deleted after two idle hours even if nobody comes back.
        app.conf.beat_schedule.setdefault(
            "referral-drafts-purge",
            {"task": "referrals.tasks.referral_drafts_purge_task", "schedule": 15 * 60.0},
        )

        workspace.register()  # the menu links and home panels (safer.workspace)

        # What a submission reads on every request, kept per process (ADR 0014): any save or
        # delete of these rows through the ORM makes every process read them again.
        from referrals.models import RiskBand, RiskPolicy, RiskQuestionnaire, SpaPolicy
        from referrals.selectors import DISTRICTS
        from referrals.services.risk_policy import RISK_RULES
        from referrals.sla import SPA_POLICY
        from safer import refdata
        from safer.organisations.models import CommissioningAuthority, District

        refdata.track(District, DISTRICTS)
        refdata.track(CommissioningAuthority, DISTRICTS)  # read with the districts
        for model in (RiskQuestionnaire, RiskPolicy, RiskBand):
            refdata.track(model, RISK_RULES)
        refdata.track(SpaPolicy, SPA_POLICY)
