"""Realistic, obviously fictional demo data. Idempotent: running it twice changes nothing.

Kent (12 districts) and Medway; the council, an SPA provider, two security contractors covering
different districts, adult support, CYP and refuge providers, referring agencies of each type;
one sign-in per role (readable password, a confirmed TOTP authenticator with a known secret); a
handful of case files at "Example Street" addresses. Never in production.

Apps add their own demo records without the core importing them: a module ``<app>/demo.py``
registers a function with ``@demo_seeder``; it gets a ``DemoContext`` (organisations, teams,
users by persona key, case files by reference), runs in the same transaction, must be idempotent
and yields a line or two about what it did.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_otp.plugins.otp_totp.models import TOTPDevice

from safer.access.services import casefile_access_grant
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.accounts.services import user_role_grant
from safer.casefile.models import (
    WORK_ON_CASEFILE,
    CaseFile,
    CaseStatus,
    ContactChannel,
    Household,
    HouseholdRole,
    Perpetrator,
    Person,
    SafeContactRules,
    Sex,
    TenancyHolder,
    Tenure,
)
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
from safer.organisations.services import contract_extension_record

# Census 2021 usual residents, rounded (shared/domain.md §2). Outward codes are a demo subset.
KENT_DISTRICTS = [
    ("ashford", "Ashford", 132_700, "TN23 TN24 TN25 TN26 TN27"),
    ("canterbury", "Canterbury", 157_400, "CT1 CT2 CT3 CT4 CT5 CT6"),
    ("dartford", "Dartford", 116_800, "DA1 DA2 DA4"),
    ("dover", "Dover", 116_400, "CT14 CT15 CT16 CT17"),
    ("folkestone-and-hythe", "Folkestone and Hythe", 109_800, "CT18 CT19 CT20 CT21 TN28 TN29"),
    ("gravesham", "Gravesham", 106_900, "DA11 DA12 DA13"),
    ("maidstone", "Maidstone", 175_800, "ME14 ME15 ME16 ME17 ME18"),
    ("sevenoaks", "Sevenoaks", 120_500, "TN13 TN14 TN15 TN16"),
    ("swale", "Swale", 151_700, "ME9 ME10 ME11 ME12 ME13"),
    ("thanet", "Thanet", 140_600, "CT7 CT8 CT9 CT10 CT11 CT12"),
    ("tonbridge-and-malling", "Tonbridge and Malling", 132_200, "ME19 ME20 TN9 TN10 TN11 TN12"),
    ("tunbridge-wells", "Tunbridge Wells", 115_300, "TN1 TN2 TN3 TN4 TN17 TN18"),
]
MEDWAY_DISTRICTS = [("medway", "Medway", 279_800, "ME1 ME2 ME3 ME4 ME5 ME7 ME8")]

EAST_KENT = ["ashford", "canterbury", "dover", "folkestone-and-hythe", "swale", "thanet"]
WEST_KENT = [
    "dartford",
    "gravesham",
    "maidstone",
    "sevenoaks",
    "tonbridge-and-malling",
    "tunbridge-wells",
]

LOGINS_FILE_NAME = "demo-logins.txt"

M = TypeVar("M", bound=models.Model)


def _upsert(
    model: type[M], lookup: dict[str, Any], values: dict[str, Any], *, keep: tuple[str, ...] = ()
) -> M:
    """Like ``update_or_create``, but writes only when a value differs, so a second run changes
    nothing (no UPDATE, no history row). Fields in ``keep`` are set on create only."""
    instance, created = model._default_manager.get_or_create(**lookup, defaults=values)
    if created:
        return instance
    changed = [
        name
        for name, value in values.items()
        if name not in keep and getattr(instance, name) != value
    ]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=changed)
    return instance


@dataclass(frozen=True)
class DemoLogin:
    key: str
    role: Role
    email: str
    full_name: str
    organisation: str
    authorities: tuple[str, ...]
    team: str = ""

    @property
    def password(self) -> str:
        # Readable on purpose (a demo): never reused outside seed_demo, which refuses production.
        return f"Sanctuary-{self.key.replace('_', '-')}-demo"

    @property
    def totp_key_hex(self) -> str:
        # Derived from the email so a re-seed keeps the secret already in someone's app.
        return hashlib.sha1(f"safer-demo-totp:{self.email}".encode()).hexdigest()  # noqa: S324

    @property
    def totp_secret_base32(self) -> str:
        return base64.b32encode(bytes.fromhex(self.totp_key_hex)).decode()


COUNCIL = "Kent County Council (commissioning)"
MEDWAY_COUNCIL = "Medway Council (commissioning)"
SPA = "Example Sanctuary Access Partnership"
CONTRACTOR_EAST = "Example Secure Homes (East Kent)"
CONTRACTOR_WEST = "Example Locks and Doors (West Kent and Medway)"
ADULT = "Example Domestic Abuse Support"
CYP = "Example Young People's Service"
REFUGE = "Example Refuge Housing"
POLICE = "Example Constabulary (demo)"
# Commissioners of both authorities who see the joint board's sums (aggregates only).
JOINT_BOARD = "Kent and Medway Joint Commissioning Board (demo)"

EAST_ADULTS = "East Kent adults"
WEST_ADULTS = "West Kent adults"
MEDWAY_ADULTS = "Medway adults"
YOUNG_PEOPLE = "Kent young people"
TEAMS = [(ADULT, EAST_ADULTS), (ADULT, WEST_ADULTS), (ADULT, MEDWAY_ADULTS), (CYP, YOUNG_PEOPLE)]


def _login(
    key: str,
    role: Role,
    name: str,
    organisation: str,
    authorities: tuple[str, ...] = ("kent",),
    team: str = "",
    email: str = "",
) -> DemoLogin:
    return DemoLogin(
        key,
        role,
        email or f"{key.replace('_', '.')}@example.org",
        name,
        organisation,
        authorities,
        team,
    )


KENT_AND_MEDWAY = ("kent", "medway")

# One sign-in per role a journey needs (README lists them). Two workers in every support team,
# so a case can be transferred; a contractor for each contract area; a commissioner for each
# authority and one for the joint board.
LOGINS = [
    _login("referrer", Role.REFERRER, "Rita Referrer", POLICE),
    _login(
        "refuge_referrer",
        Role.REFERRER,
        "Ruth Refuge",
        REFUGE,
        KENT_AND_MEDWAY,
        email="refuge.referrer@example.org",
    ),
    _login("spa_triage", Role.SPA_TRIAGE, "Tariq Triage", SPA),
    _login("spa_manager", Role.SPA_MANAGER, "Mina Manager", SPA),
    # A second SPA manager: a subject access export is approved by someone other than its maker.
    _login("spa_manager_2", Role.SPA_MANAGER, "Nadia Northgate", SPA),
    _login(
        "medway_spa_triage",
        Role.SPA_TRIAGE,
        "Morgan Medway",
        SPA,
        ("medway",),
        email="medway.triage@example.org",
    ),
    _login("contractor", Role.CONTRACTOR, "Chris Contractor", CONTRACTOR_EAST),
    _login(
        "contractor_west",
        Role.CONTRACTOR,
        "Wren Westlock",
        CONTRACTOR_WEST,
        KENT_AND_MEDWAY,
        email="contractor.west@example.org",
    ),
    _login(
        "adult_support_worker",
        Role.ADULT_SUPPORT_WORKER,
        "Ash Worker",
        ADULT,
        team=EAST_ADULTS,
        email="adult.worker@example.org",
    ),
    _login(
        "adult_support_worker_2",
        Role.ADULT_SUPPORT_WORKER,
        "Eden Eastwood",
        ADULT,
        team=EAST_ADULTS,
        email="adult.worker2@example.org",
    ),
    _login(
        "west_adult_worker",
        Role.ADULT_SUPPORT_WORKER,
        "Wynn Weald",
        ADULT,
        team=WEST_ADULTS,
        email="west.worker@example.org",
    ),
    _login(
        "west_adult_worker_2",
        Role.ADULT_SUPPORT_WORKER,
        "Wallis Downs",
        ADULT,
        team=WEST_ADULTS,
        email="west.worker2@example.org",
    ),
    _login(
        "medway_adult_worker",
        Role.ADULT_SUPPORT_WORKER,
        "Mel Riverside",
        ADULT,
        ("medway",),
        team=MEDWAY_ADULTS,
        email="medway.worker@example.org",
    ),
    _login(
        "medway_adult_worker_2",
        Role.ADULT_SUPPORT_WORKER,
        "Max Estuary",
        ADULT,
        ("medway",),
        team=MEDWAY_ADULTS,
        email="medway.worker2@example.org",
    ),
    _login(
        "cyp_worker",
        Role.CYP_WORKER,
        "Cam Young",
        CYP,
        KENT_AND_MEDWAY,
        team=YOUNG_PEOPLE,
        email="cyp.worker@example.org",
    ),
    _login(
        "cyp_worker_2",
        Role.CYP_WORKER,
        "Kai Youngs",
        CYP,
        KENT_AND_MEDWAY,
        team=YOUNG_PEOPLE,
        email="cyp.worker2@example.org",
    ),
    _login(
        "provider_manager",
        Role.PROVIDER_MANAGER,
        "Pat Provider",
        ADULT,
        KENT_AND_MEDWAY,
        email="provider.manager@example.org",
    ),
    _login(
        "cyp_provider_manager",
        Role.PROVIDER_MANAGER,
        "Casey Youthful",
        CYP,
        KENT_AND_MEDWAY,
        email="cyp.manager@example.org",
    ),
    _login("commissioner", Role.COMMISSIONER, "Connie Commissioner", COUNCIL),
    _login(
        "medway_commissioner",
        Role.COMMISSIONER,
        "Mo Commissioner",
        MEDWAY_COUNCIL,
        ("medway",),
        email="medway.commissioner@example.org",
    ),
    _login(
        "joint_board",
        Role.COMMISSIONER,
        "Jordan Board",
        JOINT_BOARD,
        KENT_AND_MEDWAY,
        email="joint.board@example.org",
    ),
    _login("auditor", Role.AUDITOR, "Aud Itor", COUNCIL),
    _login("system_admin", Role.SYSTEM_ADMIN, "Sam Admin", COUNCIL, email="admin@example.org"),
]


@dataclass(frozen=True)
class DemoContract:
    reference: str
    authority: str
    provider: str
    element: str
    title: str
    start: dt.date
    end: dt.date
    value_per_year: str
    extension_options: int = 0
    # (exercised on, new end date) of each extension exercised; the value added is a year's.
    extensions: tuple[tuple[dt.date, dt.date], ...] = ()


# Live on the demo's today (and over the history's two years) so new jobs and support cases
# attach to a contract. The property-security award 23/00074 follows shared/domain.md: £800,000
# for 1 December 2023 to 30 November 2025, two optional one-year extensions, both exercised here
# (it runs to 30 November 2027). The other references and their figures are fictional.
CONTRACTS = [
    DemoContract(
        "23/00074",
        "kent",
        CONTRACTOR_EAST,
        ServiceElement.SECURITY,
        "Sanctuary property security: East Kent",
        dt.date(2023, 12, 1),
        dt.date(2025, 11, 30),
        "400000.00",
        2,
        (
            (dt.date(2025, 9, 1), dt.date(2026, 11, 30)),
            (dt.date(2026, 9, 1), dt.date(2027, 11, 30)),
        ),
    ),
    DemoContract(
        "KCC-SEC-WEST-DEMO",
        "kent",
        CONTRACTOR_WEST,
        ServiceElement.SECURITY,
        "Sanctuary property security: West Kent",
        dt.date(2024, 4, 1),
        dt.date(2026, 3, 31),
        "300000.00",
        2,
        ((dt.date(2026, 1, 15), dt.date(2027, 3, 31)),),
    ),
    DemoContract(
        "MC-SEC-DEMO",
        "medway",
        CONTRACTOR_WEST,
        ServiceElement.SECURITY,
        "Sanctuary property security: Medway",
        dt.date(2024, 10, 1),
        dt.date(2027, 9, 30),
        "90000.00",
        1,
    ),
    DemoContract(
        "KCC-SPA-DEMO",
        "kent",
        SPA,
        ServiceElement.SPA,
        "Single Point of Access",
        dt.date(2024, 4, 1),
        dt.date(2027, 3, 31),
        "240000.00",
    ),
    DemoContract(
        "KCC-ADULT-DEMO",
        "kent",
        ADULT,
        ServiceElement.ADULT_SUPPORT,
        "Support for adult survivors",
        dt.date(2024, 4, 1),
        dt.date(2027, 3, 31),
        "520000.00",
    ),
    # The CYP service's published ceiling: up to £760,446 a year, two years + 1 + 1.
    DemoContract(
        "KCC-CYP-DEMO",
        "kent",
        CYP,
        ServiceElement.CYP,
        "Children and young people in safe accommodation",
        dt.date(2024, 4, 1),
        dt.date(2026, 3, 31),
        "760446.00",
        2,
        ((dt.date(2025, 12, 1), dt.date(2027, 3, 31)),),
    ),
    DemoContract(
        "MC-ADULT-DEMO",
        "medway",
        ADULT,
        ServiceElement.ADULT_SUPPORT,
        "Support for adult survivors: Medway",
        dt.date(2024, 10, 1),
        dt.date(2026, 9, 30),
        "180000.00",
        1,
        ((dt.date(2026, 6, 1), dt.date(2027, 9, 30)),),
    ),
    DemoContract(
        "MC-CYP-DEMO",
        "medway",
        CYP,
        ServiceElement.CYP,
        "Children and young people: Medway",
        dt.date(2024, 10, 1),
        dt.date(2027, 9, 30),
        "120000.00",
        1,
    ),
]


@dataclass(frozen=True)
class DemoCase:
    reference: str
    district: str
    given_name: str
    family_name: str
    house_number: int
    children: tuple[tuple[str, int], ...] = ()
    allocate_to_team: str = ""
    status: str = CaseStatus.OPEN


# Contractors get their access with a security job (security_works' demo), not here.
CASES = [
    DemoCase(
        "SAFER-DEMO-0001", "ashford", "Alex", "Example", 1, (("Sam", 2016),), "East Kent adults"
    ),
    DemoCase("SAFER-DEMO-0002", "canterbury", "Jo", "Sample", 2, (), "East Kent adults"),
    DemoCase(
        "SAFER-DEMO-0003", "maidstone", "Robin", "Placeholder", 3, (("Kit", 2012), ("Lou", 2019))
    ),
    DemoCase("SAFER-DEMO-0004", "thanet", "Charlie", "Demo", 4, (), status=CaseStatus.CLOSED),
    DemoCase("SAFER-DEMO-0005", "medway", "Frankie", "Fictional", 5, (("Ari", 2014),)),
]


class DemoRefused(ImproperlyConfigured):
    pass


@dataclass(frozen=True)
class DemoContext:
    organisations: dict[str, Organisation]
    teams: dict[str, Team]
    users: dict[str, User]  # by DemoLogin.key, e.g. "spa_manager"
    case_files: dict[str, CaseFile]  # by reference
    contracts: dict[str, Contract] = field(default_factory=dict)  # by reference


DemoSeeder = Callable[[DemoContext], Iterator[str]]
_SEEDERS: list[DemoSeeder] = []


def demo_seeder(function: DemoSeeder) -> DemoSeeder:
    """Register an app's demo data (in ``<app>/demo.py``); see the module docstring."""
    if function not in _SEEDERS:
        _SEEDERS.append(function)
    return function


