"""The demo data: idempotent, complete enough to show every role, never in production."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from safer.access.roles import user_roles
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import CaseFile
from safer.demo import _SEEDERS, LOGINS, DemoContext, DemoRefused, demo_seeder, seed
from safer.organisations.models import District, Organisation, OrganisationKind

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def _run(path: Path) -> str:
    out = io.StringIO()
    call_command("seed_demo", logins_file=path, stdout=out)
    return out.getvalue()


def test_seed_creates_kent_medway_organisations_and_one_sign_in_per_role(tmp_path: Path) -> None:
    output = _run(tmp_path / "logins.txt")

    assert District.objects.filter(authority__code="kent").count() == 12
    assert District.objects.filter(authority__code="medway").count() == 1
    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert kinds == set(OrganisationKind.values)
    contractors = Organisation.objects.filter(kind=OrganisationKind.SECURITY_CONTRACTOR)
    covered = [set(c.districts_covered.values_list("code", flat=True)) for c in contractors]
    assert len(covered) == 2
    assert not covered[0] & covered[1]
    agencies = Organisation.objects.filter(kind=OrganisationKind.REFERRING_AGENCY)
    assert {"police", "idva", "housing", "social_care", "health", "education"} <= set(
        agencies.values_list("agency_type", flat=True)
    )
    held = {role for user in User.objects.all() for role in user_roles(user)}
    assert held == set(Role)
    for login in LOGINS:
        assert login.email in output
        assert login.totp_secret_base32 in output
    assert CaseFile.objects.filter(reference__startswith="SAFER-DEMO-").count() >= 5
    for case_file in CaseFile.objects.select_related("household"):
        address = case_file.household.address_line_1
        assert "Example Street" in address or "History Example Road" in address


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def test_seed_twice_changes_nothing(tmp_path: Path) -> None:
    _run(tmp_path / "logins.txt")
    first, counts = (tmp_path / "logins.txt").read_text(), _row_counts()
    with CaptureQueriesContext(connection) as queries:
        _run(tmp_path / "logins.txt")
    # Adding to a many-to-many is an INSERT … ON CONFLICT DO NOTHING: a no-op when present
    # (the row counts below prove it). Anything else that writes is a change.
    writes = [
        q["sql"][:100]
        for q in queries.captured_queries
        if q["sql"].startswith(WRITES) and "ON CONFLICT DO NOTHING" not in q["sql"]
    ]
    assert writes == []
    assert _row_counts() == counts
    assert (tmp_path / "logins.txt").read_text() == first


def test_demo_sign_ins_work_with_the_printed_password_and_totp_secret(tmp_path: Path) -> None:
    path = tmp_path / "logins.txt"
    _run(path)
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    for login in LOGINS:
        user = User.objects.get(email=login.email)
        assert user.check_password(login.password)
        assert login.password in text
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        code = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
        assert device.verify_token(f"{code:06d}")


def test_demo_staff_see_what_their_role_allows(tmp_path: Path) -> None:
    _run(tmp_path / "logins.txt")
    triage = User.objects.get(email="spa.triage@example.org")
    medway = User.objects.get(email="medway.triage@example.org")
    commissioner = User.objects.get(email="commissioner@example.org")
    worker = User.objects.get(email="adult.worker@example.org")
    assert set(CaseFile.objects.visible_to(triage).values_list("authority__code", flat=True)) == {
        "kent"
    }
    assert set(CaseFile.objects.visible_to(medway).values_list("authority__code", flat=True)) == {
        "medway"
    }
    assert not CaseFile.objects.visible_to(commissioner).exists()
    assert 0 < CaseFile.objects.visible_to(worker).count() < CaseFile.objects.count()
    # The managers' caseload per worker has the demo's workers in it, counted as the cases are.
    from support.selectors.tallies import caseload_per_worker, caseload_tally_drift

    assert caseload_tally_drift() == []
    manager = User.objects.get(email="provider.manager@example.org")
    assert worker.pk in {w.worker_id for w in caseload_per_worker(user=manager)}


@override_settings(SAFER_ENVIRONMENT="production")
def test_seed_refuses_production(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="production"):
        _run(tmp_path / "logins.txt")
    with pytest.raises(DemoRefused):
        list(seed(logins_path=tmp_path / "logins.txt"))
    assert not User.objects.exists()
    assert not (tmp_path / "logins.txt").exists()


def test_apps_add_demo_data_through_a_registered_seeder(tmp_path: Path) -> None:
    seen: list[DemoContext] = []

    def seeder(context: DemoContext) -> Iterator[str]:
        seen.append(context)
        yield "Example app: nothing to add."

    demo_seeder(seeder)
    try:
        output = _run(tmp_path / "logins.txt")
    finally:
        _SEEDERS.remove(seeder)
    assert "Example app: nothing to add." in output
    (context,) = seen
    assert context.users["spa_manager"].email == "spa.manager@example.org"
    assert "SAFER-DEMO-0001" in context.case_files


def test_seed_has_the_people_contracts_rates_and_history_every_journey_needs(
    tmp_path: Path,
) -> None:
    import datetime as dt

    from django.db.models import Count, Min, Q
    from django.utils import timezone

    from benchmarks.data.history import MARKER_PREFIX
    from referrals.models import Referral
    from safer.casefile.models import ReferenceCounter
    from safer.demo import CONTRACTS, TEAMS
    from safer.organisations.models import Contract, Team
    from security_works.demo import SCHEDULE_OF_RATES
    from security_works.models import JobStatus, Measure, SecurityJob
    from support.models import AdultSupportCase, CypCase

    _run(tmp_path / "logins.txt")
    today = timezone.localdate()

    def holder(email: str) -> User:
        return User.objects.select_related("organisation").get(email=email)

    cyp_manager = holder("cyp.manager@example.org")
    assert Role.PROVIDER_MANAGER in user_roles(cyp_manager)
    assert cyp_manager.organisation is not None
    assert cyp_manager.organisation.kind == OrganisationKind.CYP_SUPPORT
    refuge = holder("refuge.referrer@example.org")
    assert Role.REFERRER in user_roles(refuge)
    assert refuge.organisation is not None
    assert refuge.organisation.kind == OrganisationKind.ACCOMMODATION
    for organisation, name in TEAMS:  # two workers each, so a case can be transferred
        team = Team.objects.get(organisation__name=organisation, name=name)
        assert User.objects.filter(team=team, is_active=True).count() >= 2, name
    contractors = Organisation.objects.filter(kind=OrganisationKind.SECURITY_CONTRACTOR)
    for contractor in contractors:  # a sign-in for each contract area
        assert User.objects.filter(organisation=contractor).exists(), contractor
    medway = holder("medway.commissioner@example.org")
    assert Role.COMMISSIONER in user_roles(medway)
    assert set(medway.authorities.values_list("code", flat=True)) == {"medway"}
    joint = holder("joint.board@example.org")
    assert Role.COMMISSIONER in user_roles(joint)
    assert set(joint.authorities.values_list("code", flat=True)) == {"kent", "medway"}

    # Contracts live today, extensions as data; the domain notes' dates for 23/00074.
    for spec in CONTRACTS:
        assert Contract.objects.get(reference=spec.reference).is_active_on(today), spec.reference
    security = Contract.objects.get(reference="23/00074")
    assert (security.start_date, security.end_date) == (dt.date(2023, 12, 1), dt.date(2025, 11, 30))
    assert security.current_end_date == dt.date(2027, 11, 30)
    assert security.total_value == 1_600_000
    cyp = Contract.objects.get(reference="KCC-CYP-DEMO")
    assert (cyp.value_per_year, cyp.extension_options) == (760_446, 2)

    codes = {row[0] for row in SCHEDULE_OF_RATES}
    assert codes <= set(Measure.objects.values_list("code", flat=True))
    assert len(codes) >= 20

    # The named journeys' starting points.
    kit = CypCase.objects.get(case_file__reference="SAFER-DEMO-0003", child__given_name="Kit")
    assert kit.allocated_worker_id is None
    job = SecurityJob.objects.get(case_file__reference="SAFER-DEMO-0001")
    assert job.contract == security
    assert job.status == JobStatus.ALLOCATED

    # About twenty months of history, built once, apart from the named cases.
    assert ReferenceCounter.objects.filter(prefix=MARKER_PREFIX).count() == 1
    history = Referral.objects.exclude(reference__startswith="SAFER-DEMO-")
    first = history.aggregate(first=Min("received_at"))["first"]
    assert first is not None
    assert (today - timezone.localdate(first)).days >= 18 * 30
    assert history.count() >= 200
    assert not CaseFile.objects.filter(reference__startswith="SAFER-DEMO-B").exists()
    completed = SecurityJob.objects.filter(status=JobStatus.COMPLETED).annotate(
        fitted=Count("installed_measures")
    )
    assert completed.exists()
    assert not completed.filter(fitted=0).exists()
    assert not SecurityJob.objects.filter(
        ~Q(case_file__reference__startswith="SAFER-DEMO-"), contract__isnull=True
    ).exists()
    contacted = AdultSupportCase.objects.filter(
        first_contact_at__isnull=False, closed_at__isnull=False
    ).exclude(case_file__reference__startswith="SAFER-DEMO-")
    assert contacted.exists()
    assert not contacted.annotate(n=Count("sessions")).filter(n=0).exists()

    # A submitted return a commissioner can open: version 1 sent, version 2 produced since,
    # restating it; both Kent's quarterly grant update for the last complete quarter.
    from reporting.demo import DEMO_RECIPIENT
    from reporting.models import ReportKind, ReportRun, ReturnSubmission
    from reporting.periods import Period
    from reporting.selectors import return_submissions_for_user

    submission = ReturnSubmission.objects.select_related("run").get(submitted_to=DEMO_RECIPIENT)
    quarter = Period.quarter_containing(today).previous()
    assert submission.run.kind == ReportKind.QUARTERLY_GRANT
    assert submission.run.period_code == quarter.code
    assert submission.version == 1
    later = ReportRun.objects.get(return_key=submission.return_key, version=2)
    assert later.restates == submission
    commissioner = holder("commissioner@example.org")
    assert submission in return_submissions_for_user(commissioner)
