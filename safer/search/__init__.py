"""Staff search: one box in the header, across the records the user may see.

The pieces:

- ``query``: what was typed, read as a reference, a date of birth, a postcode, a phone number or
  a name (``search_query_parse``), normalised the way the indexes store it.
- ``matching``: the case-file side of a match (people, address, safe-contact phone), in the
  core because every record type hangs off a case file. Each match honours what the user may
  see of the case file: a postcode matches only where the address is visible to them.
- ``registry``: each app contributes its own record type (a ``SearchProvider``) from its
  ``AppConfig.ready()``, so the core imports no app above it.
- ``selectors``: ``search_for_user`` runs every provider the user's roles allow, each one query
  (``visible_to(user)`` ∩ the match), a fixed number of queries whatever the number of results.

See docs/architecture.md ("Search") for why it is built this way.
"""
