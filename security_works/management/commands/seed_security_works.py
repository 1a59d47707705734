"""Demo data for security works: a schedule of rates and the security contracts.

Idempotent (run it after ``seed_demo``). Unit costs are fictional; the contract figures follow
the client's published award 23/00074 (£800,000 for 1 Dec 2023 to 30 Nov 2025, two optional
one-year extensions), split here between the demo's two Kent contractors.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    Organisation,
    OrganisationKind,
    ServiceElement,
)
from security_works.models import Measure

RATES_FROM = dt.date(2023, 12, 1)

# (code, description, unit, unit cost, affects a means of escape)
SCHEDULE_OF_RATES: list[tuple[str, str, str, str, bool]] = [
    (
        "sanctuary-room",
        "Sanctuary room: solid-core door re-hung to open outwards, two mortice "
        "bolts, three heavy steel hinges, hinge bolts, 180° viewer",
        "room",
        "1450.00",
        True,
    ),
    ("bs-5-lever-mortice", "British Standard 5-lever mortice lock", "each", "95.00", True),
    ("anti-snap-cylinder", "Anti-snap cylinder lock", "each", "65.00", False),
    ("reinforced-doorset", "Reinforced replacement doorset", "each", "1200.00", True),
    ("hinge-bolts", "Hinge bolts (pair)", "pair", "25.00", False),
    ("door-viewer", "Door viewer (180°)", "each", "20.00", False),
    ("door-chain", "Door chain or limiter", "each", "25.00", False),
    ("london-bar", "London bar", "each", "45.00", False),
    ("birmingham-bar", "Birmingham bar", "each", "45.00", False),
    ("anti-arson-letterbox", "Anti-arson letterbox", "each", "85.00", False),
    ("letterbox-bag", "Fire-retardant letterbox bag", "each", "35.00", False),
    ("letterbox-cover", "Letterbox cover", "each", "30.00", False),
    ("security-film", "Laminated glass or security film", "square metre", "60.00", True),
    ("window-lock", "Key-operated window lock", "each", "22.00", True),
    ("patio-anti-lift", "Anti-lift device for patio doors", "each", "30.00", False),
    ("security-lighting", "Security lighting (PIR)", "each", "110.00", False),
    ("intruder-alarm", "Intruder alarm", "each", "450.00", False),
    ("video-doorbell", "Video doorbell", "each", "120.00", False),
    ("cctv", "CCTV camera (fitted)", "each", "300.00", False),
    ("personal-alarm", "Personal alarm", "each", "40.00", False),
    ("smoke-alarm", "Smoke alarm", "each", "25.00", False),
]


class Command(BaseCommand):
    help = "Load the demo schedule of rates and security contracts (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            measures = self._rates()
            contracts = self._contracts()
        self.stdout.write(f"Schedule of rates: {measures} new; security contracts: {contracts} new")

    def _rates(self) -> int:
        created = 0
        for code, description, unit, cost, escape in SCHEDULE_OF_RATES:
            _, new = Measure.objects.get_or_create(
                code=code,
                effective_from=RATES_FROM,
                defaults={
                    "description": description,
                    "unit": unit,
                    "unit_cost": Decimal(cost),
                    "affects_escape_routes": escape,
                },
            )
            created += new
        return created

    def _contracts(self) -> int:
        created = 0
        for authority in CommissioningAuthority.objects.all():
            contractors = list(
                Organisation.objects.filter(
                    kind=OrganisationKind.SECURITY_CONTRACTOR, authorities=authority
                ).order_by("name")
            )
            if not contractors:
                continue
            # Kent's published £400,000 a year; a smaller demo figure elsewhere.
            per_year = Decimal("400000") if authority.code == "kent" else Decimal("100000")
            share = (per_year / len(contractors)).quantize(Decimal("0.01"))
            for lot, contractor in enumerate(contractors, start=1):
                _, new = Contract.objects.get_or_create(
                    reference=f"23/00074/{authority.code}/{lot}",
                    defaults={
                        "authority": authority,
                        "provider": contractor,
                        "service_element": ServiceElement.SECURITY,
                        "title": f"Sanctuary property security, lot {lot} (demo)",
                        "start_date": dt.date(2023, 12, 1),
                        "end_date": dt.date(2025, 11, 30),
                        "value_per_year": share,
                        "extension_options": 2,
                        "extension_years": 1,
                        "extensions_taken": 2,
                    },
                )
                created += new
        return created
