"""The bench dataset's shared pieces: sizes, personas, organisation names, the builder's state,
clock helpers, reference data and staff."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone

from referrals.models import (
    DeclineReason,
    Referral,
)
from reporting.periods import financial_year_start
from safer import workdays
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.accounts.services import user_role_grant
from safer.casefile.models import (
    CaseFile,
    Person,
)
from safer.demo import EAST_KENT, KENT_DISTRICTS, MEDWAY_DISTRICTS, WEST_KENT
from safer.organisations.models import (
    AgencyType,
    CommissioningAuthority,
    Contract,
    District,
    Organisation,
    OrganisationKind,
    ServiceElement,
    Team,
)
from security_works.models import (
    Measure,
    SecurityJob,
)
from support.models import (
    AdultSupportCase,
    ClosureReason,
    CypCase,
    NeedsArea,
)

# Bump when the shape of the data changes: the marker of an older build then no longer matches
# and the runner asks for a rebuild.
DATA_VERSION = 2  # 2: access-log rows carry the authority
MARKER_PREFIX = "BENCHDATA"  # a ReferenceCounter row: (prefix, year=DATA_VERSION)
BATCH = 2000
LOCAL_TZ = workdays.LOCAL_TZ
TRIAGE_TARGET = workdays.Target(1, workdays.TargetUnit.WORKING_DAYS)
HOURS_24 = workdays.Target(24, workdays.TargetUnit.HOURS)
SURVEY_TARGET = workdays.Target(5, workdays.TargetUnit.WORKING_DAYS)
INSTALL_TARGET = workdays.Target(10, workdays.TargetUnit.WORKING_DAYS)
# How often each decline reason is used (shared/domain.md §4), roughly.
DECLINE_WEIGHTS = {
    "outside_area": 12,
    "perpetrator_lives_at_property": 14,
    "not_safe_to_remain": 10,
    "no_consent": 8,
    "survivor_declined": 18,
    "unable_to_contact": 16,
    "duplicate": 8,
    "referred_elsewhere": 10,
    "other": 4,
}


@dataclass(frozen=True)
class Volume:
    referrals: int = 3_000
    access_logs: int = 120_000
    auth_events: int = 8_000
    report_runs: int = 60
    # Open adult cases allocated to the caseload persona (the rest go to the team's others).
    caseload: int = 40


COUNTY = Volume()
TINY = Volume(referrals=60, access_logs=200, auth_events=50, report_runs=3, caseload=3)


# --- Personas -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    key: str
    role: Role
    organisation: str
    authorities: tuple[str, ...] = ("kent",)
    team: str = ""

    @property
    def email(self) -> str:
        return f"bench-{self.key.replace('_', '-')}@example.org"


COUNCIL = "Bench Kent County Council (commissioning)"
SPA = "Bench Sanctuary Access Partnership"
CONTRACTOR_EAST = "Bench Secure Homes (East Kent)"
CONTRACTOR_WEST = "Bench Locks and Doors (West Kent and Medway)"
ADULT = "Bench Domestic Abuse Support"
CYP = "Bench Young People's Service"
REFUGE = "Bench Refuge Housing"
AGENCIES = [
    ("Bench Constabulary", AgencyType.POLICE),
    ("Bench IDVA Service", AgencyType.IDVA),
    ("Bench Housing Options", AgencyType.HOUSING),
    ("Bench Children's Social Care", AgencyType.SOCIAL_CARE),
    ("Bench GP Practice", AgencyType.HEALTH),
]
TEAMS = {
    "east_adults": (ADULT, "East Kent adults"),
    "west_adults": (ADULT, "West Kent adults"),
    "medway_adults": (ADULT, "Medway adults"),
    "cyp": (CYP, "Kent and Medway young people"),
}
PERSONAS = {
    p.key: p
    for p in (
        Persona("spa_triage", Role.SPA_TRIAGE, SPA),
        Persona("spa_manager", Role.SPA_MANAGER, SPA),
        Persona("contractor", Role.CONTRACTOR, CONTRACTOR_EAST),
        Persona("adult_support_worker", Role.ADULT_SUPPORT_WORKER, ADULT, team="east_adults"),
        Persona("cyp_worker", Role.CYP_WORKER, CYP, ("kent", "medway"), team="cyp"),
        Persona("provider_manager", Role.PROVIDER_MANAGER, ADULT, ("kent", "medway")),
        Persona("commissioner", Role.COMMISSIONER, COUNCIL),
        Persona("auditor", Role.AUDITOR, COUNCIL),
    )
}
# Colleagues who share the volume with the personas.
EXTRA_WORKERS = {"east_adults": 5, "west_adults": 5, "medway_adults": 3, "cyp": 6}
EXTRA_TRIAGE = 5


def persona(key: str) -> User:
    return User.objects.get(email=PERSONAS[key].email)


# --- The builder --------------------------------------------------------------------------------


def _bulk(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Write the rows with PostgreSQL ``COPY``: one stream per table instead of an INSERT per
    2,000 rows compiled by the ORM (most of the build's time went to compiling and sending
    them). Row triggers (pghistory's events) fire as for an INSERT. An auto-numbered primary
    key is left to the database and not read back (nothing in the builder reads it); a field
    left to a database default falls back to ``bulk_create``."""
    if not rows:
        return
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
        and not getattr(f, "generated", False)
    ]
    values = [[f.pre_save(row, True) for f in fields] for row in rows]
    if any(isinstance(v, Expression | DatabaseDefault) for line in values for v in line):
        model._default_manager.bulk_create(rows, batch_size=BATCH)
        return
    db = connections[DEFAULT_DB_ALIAS]  # the real connection: the proxy costs a lookup per use
    prepare = [f.get_db_prep_save for f in fields]
    table = db.ops.quote_name(model._meta.db_table)
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    with db.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for line in values:
            copy.write_row([p(v, db) for p, v in zip(prepare, line, strict=True)])


