"""Builders for the security works tests (local on purpose: tests/factories.py is shared).

No tests here; the other ``test_security_works*`` modules import these.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group

from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.casefile.models import (
    CaseFile,
    ContactChannel,
    Household,
    HouseholdRole,
    Perpetrator,
    Person,
    SafeContactRules,
    Tenure,
)
from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    District,
    Organisation,
    OrganisationKind,
    ServiceElement,
)
from safer.organisations.services import contract_extension_record
from security_works.models import Measure, SecurityJob
from security_works.services import InstalledLine, MeasureLine

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def authority(code: str = "kent", name: str = "Kent County Council") -> CommissioningAuthority:
    return CommissioningAuthority.objects.get_or_create(code=code, defaults={"name": name})[0]


def district(auth: CommissioningAuthority, name: str = "Thanet") -> District:
    return District.objects.get_or_create(
        authority=auth, name=name, defaults={"code": f"{auth.code}-{name.lower()}"}
    )[0]


def organisation(
    kind: str,
    name: str,
    *,
    authorities: list[CommissioningAuthority],
    covers: Sequence[District] = (),
) -> Organisation:
    org = Organisation.objects.create(name=name, kind=kind)
    org.authorities.set(authorities)
    if covers:
        org.districts_covered.set(covers)
    return org


def contractor(name: str, *, auth: CommissioningAuthority, covers: list[District]) -> Organisation:
    return organisation(
        OrganisationKind.SECURITY_CONTRACTOR, name, authorities=[auth], covers=covers
    )


def user(
    *roles: Role,
    org: Organisation | None,
    authorities: Sequence[CommissioningAuthority] = (),
    name: str = "",
) -> User:
    n = _n()
    person = User.objects.create_user(
        email=f"user{n}@example.org", password="x" * 16, full_name=name or f"User {n}"
    )
    person.organisation = org
    person.save(update_fields=["organisation"])
    person.authorities.set(authorities)
    for role in roles:
        person.groups.add(Group.objects.get_or_create(name=ROLE_GROUP_NAMES[role.value])[0])
    return person


def case_file(
    auth: CommissioningAuthority,
    place: District,
    *,
    tenure: str = Tenure.OWNER_OCCUPIER,
    with_perpetrator: bool = True,
) -> CaseFile:
    n = _n()
    household = Household.objects.create(
        authority=auth,
        district=place,
        address_line_1=f"{n} Sanctuary Road",
        town="Margate",
        postcode="CT9 1AA",
        tenure=tenure,
        landlord_name="Coastal Homes" if tenure != Tenure.OWNER_OCCUPIER else "",
        landlord_contact="0300 000 0000" if tenure != Tenure.OWNER_OCCUPIER else "",
    )
    survivor = Person.objects.create(
        household=household, household_role=HouseholdRole.SURVIVOR, given_name="Alex"
    )
    Person.objects.create(
        household=household, household_role=HouseholdRole.CHILD, given_name="Kimberley-Rose"
    )
    case = CaseFile.objects.create(
        reference=f"SAFER-TEST-{n:06d}", authority=auth, household=household, survivor=survivor
    )
    SafeContactRules.objects.create(
        case_file=case,
        phone="07700 900123",
        safe_channels=[ContactChannel.TEXT],
        text_safe=True,
        safe_times="Weekdays 10:00 to 14:00",
    )
    if with_perpetrator:
        Perpetrator.objects.create(case_file=case, name="Perry Petrator", relationship="ex-partner")
    return case


def measure(
    code: str,
    unit_cost: str,
    *,
    escape: bool = False,
    effective_from: dt.date = dt.date(2020, 1, 1),
) -> Measure:
    return Measure.objects.create(
        code=code,
        description=code.replace("-", " ").capitalize(),
        unit="each",
        unit_cost=Decimal(unit_cost),
        effective_from=effective_from,
        affects_escape_routes=escape,
    )


def contract(provider: Organisation, auth: CommissioningAuthority, **fields: object) -> Contract:
    values: dict[str, object] = {
        "reference": f"23/{_n():05d}",
        "service_element": ServiceElement.SECURITY,
        "start_date": dt.date(2023, 12, 1),
        "end_date": dt.date(2025, 11, 30),
        "value_per_year": Decimal("400000.00"),
        "extension_options": 2,
        "extension_years": 1,
    }
    values.update(fields)
    taken = int(values.pop("extensions_taken", 2))  # type: ignore[call-overload]
    made = Contract.objects.create(authority=auth, provider=provider, **values)
    for _ in range(taken):  # each exercised three months before the term it extends ends
        contract_extension_record(
            contract=made,
            exercised_on=made.current_end_date - dt.timedelta(days=91),
            recorded_by=None,
        )
    return made


def line(m: Measure, quantity: str = "1", location: str = "") -> MeasureLine:
    return MeasureLine(measure=m, quantity=Decimal(quantity), location=location)


def fitted(m: Measure, quantity: str, cost: str, note: str = "") -> InstalledLine:
    return InstalledLine(
        measure=m, quantity=Decimal(quantity), actual_cost=Decimal(cost), variation_note=note
    )


@dataclass
class World:
    """Kent with two contractors covering Thanet, Medway with its own; SPA staff and personas."""

    kent: CommissioningAuthority
    medway: CommissioningAuthority
    thanet: District
    medway_district: District
    spa: Organisation
    acme: Organisation
    bolt: Organisation
    medway_contractor: Organisation
    spa_worker: User
    spa_manager: User
    second_manager: User
    acme_user: User
    bolt_user: User
    medway_user: User
    commissioner: User
    lock: Measure
    bolts: Measure
    sanctuary_door: Measure
    cctv: Measure


def build_world() -> World:
    kent = authority()
    medway = authority("medway", "Medway Council")
    thanet = district(kent, "Thanet")
    medway_district = district(medway, "Medway")
    spa = organisation(OrganisationKind.SPA_PROVIDER, "SPA Provider", authorities=[kent, medway])
    acme = contractor("Acme Locks", auth=kent, covers=[thanet])
    bolt = contractor("Bolt Security", auth=kent, covers=[thanet])
    medway_contractor = contractor("Medway Doors", auth=medway, covers=[medway_district])
    council = organisation(OrganisationKind.COUNCIL, "Kent County Council", authorities=[kent])
    return World(
        kent=kent,
        medway=medway,
        thanet=thanet,
        medway_district=medway_district,
        spa=spa,
        acme=acme,
        bolt=bolt,
        medway_contractor=medway_contractor,
        spa_worker=user(Role.SPA_TRIAGE, org=spa, authorities=[kent, medway]),
        spa_manager=user(Role.SPA_MANAGER, org=spa, authorities=[kent, medway]),
        second_manager=user(Role.SPA_MANAGER, org=spa, authorities=[kent]),
        acme_user=user(Role.CONTRACTOR, org=acme, authorities=[kent]),
        bolt_user=user(Role.CONTRACTOR, org=bolt, authorities=[kent]),
        medway_user=user(Role.CONTRACTOR, org=medway_contractor, authorities=[medway]),
        commissioner=user(Role.COMMISSIONER, org=council, authorities=[kent]),
        lock=measure("bs-mortice-lock", "85.00"),
        bolts=measure("hinge-bolts", "25.00"),
        sanctuary_door=measure("sanctuary-door", "1450.00", escape=True),
        cctv=measure("cctv", "900.00"),
    )


def jpeg_with_gps() -> bytes:
    """A small JPEG carrying EXIF with a GPS position (and a camera make)."""
    from PIL import Image

    image = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 1  # Orientation
    gps = {1: "N", 2: (51.0, 23.0, 1.5), 3: "E", 4: (1.0, 23.0, 2.5)}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def job_reload(job: SecurityJob) -> SecurityJob:
    return SecurityJob.objects.get(pk=job.pk)