def seed(*, logins_path: Path | None = None) -> Iterator[str]:
    """Create or bring up to date the demo data, yielding what it did (and the sign-ins)."""
    if settings.SAFER_ENVIRONMENT == "production":
        raise DemoRefused("Demo data is never loaded into production.")
    autodiscover_modules("demo")
    app_lines: list[str] = []
    with transaction.atomic():
        authorities = _authorities()
        organisations = _organisations(authorities)
        teams = _teams(organisations)
        users = {login.key: _user(login, organisations, teams, authorities) for login in LOGINS}
        case_files = _cases(teams)
        contracts = _contracts(organisations, authorities, users["commissioner"])
        context = DemoContext(
            organisations=organisations,
            teams=teams,
            users=users,
            case_files=case_files,
            contracts=contracts,
        )
        for seeder in _SEEDERS:
            app_lines.extend(seeder(context))
    path = logins_path or Path(settings.VAR_DIR) / LOGINS_FILE_NAME
    _write_logins(path)
    yield (
        f"Demo data: {District.objects.count()} districts in "
        f"{CommissioningAuthority.objects.count()} authorities, "
        f"{Organisation.objects.count()} organisations, {len(users)} sign-ins, "
        f"{len(case_files)} demo case files, {len(contracts)} contracts live today."
    )
    yield from app_lines
    yield from _login_lines()
    yield f"Sign-ins written to {path}"


