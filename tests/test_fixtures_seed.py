"""A transactional test's flush must not take away what the data migrations seeded."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command

from referrals.models import DeclineReason
from tests.fixtures_seed import data_migrations_replay, is_project_app


def _row_counts() -> dict[str, int]:
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if is_project_app(model._meta.app_label)
    }
    counts["auth.Group"] = Group.objects.count()
    return counts


@pytest.mark.django_db(transaction=True)
def test_replaying_data_migrations_after_a_flush_restores_every_seeded_table() -> None:
    seeded = _row_counts()
    assert seeded["auth.Group"] >= 10
    assert DeclineReason.objects.filter(code="not_safe_to_remain").exists()

    call_command("flush", interactive=False, verbosity=0)
    assert not DeclineReason.objects.exists()

    data_migrations_replay()
    assert _row_counts() == seeded
