"""The access model every app uses: who may see which records.

A plain package, not an app: it owns no tables. The pieces, each small enough to read in one go:

- ``roles``: which roles a user holds, and the ``role_required`` view decorator (deny by default).
- ``scoping``: the commissioning authorities a user may see (their own ∩ their organisation's).
- ``grants``: django-guardian object permissions held by a user, a team or an organisation,
  and the generic grant/revoke helpers. Only the services in ``safer.access.services`` call them.
- ``seams``: the ``visible_to`` protocol and the one way to fetch a record for a user
  (``record_get_for_user``): 404 for "missing" and "not yours" alike, one access-log row per read.
- ``services``: case-file access grants and revocations (audited with ``CaseEvent`` rows) and
  break-glass.

Modules here import models lazily where an app's ``models.py`` imports them, so there is no cycle.
"""
