"""Sign-in guesses slowed per account, from every address, without locking anyone out.

django-axes locks an email *from one address* (5 failures, 30 minutes). Guesses at one account
spread over many addresses are slowed here instead:

- Each email (normalised) has one count of failed sign-ins from *any* address. The first
  ``FREE_FAILURES`` cost nothing; after that each further attempt must wait a delay that doubles
  with each failure (``BASE_DELAY``, 2, 4, 8 … seconds) up to ``MAX_DELAY`` (15 minutes). An
  attempt made during the wait is refused without the password being checked, and does not
  extend the wait. So an attacker gets at most about four guesses an hour at one account,
  however many addresses they use.
- An attempt is counted *before* the password is checked (and the count undone when it is
  right), so many guesses sent at once cannot all slip through before the first one is counted.
- It is a delay, never a lock: once the wait is over the right password works, and the second
  factor is still asked for. A browser that has completed a sign-in (password and second factor)
  for that email carries a signed "known device" cookie and is not delayed at all, so an attacker
  who knows a colleague's email cannot keep them out of their usual browser; they still meet
  axes' per-address lockout.
- A correct password clears the count; a count with no attempt for ``FORGET_AFTER`` (a day)
  starts again.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from safer.accounts.models import SignInThrottle

FREE_FAILURES = 5
BASE_DELAY = dt.timedelta(seconds=2)
MAX_DELAY = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(days=1)

DEVICE_COOKIE = "safer_known_device"
DEVICE_COOKIE_MAX_AGE = int(dt.timedelta(days=90).total_seconds())
_DEVICE_SALT = "safer.accounts.known-device"
_DEVICE_ACCOUNTS = 5  # a shared browser remembers this many accounts


class SignInDelayed(Exception):
    """Too many failed sign-ins for this email from any address: wait ``retry_after``."""

    def __init__(self, *, retry_after: dt.timedelta) -> None:
        super().__init__(f"sign-in delayed for {retry_after}")
        self.retry_after = retry_after

    @property
    def seconds(self) -> int:
        return max(1, int(self.retry_after.total_seconds() + 0.999))


def account_key(email: str) -> str:
    """A keyed hash of the normalised email: the throttle and the device cookie never hold it."""
    return salted_hmac(_DEVICE_SALT, email, algorithm="sha256").hexdigest()


def delay_after(failures: int) -> dt.timedelta:
    """The wait before the next attempt, after ``failures`` failed sign-ins in a row."""
    extra = failures - FREE_FAILURES
    if extra <= 0:
        return dt.timedelta(0)
    return min(BASE_DELAY * 2 ** min(extra - 1, 30), MAX_DELAY)


def sign_in_throttle_claim(*, email: str, known_device: bool) -> None:
    """Count a sign-in attempt for ``email`` before its password is checked.

    Raises ``SignInDelayed`` (and counts nothing) while the account's wait is running, unless
    the attempt comes from a known device. Its own short transaction: the count must stay even
    if the sign-in fails.
    """
    key = account_key(email)
    now = timezone.now()
    with transaction.atomic():
        SignInThrottle.objects.bulk_create([SignInThrottle(account_key=key)], ignore_conflicts=True)
        row = SignInThrottle.objects.select_for_update().get(account_key=key)
        if row.last_attempt_at is not None and now - row.last_attempt_at > FORGET_AFTER:
            row.failures, row.next_attempt_at = 0, None
        if not known_device and row.next_attempt_at is not None and now < row.next_attempt_at:
            raise SignInDelayed(retry_after=row.next_attempt_at - now)
        row.failures += 1
        row.last_attempt_at = now
        wait = delay_after(row.failures)
        row.next_attempt_at = now + wait if wait else None
        row.save(update_fields=["failures", "last_attempt_at", "next_attempt_at"])


def sign_in_throttle_clear(*, email: str) -> None:
    """The password was right: the count starts again."""
    SignInThrottle.objects.filter(account_key=account_key(email)).update(
        failures=0, next_attempt_at=None
    )


# --- The known-device cookie ---------------------------------------------------------------------


def known_device_accounts(cookie: str | None) -> list[str]:
    """The account keys a device cookie vouches for (none if missing, forged or expired)."""
    if not cookie:
        return []
    try:
        value = signing.loads(cookie, salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return []
    return [str(k) for k in value] if isinstance(value, list) else []


def known_device_has(cookie: str | None, *, email: str) -> bool:
    return account_key(email) in known_device_accounts(cookie)


def known_device_cookie(cookie: str | None, *, email: str) -> str:
    """A new cookie value vouching for ``email`` too (the most recent few accounts)."""
    key = account_key(email)
    keys = [k for k in known_device_accounts(cookie) if k != key]
    return signing.dumps([key, *keys][:_DEVICE_ACCOUNTS], salt=_DEVICE_SALT)
