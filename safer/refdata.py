"""Reference data kept in each process between requests, with a version in the shared cache.

Every referral reads the same few rows (the districts with their authorities, the authority's
risk bands, its SPA policy); issue 17 measured them as three of a submission's ~21 statements.
``cached(name, key, load)`` keeps what ``load`` returned in this process and serves it again
while the name's version token in the shared cache (Redis) is the one it was read under and it
is younger than ``MAX_AGE``. ``changed(name)`` gives the name a new token after the writing
transaction commits (``transaction.on_commit``), so every process reads again on its next
lookup. ``track(Model, name)`` calls it on every save and delete of a model (the admin, the
seed, the factories: anything through the ORM). ADR 0014 has the reasoning and the bounds:

- a change saved through the ORM is used by every lookup that starts after its commit (the
  token is replaced straight after COMMIT returns, before the writer's request answers);
- a change made around the ORM (raw SQL, ``QuerySet.update``, a data migration) or whose new
  token could not be written (Redis down at that moment) is used at most ``MAX_AGE`` later;
- the transaction that made a change reads the database itself until it ends (its own writes,
  uncommitted, are never put where another request could read them);
- when the shared cache cannot be read, every lookup reads the database.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The longest a value is served without being read again, whatever the token says: the bound
# for a change the ORM's signals did not see, or whose new token was lost.
MAX_AGE = 30.0
_KEY = "safer:refdata:{name}"  # the name's version token in the shared cache


@dataclass(frozen=True)
class _Entry:
    token: str
    loaded_at: float
    value: Any


_entries: dict[tuple[str, Hashable], _Entry] = {}
_lock = threading.Lock()
_names: set[str] = set()  # every tracked name
# Inside ``one_version_check()``: the tokens read so far in this block, by name.
_checked: ContextVar[dict[str, str] | None] = ContextVar("safer_refdata_checked", default=None)


class _Bump:
    """The on-commit callback that gives names a new token (recognisable while pending)."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def __call__(self) -> None:
        _forget(self.names)
        try:
            cache.set_many({_KEY.format(name=n): uuid.uuid4().hex for n in self.names}, None)
        except Exception:  # the change is committed; other processes see it within MAX_AGE
            logger.exception(
                "Reference data %s changed, but its version could not be written: "
                "other processes use the old values for up to %s s",
                sorted(self.names),
                MAX_AGE,
            )


def cached(name: str, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, or what it returned before in this process while still current (above).

    The value is shared by every request of the process: callers must not change it."""
    if _pending(name):
        return load()  # this transaction changed it: its own, uncommitted rows
    try:
        token = _token(name)
    except Exception:
        logger.warning("Reference data %s read from the database: no shared cache", name)
        return load()
    started = time.monotonic()  # before reading: the age counts from the read's start
    entry = _entries.get((name, key))
    if entry is not None and entry.token == token and started - entry.loaded_at < MAX_AGE:
        return entry.value
    value = load()
    with _lock:
        _entries[(name, key)] = _Entry(token=token, loaded_at=started, value=value)
    return value


@contextmanager
def one_version_check() -> Iterator[None]:
    """Read each name's token at most once in this block (one request: a submission reads three
    data sets, one Redis round trip each otherwise). The block then uses the versions current at
    its first lookup throughout, as a request that started just before a change would anyway."""
    token = _checked.set({})
    try:
        yield
    finally:
        _checked.reset(token)


def changed(*names: str) -> None:
    """The data behind ``names`` changed in the current transaction: a new version on commit
    (at once outside a transaction); until then this transaction reads around the cache."""
    bump = _Bump(frozenset(names))
    _forget(bump.names)
    transaction.on_commit(bump, robust=True)


def track(model: type[models.Model], *names: str) -> None:
    """Every save or delete of ``model`` through the ORM changes ``names``."""

    def receiver(sender: type[models.Model], **kwargs: Any) -> None:
        changed(*names)

    _names.update(names)
    uid = f"safer.refdata:{model._meta.label}:{','.join(names)}"
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid)


def clear() -> None:
    """Forget everything this process holds (tests: a flushed database)."""
    with _lock:
        _entries.clear()


def _forget(names: frozenset[str]) -> None:
    with _lock:
        for entry_key in [k for k in _entries if k[0] in names]:
            _entries.pop(entry_key, None)


def _token(name: str) -> str:
    checked = _checked.get()
    if checked is None:
        return _token_read(name)
    if not checked:  # the block's first lookup: every tracked name's token in one round trip
        keys = {_KEY.format(name=n): n for n in _names | {name}}
        checked.update({keys[k]: str(t) for k, t in cache.get_many(list(keys)).items()})
    if name not in checked:
        checked[name] = _token_read(name)
    return checked[name]


def _token_read(name: str) -> str:
    key = _KEY.format(name=name)
    token = cache.get(key)
    if token is None:  # never set, or evicted: any new token makes every process read again
        cache.add(key, uuid.uuid4().hex, None)
        token = cache.get(key)
        if token is None:
            raise RuntimeError("the shared cache did not keep the version token")
    return str(token)


def _pending(name: str) -> bool:
    """Whether the current transaction changed ``name`` and has not ended yet (its ``_Bump`` is
    still waiting for the commit; Django drops it on rollback)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:
        return False
    # Each pending entry is (savepoint ids, callback, robust) in Django 5.2.
    return any(
        isinstance(pending[1], _Bump) and name in pending[1].names
        for pending in connection.run_on_commit
    )
