"""What `make bench` measures. Add a Target when a page matters for speed (list pages first).

A target names a URL, who requests it (``prepare`` builds its data and returns a ready client),
and the 95th-percentile budget it must meet with ``--check``. Budgets are for this machine kind
(two cores, embedded PostgreSQL on a socket) with the Django test client: they exclude the network
and the WSGI server, and catch regressions in queries and rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.test import Client


def anonymous() -> Client:
    return Client()


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    budget_p95_ms: float
    prepare: Callable[[], Client] = field(default=anonymous)
    expected_status: int = 200


TARGETS: list[Target] = [
    Target(name="home page (anonymous)", path="/", budget_p95_ms=60),
    # Opens a database cursor and a broker connection on every call, as a load balancer would.
    Target(name="/healthz (anonymous)", path="/healthz", budget_p95_ms=60),
]