def _authorities() -> dict[str, CommissioningAuthority]:
    kent = _upsert(CommissioningAuthority, {"code": "kent"}, {"name": "Kent County Council"})
    medway = _upsert(CommissioningAuthority, {"code": "medway"}, {"name": "Medway Council"})
    for authority, rows in ((kent, KENT_DISTRICTS), (medway, MEDWAY_DISTRICTS)):
        for code, name, population, outward_codes in rows:
            _upsert(
                District,
                {"code": code},
                {
                    "authority": authority,
                    "name": name,
                    "population": population,
                    "outward_codes": outward_codes,
                },
            )
    return {"kent": kent, "medway": medway}


def _organisations(authorities: dict[str, CommissioningAuthority]) -> dict[str, Organisation]:
    kent, medway = authorities["kent"], authorities["medway"]
    specs: list[tuple[str, str, str, list[CommissioningAuthority], list[str]]] = [
        (COUNCIL, OrganisationKind.COUNCIL, "", [kent], []),
        (MEDWAY_COUNCIL, OrganisationKind.COUNCIL, "", [medway], []),
        (SPA, OrganisationKind.SPA_PROVIDER, "", [kent, medway], []),
        (CONTRACTOR_EAST, OrganisationKind.SECURITY_CONTRACTOR, "", [kent], EAST_KENT),
        (
            CONTRACTOR_WEST,
            OrganisationKind.SECURITY_CONTRACTOR,
            "",
            [kent, medway],
            [*WEST_KENT, "medway"],
        ),
        (ADULT, OrganisationKind.ADULT_SUPPORT, "", [kent, medway], []),
        (CYP, OrganisationKind.CYP_SUPPORT, "", [kent, medway], []),
        (JOINT_BOARD, OrganisationKind.COUNCIL, "", [kent, medway], []),
        (REFUGE, OrganisationKind.ACCOMMODATION, "", [kent, medway], []),
        (POLICE, OrganisationKind.REFERRING_AGENCY, AgencyType.POLICE, [kent, medway], []),
        (
            "Example IDVA Service (demo)",
            OrganisationKind.REFERRING_AGENCY,
            AgencyType.IDVA,
            [kent],
            [],
        ),
        (
            "Example Housing Options (demo)",
            OrganisationKind.REFERRING_AGENCY,
            AgencyType.HOUSING,
            [kent],
            [],
        ),
        (
            "Example Children's Social Care (demo)",
            OrganisationKind.REFERRING_AGENCY,
            AgencyType.SOCIAL_CARE,
            [kent],
            [],
        ),
        (
            "Example GP Practice (demo)",
            OrganisationKind.REFERRING_AGENCY,
            AgencyType.HEALTH,
            [kent],
            [],
        ),
        (
            "Example Primary School (demo)",
            OrganisationKind.REFERRING_AGENCY,
            AgencyType.EDUCATION,
            [kent],
            [],
        ),
        (
            "Example Community Project (demo)",
            OrganisationKind.REFERRING_AGENCY,
            AgencyType.VOLUNTARY,
            [kent],
            [],
        ),
        (
            "Example Other Agency (demo)",
            OrganisationKind.REFERRING_AGENCY,
            AgencyType.OTHER,
            [kent],
            [],
        ),
    ]
    organisations: dict[str, Organisation] = {}
    for name, kind, agency_type, serves, districts in specs:
        organisation = _upsert(
            Organisation,
            {"name": name},
            {"kind": kind, "agency_type": agency_type, "is_active": True},
        )
        organisation.authorities.add(*serves)
        if districts:
            organisation.districts_covered.add(*District.objects.filter(code__in=districts))
        organisations[name] = organisation
    return organisations


