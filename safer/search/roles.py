"""Who gets the search box and page: staff who open person-level records. Each provider's
``visible_to`` then decides which records; a role not listed here (referrer, commissioner,
auditor, system administrator) sees no person-level record through search. See docs/security.md.
"""

from safer.accounts.roles import Role

SEARCH_ROLES = (
    Role.SPA_TRIAGE,
    Role.SPA_MANAGER,
    Role.CONTRACTOR,
    Role.ADULT_SUPPORT_WORKER,
    Role.CYP_WORKER,
    Role.PROVIDER_MANAGER,
)
