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
from safer.organisations.services import contract_extension_record
from security_works.demo import RATES_FROM, SCHEDULE_OF_RATES
from security_works.models import Measure


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
                contract, new = Contract.objects.get_or_create(
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
                    },
                )
                if new:  # both extensions exercised: to 30 November 2027
                    for exercised_on in (dt.date(2025, 9, 1), dt.date(2026, 9, 1)):
                        contract_extension_record(
                            contract=contract, exercised_on=exercised_on, recorded_by=None
                        )
                created += new
        return created
