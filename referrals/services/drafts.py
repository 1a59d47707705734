"""Server-side drafts of the public referral form.

A draft holds everything typed so far. It is stored Fernet-encrypted (AES-128-CBC + HMAC) under a
key derived from SECRET_KEY, found only through the id kept in the visitor's session, and gone
after two idle hours: the Fernet timestamp is checked on every read and a beat task deletes
stale rows. A database dump or a backup therefore holds no readable draft, and a shared computer
left alone for two hours holds nothing either.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from referrals.models import ReferralDraft

DRAFT_IDLE_SECONDS = 2 * 60 * 60
SESSION_KEY = "referral_draft_id"
# Reading a draft counts as activity, but re-encrypting on every page view is wasteful.
_TOUCH_AFTER = dt.timedelta(minutes=5)


@lru_cache(maxsize=8)
def _fernet_for(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_derive_key(secret)) for secret in secrets])


def _derive_key(secret: str) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"safer.referrals.draft",
        info=b"referral-draft-v1",
    )
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def _fernet() -> MultiFernet:
    # The current key encrypts; fallbacks still decrypt drafts started before a key rotation.
    secrets = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    return _fernet_for(tuple(secrets))


def draft_encrypt(data: dict[str, Any]) -> bytes:
    return _fernet().encrypt(json.dumps(data, separators=(",", ":")).encode())


def draft_decrypt(token: bytes) -> dict[str, Any] | None:
    try:
        plain = _fernet().decrypt(token, ttl=DRAFT_IDLE_SECONDS)
    except InvalidToken:
        return None
    data = json.loads(plain)
    return data if isinstance(data, dict) else None


def draft_load(*, session: SessionBase) -> dict[str, Any] | None:
    """The visitor's draft, or None when there is none or it has expired (and is then deleted)."""
    draft_id = session.get(SESSION_KEY)
    if not draft_id:
        return None
    row = ReferralDraft.objects.filter(pk=draft_id).first()
    now = timezone.now()
    data = draft_decrypt(bytes(row.token)) if row is not None else None
    if (
        row is None
        or data is None
        or now - row.updated_at > dt.timedelta(seconds=DRAFT_IDLE_SECONDS)
    ):
        draft_discard(session=session)
        return None
    if now - row.updated_at > _TOUCH_AFTER:
        draft_save(session=session, data=data)
    return data


def draft_save(*, session: SessionBase, data: dict[str, Any]) -> None:
    token = draft_encrypt(data)
    now = timezone.now()
    draft_id = session.get(SESSION_KEY)
    if draft_id and ReferralDraft.objects.filter(pk=draft_id).update(token=token, updated_at=now):
        return
    row = ReferralDraft.objects.create(token=token, updated_at=now)
    session[SESSION_KEY] = str(row.pk)


def draft_discard(*, session: SessionBase) -> None:
    draft_id = session.pop(SESSION_KEY, None)
    if draft_id:
        ReferralDraft.objects.filter(pk=draft_id).delete()


def referral_drafts_purge() -> int:
    cutoff = timezone.now() - dt.timedelta(seconds=DRAFT_IDLE_SECONDS)
    deleted, _ = ReferralDraft.objects.filter(updated_at__lt=cutoff).delete()
    return deleted
