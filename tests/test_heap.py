"""The web process settles its heap once the application is built (``safer.heap``): the
objects alive after start-up are frozen out of the cyclic collector's full collections, which
otherwise walked all of them every twenty-odd requests (issue 17)."""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite runs as it did


def test_settle_heap_loads_every_view_and_freezes_what_is_alive() -> None:
    """In a process of its own, as a web process starts: the suite's own process has its
    URLconf loaded already, and freezing its heap would change how the rest of it runs."""
    script = (
        "import gc, sys, django; django.setup(); "
        "assert 'support.views.caseload' not in sys.modules; "
        "from safer.heap import settle_heap; frozen = settle_heap(); "
        "assert 'support.views.caseload' in sys.modules, 'the URLconf was not loaded'; "
        "assert frozen == gc.get_freeze_count() > 10_000, frozen; "
        # What a full collection walks is only what was made since: the frozen are left out.
        "assert len(gc.get_objects()) < frozen // 10, len(gc.get_objects()); "
        "gc.collect(); assert gc.get_freeze_count() == frozen; print('settled', frozen)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "safer.settings.test"}
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("settled ")


def test_the_wsgi_application_settles_the_heap_once_built(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safer.heap

    calls: list[bool] = []

    def settle_heap() -> int:
        calls.append(True)
        return 0

    monkeypatch.setattr(safer.heap, "settle_heap", settle_heap)
    sys.modules.pop("safer.wsgi", None)
    wsgi = importlib.import_module("safer.wsgi")
    assert callable(wsgi.application)
    assert calls == [True]