@contextmanager
def secondary_indexes_deferred(
    models_: Iterable[type[models.Model]], *, db: BaseDatabaseWrapper | None = None
) -> Iterator[int]:
    """Drop the tables' plain indexes (not primary keys, unique indexes or those of a
    constraint), then build them again from their own definitions once the rows are in: one
    sort per index instead of an insert into each (a trigram GIN index most of all) per row.
    Inside the caller's transaction (on ``db``, the default connection unless given), so a
    failed build leaves every index as it was. Yields how many were deferred."""
    db = db if db is not None else connection
    tables = sorted({m._meta.db_table for m in models_})
    with db.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
              AND NOT i.indisprimary AND NOT i.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY 1
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield len(indexes)
    with db.cursor() as cursor:
        # Django's foreign keys are checked at commit; a table with pending checks cannot be
        # indexed, so check them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _, definition in indexes:
            cursor.execute(definition)


def at_local(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


@dataclass
class _Household:
    """What the builder remembers of one referral's household while it writes the services."""

    index: int
    district: District
    authority: CommissioningAuthority
    case_file: CaseFile
    survivor: Person
    children: list[Person]
    referral: Referral
    tenure: str
    jobs_open: bool = False
    services_open: bool = False
    end: dt.datetime | None = None


class BuilderBase:
    """The state the writers share, the clock helpers, reference data and staff."""

    # The fictional people's names and streets start with it (the demo's history uses another).
    name_prefix = "Bench"

    # Set by the writers as they go.
    authorities: dict[str, CommissioningAuthority]
    districts: dict[str, District]
    orgs: dict[str, Organisation]
    teams: dict[str, Team]
    contracts: dict[str, Contract]
    measures: list[Measure]
    decline_reasons: dict[str, DeclineReason]
    closure_reasons: dict[str, ClosureReason]
    need_areas: list[NeedsArea]
    personas: dict[str, User]
    workers: dict[str, list[User]]
    triage: list[User]
    contractor_staff: list[User]
    routed_children: set[tuple[uuid.UUID, uuid.UUID]]
    jobs: list[SecurityJob]
    adult: list[AdultSupportCase]
    cyp: list[CypCase]

    def __init__(self, volume: Volume, *, now: dt.datetime) -> None:
        self.volume = volume
        self.now = now
        self.rng = random.Random(2021)  # the same dataset on every build
        self.counts: dict[str, int] = {}

    # --- Dates ------------------------------------------------------------------------------

    @property
    def window_start(self) -> dt.datetime:
        start_year = financial_year_start(timezone.localdate(self.now)) - 1
        return at_local(dt.date(start_year, 4, 1), 0, 1)

    def moment_between(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        seconds = max(int((end - start).total_seconds()), 1)
        moment = start + dt.timedelta(seconds=self.rng.randrange(seconds))
        # Office hours mostly: a referral at 3 a.m. happens, but rarely.
        local = moment.astimezone(LOCAL_TZ)
        if self.rng.random() < 0.9:
            local = local.replace(hour=self.rng.randint(8, 17), minute=self.rng.randint(0, 59))
        return min(max(local, start), end)

    def later(self, moment: dt.datetime, low_hours: float, high_hours: float) -> dt.datetime:
        return moment + dt.timedelta(hours=self.rng.uniform(low_hours, high_hours))

    def past(self, moment: dt.datetime | None) -> bool:
        return moment is not None and moment <= self.now

    # --- Reference data ---------------------------------------------------------------------

    def reference_data(self) -> None:
        kent, _ = CommissioningAuthority.objects.get_or_create(
            code="kent", defaults={"name": "Kent County Council"}
        )
        medway, _ = CommissioningAuthority.objects.get_or_create(
            code="medway", defaults={"name": "Medway Council"}
        )
        self.authorities = {"kent": kent, "medway": medway}
        self.districts: dict[str, District] = {}
        for authority, rows in ((kent, KENT_DISTRICTS), (medway, MEDWAY_DISTRICTS)):
            for code, name, population, outward in rows:
                self.districts[code], _ = District.objects.get_or_create(
                    code=code,
                    defaults={
                        "authority": authority,
                        "name": name,
                        "population": population,
                        "outward_codes": outward,
                    },
                )
        specs: list[tuple[str, str, str, list[str], list[str]]] = [
            (COUNCIL, OrganisationKind.COUNCIL, "", ["kent"], []),
            (SPA, OrganisationKind.SPA_PROVIDER, "", ["kent", "medway"], []),
            (CONTRACTOR_EAST, OrganisationKind.SECURITY_CONTRACTOR, "", ["kent"], EAST_KENT),
            (
                CONTRACTOR_WEST,
                OrganisationKind.SECURITY_CONTRACTOR,
                "",
                ["kent", "medway"],
                [*WEST_KENT, "medway"],
            ),
            (ADULT, OrganisationKind.ADULT_SUPPORT, "", ["kent", "medway"], []),
            (CYP, OrganisationKind.CYP_SUPPORT, "", ["kent", "medway"], []),
            (REFUGE, OrganisationKind.ACCOMMODATION, "", ["kent", "medway"], []),
            *((name, OrganisationKind.REFERRING_AGENCY, t, ["kent"], []) for name, t in AGENCIES),
        ]
        self.orgs: dict[str, Organisation] = {}
        for name, kind, agency_type, serves, covers in specs:
            org, _ = Organisation.objects.get_or_create(
                name=name, defaults={"kind": kind, "agency_type": agency_type}
            )
            org.authorities.add(*(self.authorities[a] for a in serves))
            if covers:
                org.districts_covered.add(*(self.districts[d] for d in covers))
            self.orgs[name] = org
        self.teams = {
            key: Team.objects.get_or_create(organisation=self.orgs[org], name=name)[0]
            for key, (org, name) in TEAMS.items()
        }
        start = self.window_start.date() - dt.timedelta(days=365)
        contract_specs = [
            ("BENCH/23/00074", CONTRACTOR_EAST, ServiceElement.SECURITY, "kent", "250000"),
            ("BENCH/23/00075", CONTRACTOR_WEST, ServiceElement.SECURITY, "kent", "200000"),
            ("BENCH/23/00076", CONTRACTOR_WEST, ServiceElement.SECURITY, "medway", "90000"),
            ("BENCH/24/00101", ADULT, ServiceElement.ADULT_SUPPORT, "kent", "900000"),
            ("BENCH/24/00102", CYP, ServiceElement.CYP, "kent", "760446"),
            ("BENCH/24/00103", SPA, ServiceElement.SPA, "kent", "310000"),
        ]
        self.contracts: dict[str, Contract] = {}
        for reference, provider, element, authority_code, value in contract_specs:
            self.contracts[reference], _ = Contract.objects.get_or_create(
                reference=reference,
                defaults={
                    "authority": self.authorities[authority_code],
                    "provider": self.orgs[provider],
                    "service_element": element,
                    "title": f"{element} (bench)",
                    "start_date": start,
                    "end_date": start.replace(year=start.year + 4),
                    "value_per_year": Decimal(value),
                    "extension_options": 2,
                },
            )
        rates = [
            ("bench-mortice-lock", "BS 5-lever mortice lock", "68.00", False),
            ("bench-anti-snap", "Anti-snap euro cylinder", "42.00", False),
            ("bench-hinge-bolts", "Hinge bolts (pair)", "24.00", False),
            ("bench-door-viewer", "180-degree door viewer", "18.00", False),
            ("bench-door-chain", "Door chain", "15.00", False),
            ("bench-london-bar", "London and Birmingham bars", "55.00", False),
            ("bench-letterbox", "Anti-arson letterbox and bag", "46.00", False),
            ("bench-security-film", "Security film (per pane)", "38.00", False),
            ("bench-window-locks", "Key-operated window lock", "21.00", True),
            ("bench-patio-antilift", "Patio door anti-lift device", "33.00", False),
            ("bench-lighting", "PIR security light", "85.00", False),
            ("bench-video-doorbell", "Video doorbell", "120.00", False),
            ("bench-cctv", "CCTV (two cameras)", "480.00", False),
            ("bench-sanctuary-door", "Sanctuary room door set", "950.00", True),
            ("bench-smoke-alarm", "Smoke alarm", "22.00", False),
        ]
        self.measures = [
            Measure.objects.get_or_create(
                code=code,
                effective_from=dt.date(2020, 4, 1),
                defaults={
                    "description": text,
                    "unit_cost": Decimal(cost),
                    "affects_escape_routes": escape,
                },
            )[0]
            for code, text, cost, escape in rates
        ]
        self.decline_reasons = {d.code: d for d in DeclineReason.objects.all()}
        self.closure_reasons = {c.code: c for c in ClosureReason.objects.all()}
        self.need_areas = list(NeedsArea.objects.all())

    # --- Staff ------------------------------------------------------------------------------

    def _user(
        self,
        email: str,
        name: str,
        role: Role,
        org: str,
        authorities: Iterable[str],
        team: str = "",
    ) -> User:
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "full_name": name,
                "organisation": self.orgs[org],
                "team": self.teams[team] if team else None,
            },
        )
        if created:
            user.set_unusable_password()  # the bench signs in with force_login
            user.save(update_fields=["password"])
        user.authorities.add(*(self.authorities[a] for a in authorities))
        user_role_grant(user=user, role=role, granted_by=None)  # the service: roles are few
        return user

    def staff(self) -> None:
        self.personas = {
            key: self._user(
                p.email,
                f"Bench {key.replace('_', ' ').title()}",
                p.role,
                p.organisation,
                p.authorities,
                p.team,
            )
            for key, p in PERSONAS.items()
        }
        self.workers: dict[str, list[User]] = {}
        for team, n in EXTRA_WORKERS.items():
            org, _ = TEAMS[team]
            role = Role.CYP_WORKER if team == "cyp" else Role.ADULT_SUPPORT_WORKER
            self.workers[team] = [
                self._user(
                    f"bench-{team.replace('_', '-')}-{i}@example.org",
                    f"Bench {team.replace('_', ' ').title()} Worker {i}",
                    role,
                    org,
                    ("kent", "medway"),
                    team,
                )
                for i in range(1, n + 1)
            ]
        self.triage = [self.personas["spa_triage"], self.personas["spa_manager"]] + [
            self._user(
                f"bench-triage-{i}@example.org",
                f"Bench Triage {i}",
                Role.SPA_TRIAGE,
                SPA,
                ("kent", "medway"),
            )
            for i in range(1, EXTRA_TRIAGE + 1)
        ]
        self.contractor_staff = [self.personas["contractor"]]
