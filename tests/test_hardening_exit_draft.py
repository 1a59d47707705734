"""The "Exit this page" button deletes the visitor's server-side referral draft at once, through
the hook the referrals app registers with the core (the core never imports referrals)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client
from django.urls import reverse

from referrals.models import ReferralDraft
from referrals.services.drafts import SESSION_KEY, draft_discard, draft_save
from safer import exit as exit_hooks

pytestmark = pytest.mark.django_db


def _visitor_with_draft() -> tuple[Client, str]:
    client = Client()
    session = client.session
    draft_save(session=session, data={"survivor": {"given_name": "Alex"}})
    session.save()
    return client, session[SESSION_KEY]


@pytest.mark.parametrize("method", ["get", "post"])
def test_exit_deletes_the_visitors_draft_immediately(method: str) -> None:
    client, draft_id = _visitor_with_draft()
    _other, other_draft_id = _visitor_with_draft()

    response = getattr(client, method)(reverse("exit-this-page"))

    assert response.status_code == 302
    assert not ReferralDraft.objects.filter(pk=draft_id).exists()
    # Only this visitor's: someone else's half-typed referral stays.
    assert ReferralDraft.objects.filter(pk=other_draft_id).exists()


def test_exit_without_a_draft_is_fine() -> None:
    assert Client().get(reverse("exit-this-page")).status_code == 302


def test_the_referrals_app_registers_its_draft_hook() -> None:
    assert draft_discard in exit_hooks._hooks
    exit_hooks.session_exit_hook_register(draft_discard)  # ready() again: still once
    assert exit_hooks._hooks.count(draft_discard) == 1


def test_a_failing_hook_does_not_stop_the_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*, session: SessionBase) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(exit_hooks, "_hooks", [broken, draft_discard])
    client, draft_id = _visitor_with_draft()
    assert client.get(reverse("exit-this-page")).status_code == 302
    assert not ReferralDraft.objects.filter(pk=draft_id).exists()


def test_the_core_exit_code_does_not_import_referrals() -> None:
    base = Path(settings.BASE_DIR)
    for name in ("safer/exit.py", "safer/views.py"):
        tree = ast.parse((base / name).read_text())
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        assert not any(m.split(".")[0] == "referrals" for m in imported), name