def _teams(organisations: dict[str, Organisation]) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    for organisation, name in TEAMS:
        teams[name], _ = Team.objects.get_or_create(
            organisation=organisations[organisation], name=name
        )
    return teams


def _contracts(
    organisations: dict[str, Organisation],
    authorities: dict[str, CommissioningAuthority],
    commissioner: User,
) -> dict[str, Contract]:
    """The demo contracts and their extensions, each written only when missing (the admin may
    have recorded more since: they are kept)."""
    contracts: dict[str, Contract] = {}
    for spec in CONTRACTS:
        contract = Contract.objects.filter(reference=spec.reference).first()
        if contract is None:
            contract = Contract.objects.create(
                reference=spec.reference,
                authority=authorities[spec.authority],
                provider=organisations[spec.provider],
                service_element=spec.element,
                title=f"{spec.title} (demo)",
                start_date=spec.start,
                end_date=spec.end,
                value_per_year=Decimal(spec.value_per_year),
                extension_options=spec.extension_options,
            )
        recorded = set(contract.extensions.values_list("new_end_date", flat=True))
        for exercised_on, new_end in spec.extensions:
            if new_end not in recorded and contract.current_end_date < new_end:
                contract_extension_record(
                    contract=contract,
                    exercised_on=exercised_on,
                    new_end_date=new_end,
                    recorded_by=commissioner,
                    note="Demo: option exercised.",
                )
        contracts[spec.reference] = contract
    return contracts


