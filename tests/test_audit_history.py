"""Every tracked write says who made it and from where: in a request, in a task, or by hand."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pghistory
import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from pghistory.core import event_models

from safer.audit.history import history_context, task_context_enter, task_context_exit
from safer.audit.middleware import HistoryContextMiddleware
from safer.casefile.models import CaseFile, Household
from safer.celery import app as celery_app
from tests.factories import CaseFileFactory, HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db


def _context_of_last_event(model: type[Any], obj: Any) -> dict[str, Any]:
    (event_model,) = event_models(tracks_model=model)
    event: Any = (
        event_model._default_manager.filter(pgh_obj_id=obj.pk)
        .select_related("pgh_context")
        .latest("pgh_id")
    )
    return event.pgh_context.metadata if event.pgh_context else {}


def test_a_write_in_a_request_records_the_user_address_and_path() -> None:
    worker = UserFactory.create()
    household = HouseholdFactory.create()

    def view(request: HttpRequest) -> HttpResponse:
        Household.objects.filter(pk=household.pk).update(tenure="council")  # a bulk write
        return HttpResponse("ok")

    request = RequestFactory().post("/cases/x/edit/?q=secret", REMOTE_ADDR="203.0.113.7")
    request.user = worker
    HistoryContextMiddleware(view)(request)

    context = _context_of_last_event(Household, household)
    assert context == {
        "user": str(worker.pk),
        "url": "/cases/x/edit/",  # never the query string
        "ip": "203.0.113.7",
        "method": "POST",
    }


def test_signing_in_during_a_request_updates_the_user() -> None:
    user = UserFactory.create()
    household = HouseholdFactory.create()

    def view(request: HttpRequest) -> HttpResponse:
        request.user = user  # what django.contrib.auth.login does
        Household.objects.filter(pk=household.pk).update(town="Elsewhere")
        return HttpResponse("ok")

    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="198.51.100.1")
    request.user = AnonymousUser()
    HistoryContextMiddleware(view)(request)

    assert _context_of_last_event(Household, household)["user"] == str(user.pk)


def test_history_context_attributes_each_block_to_its_own_actor() -> None:
    """Acting for several people in one task must not re-attribute earlier changes."""
    first, second = UserFactory.create(), UserFactory.create()
    case_a, case_b = CaseFileFactory.create(), CaseFileFactory.create()

    task_context_enter(task_id="t-1", task=SimpleNamespace(name="casefile_sweep_task"))
    try:
        with history_context(actor=first):
            CaseFile.objects.filter(pk=case_a.pk).update(safeguarding_flag=True)
        with history_context(actor=second):
            CaseFile.objects.filter(pk=case_b.pk).update(safeguarding_flag=True)
        CaseFile.objects.filter(pk=case_a.pk).update(status="closed")
    finally:
        task_context_exit(task_id="t-1")

    case_a_events = _events(CaseFile, case_a)
    assert case_a_events[-2] == {"user": str(first.pk), "source": "task:casefile_sweep_task"}
    assert _events(CaseFile, case_b)[-1] == {
        "user": str(second.pk),
        "source": "task:casefile_sweep_task",
    }
    # After the blocks, the task's own context again: no user, the task named.
    assert case_a_events[-1] == {"source": "task:casefile_sweep_task"}


def _events(model: type[Any], obj: Any) -> list[dict[str, Any]]:
    (event_model,) = event_models(tracks_model=model)
    rows: Any = event_model._default_manager.filter(pgh_obj_id=obj.pk)
    events = rows.select_related("pgh_context").order_by("pgh_id")
    return [e.pgh_context.metadata if e.pgh_context else {} for e in events]


@celery_app.task(name="tests.audit_history_probe")
def _probe_task(household_id: str) -> None:
    Household.objects.filter(pk=household_id).update(town="Changed by a task")


def test_every_celery_task_names_itself_in_the_history() -> None:
    household = HouseholdFactory.create()
    _probe_task.apply(args=(str(household.pk),))
    assert _context_of_last_event(Household, household) == {
        "source": "task:tests.audit_history_probe"
    }


def test_a_write_outside_any_context_has_no_context() -> None:
    """Shell and migration writes: the auditor sees "Not recorded" rather than a guess."""
    household = HouseholdFactory.create()
    assert _context_of_last_event(Household, household) == {}


@celery_app.task(name="tests.audit_history_failing_probe")
def _failing_task() -> None:
    raise RuntimeError("the task failed")


def test_a_failing_task_still_closes_its_context() -> None:
    """Otherwise the request that ran it (eagerly) would carry on under the task's name."""
    household = HouseholdFactory.create()
    with pghistory.context(url="/cases/x/"):
        with pytest.raises(RuntimeError):
            _failing_task.apply(throw=True)
        Household.objects.filter(pk=household.pk).update(town="After the task")
    assert _context_of_last_event(Household, household) == {"url": "/cases/x/"}
