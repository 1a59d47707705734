"""factory_boy factories for the core models, with state variants (``ClosedCaseFileFactory``).

Object permissions have no factory on purpose: grant them with ``safer.access.services`` (the
only writer), as the application does. ``build_persona_world`` builds the shared persona world.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.django import DjangoModelFactory

from safer.access.services import (
    BREAK_GLASS_DURATION,
    casefile_access_grant,
)
from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.audit.models import AccessAction, AccessLog, AuthEvent, AuthEventKind
from safer.casefile.models import (
    VIEW_CASEFILE_ADDRESS,
    WORK_ON_CASEFILE,
    BreakGlassGrant,
    CaseEvent,
    CaseFile,
    CaseStatus,
    ContactChannel,
    Household,
    HouseholdRole,
    Perpetrator,
    Person,
    ReferenceCounter,
    SafeContactRules,
    Sex,
    Tenure,
)
from safer.models import WorkerCheck
from safer.organisations.models import (
    AgencyType,
    CommissioningAuthority,
    District,
    Organisation,
    OrganisationKind,
    Team,
)
from safer.outbox.models import OutboxMessage

TEST_PASSWORD = "correct horse battery staple"


# --- Organisations ---------------------------------------------------------------------------


class CommissioningAuthorityFactory(DjangoModelFactory[CommissioningAuthority]):
    class Meta:
        model = CommissioningAuthority
        django_get_or_create = ("code",)

    code: Any = factory.Sequence(lambda n: f"authority-{n}")
    name: Any = factory.Sequence(lambda n: f"Example Authority {n}")


class KentFactory(CommissioningAuthorityFactory):
    code = "kent"
    name = "Kent County Council"


class MedwayFactory(CommissioningAuthorityFactory):
    code = "medway"
    name = "Medway Council"


class DistrictFactory(DjangoModelFactory[District]):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    authority = factory.SubFactory(KentFactory)
    code = factory.Sequence(lambda n: f"district-{n}")
    name = factory.Sequence(lambda n: f"Example District {n}")
    population = 120_000


class OrganisationFactory(DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Example Organisation {n}")
    kind = OrganisationKind.ADULT_SUPPORT

    @factory.post_generation
    def authorities(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            cast(Organisation, self).authorities.add(*extracted)

    @factory.post_generation
    def districts_covered(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            cast(Organisation, self).districts_covered.add(*extracted)


class CouncilFactory(OrganisationFactory):
    kind = OrganisationKind.COUNCIL
    name = factory.Sequence(lambda n: f"Example Council {n} (commissioning)")


class SpaProviderFactory(OrganisationFactory):
    kind = OrganisationKind.SPA_PROVIDER
    name = factory.Sequence(lambda n: f"Example SPA Provider {n}")


class SecurityContractorFactory(OrganisationFactory):
    kind = OrganisationKind.SECURITY_CONTRACTOR
    name = factory.Sequence(lambda n: f"Example Locks and Doors {n}")


class AdultSupportProviderFactory(OrganisationFactory):
    kind = OrganisationKind.ADULT_SUPPORT
    name = factory.Sequence(lambda n: f"Example Adult Support {n}")


class CypProviderFactory(OrganisationFactory):
    kind = OrganisationKind.CYP_SUPPORT
    name = factory.Sequence(lambda n: f"Example Young People's Service {n}")


class AccommodationProviderFactory(OrganisationFactory):
    kind = OrganisationKind.ACCOMMODATION
    name = factory.Sequence(lambda n: f"Example Refuge {n}")


class ReferringAgencyFactory(OrganisationFactory):
    kind = OrganisationKind.REFERRING_AGENCY
    agency_type = AgencyType.POLICE
    name = factory.Sequence(lambda n: f"Example Referring Agency {n}")


class TeamFactory(DjangoModelFactory[Team]):
    class Meta:
        model = Team

    organisation = factory.SubFactory(AdultSupportProviderFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


# --- Accounts --------------------------------------------------------------------------------


class UserFactory(DjangoModelFactory[User]):
    """``UserFactory(roles=[Role.SPA_TRIAGE], authorities=[kent])``. Roles go straight onto the
    groups here (test set-up); the application grants them with ``user_role_grant``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Example User {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password(TEST_PASSWORD)
    is_active = True

    @factory.post_generation
    def roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            names = [ROLE_GROUP_NAMES[Role(role)] for role in extracted]
            cast(User, self).groups.add(*Group.objects.filter(name__in=names))

    @factory.post_generation
    def authorities(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            cast(User, self).authorities.add(*extracted)


class InactiveUserFactory(UserFactory):
    is_active = False


class TOTPDeviceFactory(DjangoModelFactory[TOTPDevice]):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "Authenticator app"
    confirmed = True


# --- Case file -------------------------------------------------------------------------------


class HouseholdFactory(DjangoModelFactory[Household]):
    class Meta:
        model = Household

    district = factory.SubFactory(DistrictFactory)
    authority = factory.LazyAttribute(lambda o: o.district.authority)
    address_line_1 = factory.Sequence(lambda n: f"{n + 1} Example Street")
    town = "Exampleton"
    postcode = "ZZ99 1AA"
    tenure = Tenure.HOUSING_ASSOCIATION


class PersonFactory(DjangoModelFactory[Person]):
    class Meta:
        model = Person

    household = factory.SubFactory(HouseholdFactory)
    household_role = HouseholdRole.SURVIVOR
    given_name = factory.Sequence(lambda n: f"Alex{n}")
    family_name = "Example"
    date_of_birth = dt.date(1990, 4, 1)
    sex = Sex.FEMALE


class ChildFactory(PersonFactory):
    household_role = HouseholdRole.CHILD
    given_name = factory.Sequence(lambda n: f"Sam{n}")
    date_of_birth = dt.date(2016, 9, 1)
    sex = Sex.MALE


class CaseFileFactory(DjangoModelFactory[CaseFile]):
    class Meta:
        model = CaseFile

    household = factory.SubFactory(HouseholdFactory)
    authority = factory.LazyAttribute(lambda o: o.household.authority)
    survivor = factory.LazyAttribute(lambda o: PersonFactory.create(household=o.household))
    reference = factory.Sequence(lambda n: f"SAFER-TEST-{n:06d}")
    status = CaseStatus.OPEN


class ClosedCaseFileFactory(CaseFileFactory):
    status = CaseStatus.CLOSED
    closed_at = factory.LazyFunction(timezone.now)
    retention_until = factory.LazyFunction(
        lambda: timezone.localdate() + dt.timedelta(days=6 * 365)
    )


class SafeguardingCaseFileFactory(CaseFileFactory):
    safeguarding_flag = True


class SafeContactRulesFactory(DjangoModelFactory[SafeContactRules]):
    class Meta:
        model = SafeContactRules

    case_file = factory.SubFactory(CaseFileFactory)
    phone = "07700 900123"  # Ofcom's range reserved for drama
    safe_channels = factory.LazyFunction(lambda: [ContactChannel.PHONE])
    voicemail_safe = False
    text_safe = False
    safe_times = "Weekdays 10:00 to 14:00"


class PerpetratorFactory(DjangoModelFactory[Perpetrator]):
    class Meta:
        model = Perpetrator

    case_file = factory.SubFactory(CaseFileFactory)
    name = "Jordan Example"
    relationship = "Ex-partner"
    lives_at_address = False
    has_keys = True
    whereabouts_known = True


class CaseEventFactory(DjangoModelFactory[CaseEvent]):
    class Meta:
        model = CaseEvent

    case_file = factory.SubFactory(CaseFileFactory)
    kind = "note"
    summary = "Example event"


class ReferenceCounterFactory(DjangoModelFactory[ReferenceCounter]):
    class Meta:
        model = ReferenceCounter
        django_get_or_create = ("prefix", "year")

    prefix = "SAFER"
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    last_number = 0


class BreakGlassGrantFactory(DjangoModelFactory[BreakGlassGrant]):
    """For expiry tests; the application opens break-glass with ``casefile_break_glass_open``."""

    class Meta:
        model = BreakGlassGrant

    case_file = factory.SubFactory(CaseFileFactory)
    user = factory.SubFactory(UserFactory)
    reason = "Police asked for the safe-contact rules during an incident"
    opened_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.opened_at + BREAK_GLASS_DURATION)


class ExpiredBreakGlassGrantFactory(BreakGlassGrantFactory):
    opened_at = factory.LazyFunction(lambda: timezone.now() - 2 * BREAK_GLASS_DURATION)


# --- Audit and platform ----------------------------------------------------------------------


class AccessLogFactory(DjangoModelFactory[AccessLog]):
    class Meta:
        model = AccessLog

    user = factory.SubFactory(UserFactory)
    user_label = factory.LazyAttribute(lambda o: f"{o.user.full_name} <{o.user.email}>")
    action = AccessAction.VIEW
    record_type = "casefile.casefile"
    record_id = factory.Faker("uuid4")
    source_ip = "192.0.2.10"


class AuthEventFactory(DjangoModelFactory[AuthEvent]):
    class Meta:
        model = AuthEvent

    kind = AuthEventKind.SIGN_IN
    user = factory.SubFactory(UserFactory)
    source_ip = "192.0.2.10"


class OutboxMessageFactory(DjangoModelFactory[OutboxMessage]):
    class Meta:
        model = OutboxMessage

    task_name = "safer.tasks.worker_check_complete_task"
    kwargs = factory.LazyFunction(dict)


class WorkerCheckFactory(DjangoModelFactory[WorkerCheck]):
    class Meta:
        model = WorkerCheck

    requested_by = factory.SubFactory(UserFactory)


# --- The persona world -------------------------------------------------------------------------


@dataclass
class PersonaWorld:
    """One person per role, plus an outsider and Medway staff, and three case files.

    - ``own_case`` (Kent): allocated to the adult support team, the CYP worker and the contractor
      organisation (with its address), so it is "own" for every Kent persona who can have one.
    - ``other_org_case`` (Kent): allocated only to another provider (the outsider's team) and
      another contractor.
    - ``other_authority_case`` (Medway): allocated to a Medway provider.
    """

    kent: CommissioningAuthority
    medway: CommissioningAuthority
    personas: dict[str, User]
    organisations: dict[str, Organisation]
    teams: dict[str, Team]
    own_case: CaseFile
    other_org_case: CaseFile
    other_authority_case: CaseFile
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> User:
        try:
            return self.__dict__["personas"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def cases(self) -> dict[str, CaseFile]:
        return {
            "own": self.own_case,
            "other_org": self.other_org_case,
            "other_authority": self.other_authority_case,
        }


PERSONA_NAMES = (
    *(role.value for role in Role),
    "outsider",
    "medway_spa_triage",
    "medway_spa_manager",
)


def build_persona_world() -> PersonaWorld:
    kent, medway = KentFactory.create(), MedwayFactory.create()
    ashford = DistrictFactory.create(authority=kent, code="ashford", name="Ashford")
    canterbury = DistrictFactory.create(authority=kent, code="canterbury", name="Canterbury")
    medway_district = DistrictFactory.create(authority=medway, code="medway", name="Medway")

    orgs = {
        "council": CouncilFactory.create(
            name="Kent County Council (commissioning)", authorities=[kent]
        ),
        "spa": SpaProviderFactory.create(name="Example SPA", authorities=[kent, medway]),
        "contractor": SecurityContractorFactory.create(
            name="Example Locks East", authorities=[kent], districts_covered=[ashford]
        ),
        "other_contractor": SecurityContractorFactory.create(
            name="Example Locks West", authorities=[kent], districts_covered=[canterbury]
        ),
        "adult": AdultSupportProviderFactory.create(
            name="Example Adult Support", authorities=[kent]
        ),
        "cyp": CypProviderFactory.create(name="Example Young People", authorities=[kent]),
        "police": ReferringAgencyFactory.create(name="Example Police", authorities=[kent]),
        "outsider": AdultSupportProviderFactory.create(
            name="Other Support Org", authorities=[kent]
        ),
        "medway_support": AdultSupportProviderFactory.create(
            name="Example Medway Support", authorities=[medway]
        ),
    }
    teams = {
        "adult": TeamFactory.create(organisation=orgs["adult"], name="East Kent adults"),
        "cyp": TeamFactory.create(organisation=orgs["cyp"], name="East Kent young people"),
        "outsider": TeamFactory.create(organisation=orgs["outsider"], name="Other team"),
        "medway_support": TeamFactory.create(
            organisation=orgs["medway_support"], name="Medway team"
        ),
    }

    def person(key: str, role: Role, org: str, *, authorities: list[Any], **extra: Any) -> User:
        return UserFactory.create(
            email=f"{key.replace('_', '-')}@example.org",
            full_name=f"{key.replace('_', ' ').title()} Persona",
            organisation=orgs[org],
            roles=[role],
            authorities=authorities,
            **extra,
        )

    personas = {
        "referrer": person("referrer", Role.REFERRER, "police", authorities=[kent]),
        "spa_triage": person("spa_triage", Role.SPA_TRIAGE, "spa", authorities=[kent]),
        "spa_manager": person("spa_manager", Role.SPA_MANAGER, "spa", authorities=[kent]),
        "contractor": person("contractor", Role.CONTRACTOR, "contractor", authorities=[kent]),
        "adult_support_worker": person(
            "adult_support_worker",
            Role.ADULT_SUPPORT_WORKER,
            "adult",
            authorities=[kent],
            team=teams["adult"],
        ),
        "cyp_worker": person(
            "cyp_worker", Role.CYP_WORKER, "cyp", authorities=[kent], team=teams["cyp"]
        ),
        "provider_manager": person(
            "provider_manager", Role.PROVIDER_MANAGER, "adult", authorities=[kent]
        ),
        "commissioner": person("commissioner", Role.COMMISSIONER, "council", authorities=[kent]),
        "auditor": person("auditor", Role.AUDITOR, "council", authorities=[kent]),
        "system_admin": person(
            "system_admin", Role.SYSTEM_ADMIN, "council", authorities=[kent], is_staff=True
        ),
        "outsider": person(
            "outsider",
            Role.ADULT_SUPPORT_WORKER,
            "outsider",
            authorities=[kent],
            team=teams["outsider"],
        ),
        "medway_spa_triage": person(
            "medway_spa_triage", Role.SPA_TRIAGE, "spa", authorities=[medway]
        ),
        "medway_spa_manager": person(
            "medway_spa_manager", Role.SPA_MANAGER, "spa", authorities=[medway]
        ),
    }

    own_case = _case(ashford, "SAFER-TEST-OWN", given_name="Riley", children=1)
    other_org_case = _case(canterbury, "SAFER-TEST-OTHER-ORG", given_name="Morgan")
    other_authority_case = _case(medway_district, "SAFER-TEST-MEDWAY", given_name="Casey")

    grant = casefile_access_grant
    grant(case_file=own_case, permission=WORK_ON_CASEFILE, granted_by=None, team=teams["adult"])
    grant(
        case_file=own_case,
        permission=WORK_ON_CASEFILE,
        granted_by=None,
        user=personas["cyp_worker"],
    )
    for permission in (WORK_ON_CASEFILE, VIEW_CASEFILE_ADDRESS):
        grant(
            case_file=own_case,
            permission=permission,
            granted_by=None,
            organisation=orgs["contractor"],
        )
        grant(
            case_file=other_org_case,
            permission=permission,
            granted_by=None,
            organisation=orgs["other_contractor"],
        )
    grant(
        case_file=other_org_case,
        permission=WORK_ON_CASEFILE,
        granted_by=None,
        team=teams["outsider"],
    )
    grant(
        case_file=other_authority_case,
        permission=WORK_ON_CASEFILE,
        granted_by=None,
        team=teams["medway_support"],
    )
    return PersonaWorld(
        kent=kent,
        medway=medway,
        personas=personas,
        organisations=orgs,
        teams=teams,
        own_case=own_case,
        other_org_case=other_org_case,
        other_authority_case=other_authority_case,
        extra={
            "districts": {"ashford": ashford, "canterbury": canterbury, "medway": medway_district}
        },
    )


def _case(district: District, reference: str, *, given_name: str, children: int = 0) -> CaseFile:
    household = HouseholdFactory.create(district=district)
    survivor = PersonFactory.create(household=household, given_name=given_name)
    case_file = CaseFileFactory.create(household=household, survivor=survivor, reference=reference)
    for _ in range(children):
        ChildFactory.create(household=household)
    SafeContactRulesFactory.create(case_file=case_file)
    PerpetratorFactory.create(case_file=case_file)
    return case_file


# --- Contracts and commissioning data (reporting) ----------------------------------------------


class ContractFactory(DjangoModelFactory[Any]):
    """A support contract (adult support by default) of the provider's first authority."""

    class Meta:
        model = "organisations.Contract"

    authority = factory.SubFactory(KentFactory)
    provider = factory.SubFactory(AdultSupportProviderFactory)
    service_element = "adult_support"
    reference = factory.Sequence(lambda n: f"CONTRACT-{n:04d}")
    start_date = dt.date(2025, 4, 1)
    end_date = dt.date(2027, 3, 31)
    value_per_year = 365_000


class CommissionedUnitsFactory(DjangoModelFactory[Any]):
    class Meta:
        model = "reporting.CommissionedUnits"

    authority = factory.SubFactory(KentFactory)
    financial_year = "2025-26"
    accommodation_type = "refuge"
    units = 10


class ContractSpendFactory(DjangoModelFactory[Any]):
    class Meta:
        model = "reporting.ContractSpend"

    contract = factory.SubFactory(ContractFactory)
    period_start = dt.date(2025, 4, 1)
    period_end = dt.date(2025, 4, 30)
    amount = 30_000
    reference = factory.Sequence(lambda n: f"INV-{n:05d}")