def _user(
    login: DemoLogin,
    organisations: dict[str, Organisation],
    teams: dict[str, Team],
    authorities: dict[str, CommissioningAuthority],
) -> User:
    user = _upsert(
        User,
        {"email": login.email},
        {
            "full_name": login.full_name,
            "organisation": organisations[login.organisation],
            "team": teams.get(login.team),
            "is_active": True,
            # No hash yet: set below, only when there is none.
            "password": UNUSABLE_PASSWORD_PREFIX,
        },
        keep=("password",),
    )
    # Hashing (or checking) a password costs about a second each by design, so a re-seed never
    # touches one that is set: only a new account, or one without a usable password, gets the
    # demo password. (An account whose password someone changed keeps the change.)
    if not user.has_usable_password():
        user.set_password(login.password)
        user.save(update_fields=["password"])
    user.authorities.add(*(authorities[code] for code in login.authorities))
    user_role_grant(user=user, role=login.role, granted_by=None)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user,
        name="Demo authenticator",
        defaults={"key": login.totp_key_hex, "confirmed": True},
    )
    if device.key != login.totp_key_hex or not device.confirmed:
        device.key, device.confirmed = login.totp_key_hex, True
        device.save(update_fields=["key", "confirmed"])
    return user


def _cases(teams: dict[str, Team]) -> dict[str, CaseFile]:
    case_files: dict[str, CaseFile] = {}
    for case in CASES:
        case_file = CaseFile.objects.filter(reference=case.reference).first()
        if case_file is None:
            case_file = _case_file(case)
        if case.allocate_to_team:
            casefile_access_grant(
                case_file=case_file,
                permission=WORK_ON_CASEFILE,
                granted_by=None,
                team=teams[case.allocate_to_team],
            )
        case_files[case.reference] = case_file
    return case_files


