"""The demo's history: about twenty months of SAFER's work at a small scale, written by the bench
builder into the demo's own organisations, teams, contracts, schedule of rates and sign-ins, so
the dashboard trends, KPI trends, contract reports and last year's return have figures.

Called by reporting's demo seeder (``seed_demo``). Fictional and consistent in the way the bench
data is: completed jobs have their surveyed and installed measures at the schedule's prices,
support cases have contact attempts, sessions and outcomes, children have Goal-Based Outcome
scores. The people are "History<n> Survivor" at "<n> History Example Road"; references carry a
"B" (``SAFER-2025-B00012``), so they never meet the named demo cases (``SAFER-DEMO-…``) or the
references the services issue. Built once: a marker row says it is there.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from benchmarks.data import Builder, Volume, history_context_for_bulk_rows
from benchmarks.data import base as bench
from referrals.models import DeclineReason
from safer.casefile.models import ReferenceCounter
from safer.demo import (
    ADULT,
    CONTRACTOR_EAST,
    CONTRACTOR_WEST,
    COUNCIL,
    CYP,
    EAST_ADULTS,
    MEDWAY_ADULTS,
    POLICE,
    REFUGE,
    SPA,
    WEST_ADULTS,
    YOUNG_PEOPLE,
    DemoContext,
)
from safer.organisations.models import CommissioningAuthority, District
from security_works.models import Measure
from support.models import ClosureReason, NeedsArea
from support.services.due import next_due_fill

MARKER_PREFIX = "DEMOHIST"  # a ReferenceCounter row: (prefix, year=HISTORY_VERSION)
HISTORY_VERSION = 1
# About fifteen referrals a month: enough for every chart and KPI to have figures, small
# enough to build in seconds.
HISTORY = Volume(referrals=320, access_logs=0, auth_events=0, report_runs=0, caseload=4)

# The bench builder's names for the demo's organisations, teams and contracts.
ORGANISATIONS = {
    bench.COUNCIL: COUNCIL,
    bench.SPA: SPA,
    bench.CONTRACTOR_EAST: CONTRACTOR_EAST,
    bench.CONTRACTOR_WEST: CONTRACTOR_WEST,
    bench.ADULT: ADULT,
    bench.CYP: CYP,
    bench.REFUGE: REFUGE,
    "Bench Constabulary": POLICE,
    "Bench IDVA Service": "Example IDVA Service (demo)",
    "Bench Housing Options": "Example Housing Options (demo)",
    "Bench Children's Social Care": "Example Children's Social Care (demo)",
    "Bench GP Practice": "Example GP Practice (demo)",
}
TEAMS = {
    "east_adults": EAST_ADULTS,
    "west_adults": WEST_ADULTS,
    "medway_adults": MEDWAY_ADULTS,
    "cyp": YOUNG_PEOPLE,
}
CONTRACTS = {
    "BENCH/23/00074": "23/00074",
    "BENCH/23/00075": "KCC-SEC-WEST-DEMO",
    "BENCH/23/00076": "MC-SEC-DEMO",
}
# The colleagues who share each team's cases with the persona (bench.EXTRA_WORKERS' keys).
WORKERS = {
    "east_adults": ["adult_support_worker_2"],
    "west_adults": ["west_adult_worker", "west_adult_worker_2"],
    "medway_adults": ["medway_adult_worker", "medway_adult_worker_2"],
    "cyp": ["cyp_worker_2"],
}


class DemoHistoryBuilder(Builder):
    """The bench builder, pointed at the demo's reference data and staff instead of its own."""

    name_prefix = "History"

    def __init__(self, context: DemoContext, *, now: dt.datetime) -> None:
        super().__init__(HISTORY, now=now)
        self.context = context

    def build(self) -> dict[str, int]:
        self.reference_data()
        self.staff()
        history_context_for_bulk_rows(source="demo_history")
        households = self.referrals()
        self.security_jobs(households)
        self.adult_cases(households)
        self.cyp_cases(households)
        self.close_case_files(households)
        self.grants()
        self.case_events(households)
        return self.counts

    def reference_data(self) -> None:
        c = self.context
        self.authorities = {a.code: a for a in CommissioningAuthority.objects.all()}
        self.districts = {d.code: d for d in District.objects.all()}
        self.orgs = {name: c.organisations[demo] for name, demo in ORGANISATIONS.items()}
        self.teams = {key: c.teams[name] for key, name in TEAMS.items()}
        self.contracts = {key: c.contracts[ref] for key, ref in CONTRACTS.items()}
        today = timezone.localdate(self.now)
        # The schedule's prices in force over the history (security_works' demo loads them).
        self.measures = [
            m
            for m in Measure.objects.order_by("code")
            if m.is_effective_on(self.window_start.date()) and m.is_effective_on(today)
        ]
        if not self.measures:
            raise RuntimeError("The schedule of rates is empty: security_works' demo runs first.")
        self.decline_reasons = {d.code: d for d in DeclineReason.objects.all()}
        self.closure_reasons = {c.code: c for c in ClosureReason.objects.all()}
        self.need_areas = list(NeedsArea.objects.all())

    def staff(self) -> None:
        users = self.context.users
        self.personas = {key: users[key] for key in bench.PERSONAS}
        self.workers = {team: [users[k] for k in keys] for team, keys in WORKERS.items()}
        self.triage = [users["spa_triage"], users["spa_manager"]]
        self.contractor_staff = [users["contractor"]]


def history_present() -> bool:
    return ReferenceCounter.objects.filter(prefix=MARKER_PREFIX, year=HISTORY_VERSION).exists()


def history_ensure(context: DemoContext) -> dict[str, int] | None:
    """Write the history unless the marker says it is there (in the caller's transaction);
    the counts written, or None when there was nothing to do."""
    if history_present():
        return None
    counts = DemoHistoryBuilder(context, now=timezone.now()).build()
    next_due_fill()  # what the services would have stored on each case
    ReferenceCounter.objects.create(prefix=MARKER_PREFIX, year=HISTORY_VERSION, last_number=1)
    return counts
