"""The web process's heap, settled once it has started (``safer.wsgi``).

A Django process holds some 200,000 objects that live as long as it does (modules, models, the
URLconf, templates, reference data). Python's cyclic garbage collector walks all of them in each
full collection, which a process serving pages runs every twenty-odd requests: measured at a
million referrals, 120 ms added to whichever request it fell in, the whole of the team
overview's p95 overrun (issue 17, docs/performance.md "Seventh pass"). Moved to the permanent
generation (``gc.freeze``), they are never walked again, and a full collection takes 2 ms.
"""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Load what every request needs (the URLconf, so every view module), collect what start-up
    left behind, then freeze every object still alive. Returns how many were frozen.

    Called once per process, after the application is built: under gunicorn each worker
    imports ``safer.wsgi`` itself, so each freezes its own heap. What is frozen is never
    collected, which is right for what lives as long as the process."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the import of every URLconf and view module)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
