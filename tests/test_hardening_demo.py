"""A second ``seed_demo`` (every ``make run``) leaves the demo passwords alone: hashing one costs
about a second by design, so a re-seed neither checks nor re-hashes them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from safer.accounts.models import User
from safer.demo import LOGINS

pytestmark = pytest.mark.django_db


def _run(path: Path) -> None:
    call_command("seed_demo", logins_file=path, stdout=io.StringIO())


def _hashes() -> dict[str, str]:
    return dict(
        User.objects.filter(email__in=[login.email for login in LOGINS]).values_list(
            "email", "password"
        )
    )


def test_a_second_seed_neither_checks_nor_rehashes_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(tmp_path / "logins.txt")
    before = _hashes()
    assert len(before) == len(LOGINS)

    def refuse(self: User, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a re-seed must not hash or check a password")

    monkeypatch.setattr(User, "set_password", refuse)
    monkeypatch.setattr(User, "check_password", refuse)
    _run(tmp_path / "logins.txt")

    assert _hashes() == before


def test_the_demo_passwords_work_after_a_second_seed(tmp_path: Path) -> None:
    _run(tmp_path / "logins.txt")
    _run(tmp_path / "logins.txt")
    for login in LOGINS:
        assert User.objects.get(email=login.email).check_password(login.password)


def test_an_account_without_a_usable_password_gets_the_demo_one_back(tmp_path: Path) -> None:
    _run(tmp_path / "logins.txt")
    login = LOGINS[0]
    user = User.objects.get(email=login.email)
    user.set_unusable_password()
    user.save(update_fields=["password"])

    _run(tmp_path / "logins.txt")

    assert User.objects.get(email=login.email).check_password(login.password)
