"""The roles of SAFER. Each is a Django group created by a data migration; a user may hold several.

What each role may see is documented in docs/security.md (one table) and enforced by the access
seams in each app, not by these groups alone: a group says *what kind* of work someone does, the
object permissions and scoping rules say *which* records.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    REFERRER = "referrer", "Referrer"
    SPA_TRIAGE = "spa_triage", "SPA triage worker"
    SPA_MANAGER = "spa_manager", "SPA manager"
    CONTRACTOR = "contractor", "Contractor"
    ADULT_SUPPORT_WORKER = "adult_support_worker", "Adult support worker"
    CYP_WORKER = "cyp_worker", "CYP worker"
    PROVIDER_MANAGER = "provider_manager", "Provider manager"
    COMMISSIONER = "commissioner", "Commissioner"
    AUDITOR = "auditor", "Auditor"
    SYSTEM_ADMIN = "system_admin", "System administrator"


# Group names are the human labels, so the admin reads naturally.
ROLE_GROUP_NAMES: dict[str, str] = {role.value: str(role.label) for role in Role}

# Roles whose holders work with person-level records, and so need a second factor and the staff
# session limits. Every role counts: referrers with accounts use 2FA as well (the brief).
STAFF_ROLES = frozenset(Role)
