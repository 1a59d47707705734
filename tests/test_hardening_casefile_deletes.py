"""Deleting a case-file record leaves a "Deleted" row in its change history, with who did it."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.test import Client
from django.urls import reverse
from pghistory.core import event_models

from safer.audit.history import history_context
from safer.audit.selectors import change_history
from safer.casefile.models import CaseFile, Perpetrator, Person, SafeContactRules
from tests.factories import (
    CaseFileFactory,
    ChildFactory,
    PerpetratorFactory,
    PersonaWorld,
    SafeContactRulesFactory,
    UserFactory,
)
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["case_file", "child", "perpetrator", "safe_contact_rules"])
def test_a_delete_leaves_a_history_row_naming_who_deleted(kind: str) -> None:
    case = CaseFileFactory.create()
    record = {
        "case_file": lambda: case,
        "child": lambda: ChildFactory.create(household=case.household),
        "perpetrator": lambda: PerpetratorFactory.create(case_file=case),
        "safe_contact_rules": lambda: SafeContactRulesFactory.create(case_file=case),
    }[kind]()
    model = type(record)
    pk = record.pk
    admin = UserFactory.create()

    with history_context(actor=admin, source="test"):
        record.delete()

    assert not model._default_manager.filter(pk=pk).exists()
    rows = [
        row
        for event_model in event_models(tracks_model=model)
        for row in event_model._default_manager.filter(pgh_obj_id=pk, pgh_label="delete")
    ]
    assert len(rows) == 1
    context = cast(Any, rows[0]).pgh_context
    assert context.metadata["user"] == str(admin.pk)


def test_the_auditor_sees_the_deletion_in_the_change_history(world: PersonaWorld) -> None:
    case = world.own_case
    perpetrator = PerpetratorFactory.create(case_file=case)
    perpetrator_id = str(perpetrator.pk)
    with history_context(actor=world.spa_manager):
        perpetrator.delete()

    rows = change_history(scope={"casefile.perpetrator": {perpetrator_id}})
    assert [r.kind for r in rows][:1] == ["Deleted"]

    client = sign_in(Client(), world.auditor)
    url = reverse("audit:record-changes", args=["casefile.casefile", str(case.pk)])
    page = client.get(url).content.decode()
    assert "Deleted" in page
    assert perpetrator.name not in page  # values stay hidden


def test_tracked_models_all_have_delete_triggers() -> None:
    for model in (CaseFile, Person, SafeContactRules, Perpetrator):
        names = {t.name for t in cast(Any, model._meta).triggers}
        assert "delete_delete" in names, model
