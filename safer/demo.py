"""Realistic, obviously fictional demo data. Idempotent: running it twice changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import transaction

from safer.organisations.models import (
    CommissioningAuthority,
    District,
    Organisation,
    OrganisationKind,
)

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


@transaction.atomic
def seed() -> Iterator[str]:
    kent, _ = CommissioningAuthority.objects.update_or_create(
        code="kent", defaults={"name": "Kent County Council"}
    )
    medway, _ = CommissioningAuthority.objects.update_or_create(
        code="medway", defaults={"name": "Medway Council"}
    )
    for authority, rows in ((kent, KENT_DISTRICTS), (medway, MEDWAY_DISTRICTS)):
        for code, name, population, outward_codes in rows:
            District.objects.update_or_create(
                code=code,
                defaults={
                    "authority": authority,
                    "name": name,
                    "population": population,
                    "outward_codes": outward_codes,
                },
            )
    council, _ = Organisation.objects.update_or_create(
        name="Kent County Council (commissioning)", defaults={"kind": OrganisationKind.COUNCIL}
    )
    council.authorities.add(kent)
    districts, authorities = District.objects.count(), CommissioningAuthority.objects.count()
    yield f"Demo data: {districts} districts in {authorities} authorities."
