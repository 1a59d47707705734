"""Security works' demo data: the schedule of rates, so a contractor can survey at once.

The measures are those of shared/domain.md §6; the unit costs are fictional but plausible. A
seed rather than a data migration: a real install's prices are its own contract's, and a
migration would put fictional prices into production. Idempotent: a rate is written only when
its code has none from the same date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from safer.demo import CONTRACTOR_EAST, CONTRACTOR_WEST, DemoContext, demo_seeder
from security_works.models import JobPriority, Measure, SecurityJob
from security_works.services import security_job_allocate

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


# Jobs waiting for their contractor to book and record a survey: (case file, contractor's key).
JOBS = [("SAFER-DEMO-0001", CONTRACTOR_EAST), ("SAFER-DEMO-0003", CONTRACTOR_WEST)]


@demo_seeder
def security_works_demo(context: DemoContext) -> Iterator[str]:
    present = set(Measure.objects.filter(effective_from=RATES_FROM).values_list("code", flat=True))
    missing = [
        Measure(
            code=code,
            description=description,
            unit=unit,
            unit_cost=Decimal(cost),
            effective_from=RATES_FROM,
            affects_escape_routes=escape,
        )
        for code, description, unit, cost, escape in SCHEDULE_OF_RATES
        if code not in present
    ]
    Measure.objects.bulk_create(missing)
    allocated = 0
    for reference, contractor in JOBS:
        case_file = context.case_files[reference]
        if SecurityJob.objects.filter(case_file=case_file).exists():
            continue
        security_job_allocate(
            case_file=case_file,
            priority=JobPriority.STANDARD,
            allocated_by=context.users["spa_triage"],
            contractor=context.organisations[contractor],
        )
        allocated += 1
    yield (
        f"Security works: a schedule of rates of {len(SCHEDULE_OF_RATES)} measures "
        f"({len(missing)} added); {len(JOBS)} demo jobs waiting for a survey "
        f"({allocated} allocated), under the contracts live today."
    )