def _case_file(case: DemoCase) -> CaseFile:
    district = District.objects.select_related("authority").get(code=case.district)
    household = Household.objects.create(
        authority=district.authority,
        district=district,
        address_line_1=f"{case.house_number} Example Street",
        town=f"Exampleton ({district.name})",
        postcode=f"ZZ99 {case.house_number}ZZ",
        tenure=Tenure.HOUSING_ASSOCIATION,
        tenancy_holder=TenancyHolder.SURVIVOR,
        landlord_name="Example Housing Association",
    )
    survivor = Person.objects.create(
        household=household,
        household_role=HouseholdRole.SURVIVOR,
        given_name=case.given_name,
        family_name=case.family_name,
        sex=Sex.FEMALE if case.house_number % 2 else Sex.MALE,
    )
    for name, year in case.children:
        Person.objects.create(
            household=household,
            household_role=HouseholdRole.CHILD,
            given_name=name,
            family_name=case.family_name,
            date_of_birth=dt.date(year, 6, 1),
        )
    case_file = CaseFile.objects.create(
        reference=case.reference,
        authority=district.authority,
        household=household,
        survivor=survivor,
        status=case.status,
        closed_at=timezone.now() if case.status == CaseStatus.CLOSED else None,
    )
    SafeContactRules.objects.create(
        case_file=case_file,
        phone="07700 900" + f"{case.house_number:03d}",  # Ofcom's drama range
        safe_channels=[ContactChannel.PHONE, ContactChannel.EMAIL],
        voicemail_safe=False,
        text_safe=case.house_number % 2 == 0,
        safe_times="Weekdays 10:00 to 14:00",
        alternative_contact="Through the referrer",
    )
    Perpetrator.objects.create(
        case_file=case_file,
        name="Pat Fictitious",
        relationship="Ex-partner",
        lives_at_address=False,
        has_keys=True,
        whereabouts_known=True,
    )
    return case_file


def _login_lines() -> Iterator[str]:
    yield "Sign-ins (demo only): email / password / TOTP secret (base32)"
    for login in LOGINS:
        yield (
            f"  {login.role.label:<24} {login.email:<32} {login.password:<40} "
            f"{login.totp_secret_base32}"
        )


def _write_logins(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    content = "\n".join(_login_lines()) + "\n"
    # Owner-only: a demo password is still a password.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
