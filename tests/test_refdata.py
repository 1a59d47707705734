"""Reference data kept per process (``safer.refdata``, ADR 0014): when a change is seen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from referrals.models import SpaPolicy
from referrals.selectors import district_page
from referrals.sla import spa_policy_cached
from safer import refdata
from safer.organisations.models import CommissioningAuthority, District
from tests.referrals_support import geography

pytestmark = pytest.mark.django_db


def _kent() -> CommissioningAuthority:
    geography()
    return CommissioningAuthority.objects.get(code="kent")


def test_a_second_lookup_reads_nothing(django_assert_num_queries: Any) -> None:
    kent = _kent()  # writes districts, not SPA policies: those are the migrations' (committed)
    with django_assert_num_queries(1):
        spa_policy_cached(authority_id=kent.pk)
    with django_assert_num_queries(0):
        assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 2


def test_the_writing_transaction_reads_its_own_change_and_nobody_keeps_it(
    django_capture_on_commit_callbacks: Any,
) -> None:
    kent = _kent()
    with django_capture_on_commit_callbacks(execute=True):
        SpaPolicy.objects.create(authority=kent, triage_working_days=5)
    # The test's transaction wrote the rows above: still pending for the cache's purposes, so
    # every lookup in it reads the database and keeps nothing.
    assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 5
    assert not [k for k in refdata._entries if k[0] == "spa_policy"]


def _committed_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lookups as in a request after the writes above committed (the test's own transaction is
    never committed, so its pending bumps are forgotten here)."""
    monkeypatch.setattr(refdata, "_pending", lambda name: False)


def test_a_committed_change_reaches_a_process_holding_the_old_value(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    kent = _kent()
    policy = SpaPolicy.objects.create(authority=kent, triage_working_days=5)
    _committed_state(monkeypatch)
    assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 5
    held = dict(refdata._entries)  # what another process holds: read under the old token
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        policy.triage_working_days = 7
        policy.save()
    assert len(callbacks) == 1  # the new token is written on commit, not before
    refdata._entries.update(held)  # that process never heard of the change but for the token
    assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 7


def test_a_change_rolled_back_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    kent = _kent()
    _committed_state(monkeypatch)
    spa_policy_cached(authority_id=kent.pk)
    token = refdata._token("spa_policy")
    monkeypatch.undo()

    def change_then_fail() -> None:
        with transaction.atomic():
            SpaPolicy.objects.create(authority=kent, triage_working_days=9)
            assert refdata._pending("spa_policy")
            assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 9
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert not refdata._pending("spa_policy")  # Django dropped the bump with the savepoint
    assert refdata._token("spa_policy") == token
    assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 2


def test_a_change_the_signals_missed_is_read_within_max_age(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kent = _kent()
    _committed_state(monkeypatch)
    now = [1000.0]
    monkeypatch.setattr(refdata.time, "monotonic", lambda: now[0])
    assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 2
    SpaPolicy.objects.filter(authority=None).update(triage_working_days=6)  # no signal
    now[0] += refdata.MAX_AGE - 1
    assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 2  # still held
    now[0] += 1
    assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 6


def test_districts_renamed_are_offered_after_commit(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    geography()
    _committed_state(monkeypatch)
    names = [d.name for d in district_page().by_key.values()]
    assert "Maidstone" in names
    held = dict(refdata._entries)
    with django_capture_on_commit_callbacks(execute=True):
        district = District.objects.get(code="maidstone")
        district.name = "Maidstone Borough"
        district.save()
    refdata._entries.update(held)
    assert "Maidstone Borough" in [d.name for d in district_page().by_key.values()]


def test_without_the_shared_cache_every_lookup_reads_the_database(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    kent = _kent()
    _committed_state(monkeypatch)

    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("redis down")

    monkeypatch.setattr(refdata.cache, "get", down)
    for _ in range(2):
        with django_assert_num_queries(1):
            spa_policy_cached(authority_id=kent.pk)


def test_a_lost_token_means_a_fresh_read(monkeypatch: pytest.MonkeyPatch) -> None:
    kent = _kent()
    _committed_state(monkeypatch)
    spa_policy_cached(authority_id=kent.pk)
    refdata.cache.delete("safer:refdata:spa_policy")  # evicted, or Redis restarted empty
    SpaPolicy.objects.filter(authority=None).update(triage_working_days=8)  # no signal
    assert spa_policy_cached(authority_id=kent.pk).triage_working_days == 8


def test_the_policy_of_a_submission_is_the_current_one(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """End to end: a referral after an edit committed gets the edited target."""
    from tests.referrals_support import make_referral

    kent = _kent()
    _committed_state(monkeypatch)
    make_referral(given_name="Before")  # fills the cache with the default policy
    with django_capture_on_commit_callbacks(execute=True):
        SpaPolicy.objects.filter(authority=None).update(triage_working_days=2)
        SpaPolicy.objects.create(authority=kent, triage_working_days=10)
    referral = make_referral(given_name="After")
    assert referral.sla_due_at is not None
    assert referral.sla_due_at - referral.received_at > dt.timedelta(days=10)


def test_one_request_reads_the_versions_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from referrals.services.risk_policy import risk_rules_cached

    kent = _kent()
    _committed_state(monkeypatch)
    reads: list[object] = []
    real_get, real_get_many = refdata.cache.get, refdata.cache.get_many

    def get(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return real_get(*args, **kwargs)

    def get_many(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return real_get_many(*args, **kwargs)

    monkeypatch.setattr(refdata.cache, "get", get)
    monkeypatch.setattr(refdata.cache, "get_many", get_many)
    for name in ("districts", "risk_rules", "spa_policy"):
        refdata._token_read(name)  # the tokens exist (a process that has run before)
    reads.clear()
    with refdata.one_version_check():
        district_page()
        risk_rules_cached(authority_id=kent.pk)
        spa_policy_cached(authority_id=kent.pk)
        district_page()
    assert len(reads) == 1  # one get_many for the three names
    reads.clear()
    spa_policy_cached(authority_id=kent.pk)  # outside a block: a read per lookup
    assert len(reads) == 1
