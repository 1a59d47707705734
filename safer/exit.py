"""What "Exit this page" clears besides the session itself.

The core imports no app (they sit above it), yet an app may keep something server-side, keyed
from the visitor's session, that must go the moment they leave in a hurry: the public referral
form's encrypted draft is the case in point. So the core exposes this list and each such app
adds its callback from its ``AppConfig.ready()``; the exit view runs them with the session before
flushing it. The dependency points one way (app → core), and a plain list rather than a signal
keeps the hooks explicit, in registration order and easy to test.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.contrib.sessions.backends.base import SessionBase

logger = logging.getLogger(__name__)


class SessionExitHook(Protocol):
    def __call__(self, *, session: SessionBase) -> None: ...  # pragma: no cover


_hooks: list[SessionExitHook] = []


def session_exit_hook_register(hook: SessionExitHook) -> None:
    """Add ``hook``, once (``ready()`` may run more than once, in tests for example)."""
    if hook not in _hooks:
        _hooks.append(hook)


def session_exit_hooks_run(*, session: SessionBase) -> None:
    """Run every hook. One that fails is logged (by name only) and the rest still run: the
    visitor must get away whatever happens, and the session is flushed after this anyway."""
    for hook in list(_hooks):
        try:
            hook(session=session)
        except Exception:
            logger.exception("exit-this-page hook %s failed", getattr(hook, "__qualname__", hook))
