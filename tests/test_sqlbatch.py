"""``safer.sqlbatch`` batches only rows that lose nothing by skipping ``save()`` and signals: a
model with a ``save()`` of its own or a save signal's receiver is refused, not stored without
what those do."""

from __future__ import annotations

import pytest

from safer import sqlbatch
from safer.casefile.models import CaseEvent
from safer.organisations.models import District


def test_a_model_with_a_save_receiver_is_refused() -> None:
    # ``safer.refdata`` listens to District's saves (its per-process copy's version).
    with pytest.raises(ValueError, match="save signal receiver"):
        sqlbatch.inserts([District(name="Nowhere")])


def test_a_model_with_a_save_of_its_own_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def save(self: CaseEvent, *args: object, **kwargs: object) -> None:
        raise AssertionError("never called")

    monkeypatch.setattr(CaseEvent, "save", save)
    with pytest.raises(ValueError, match="save\\(\\) of its own"):
        sqlbatch.inserts([CaseEvent(kind="note", summary="x")])


def test_a_plain_model_is_batched_as_one_insert() -> None:
    [statement] = sqlbatch.inserts([CaseEvent(kind="note", summary="a"), CaseEvent(kind="note")])
    assert statement.sql.startswith('INSERT INTO "casefile_caseevent"')
    assert len(statement.rows) == 2
