"""Rate limits for the partner API, per client and per address, on an atomic Redis counter.

DRF's own throttles read a list from the cache, append and write it back: two requests at once
both pass. Here INCR and EXPIRE run in one Lua script (atomic on the server), so no count is lost
and no key lives without an expiry. The script also returns the key's TTL, which becomes the
``Retry-After`` of the 429. Addresses and client ids are hashed before they become keys.

If Redis is unreachable the limit is not applied (fail open, logged): a referral about someone
at risk must not be refused because a cache is down.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from safer.redis_urls import redis_db, with_db

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    scope: str
    max_requests: int
    window_seconds: int


# Per client: generous for a busy integration, small enough to stop a runaway loop.
CLIENT = Limit("api-client", 600, 60)
# Per address, counted before authentication, so guessing tokens is slow too.
ADDRESS = Limit("api-ip", 1200, 60)


def configured(limit: Limit) -> Limit:
    """``SAFER_API_RATE_LIMITS = {"api-client": (max_requests, window_seconds), ...}``."""
    overrides: dict[str, tuple[int, int]] = getattr(settings, "SAFER_API_RATE_LIMITS", {})
    if limit.scope in overrides:
        max_requests, window = overrides[limit.scope]
        return Limit(limit.scope, max_requests, window)
    return limit


# The window starts with the first request; later ones do not push it back. A key found without
# a TTL (written by something else) is given one rather than living for ever.
_INCR_WITH_EXPIRY = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('TTL', KEYS[1])}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window resets (0 when allowed)


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    # No retries: with Redis down a request must not wait on back-off before the limit is skipped.
    return redis.Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )


def redis_client() -> redis.Redis:
    base: str = settings.REDIS_URL
    # The cache database (the broker's + 1): counters are disposable, like cache entries.
    return _redis(with_db(base, redis_db(base) + 1))


def _key(limit: Limit, subject: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{subject}".encode()).hexdigest()[:32]
    return f"safer:ratelimit:{limit.scope}:{digest}"


def hit(limit: Limit, subject: str) -> Verdict:
    """Count one request by ``subject`` against ``limit``."""
    limit = configured(limit)
    try:
        script = redis_client().register_script(_INCR_WITH_EXPIRY)
        count, ttl = script(keys=[_key(limit, subject)], args=[limit.window_seconds])
    except redis.RedisError as error:
        logger.warning("API rate limit not applied: Redis unavailable (%s)", type(error).__name__)
        return Verdict(allowed=True, retry_after=0)
    if int(count) <= limit.max_requests:
        return Verdict(allowed=True, retry_after=0)
    return Verdict(allowed=False, retry_after=max(int(ttl), 1))


def reset(limit: Limit, subject: str) -> None:
    """Forget one subject's count (an operator's unblock; tests)."""
    try:
        redis_client().delete(_key(configured(limit), subject))
    except redis.RedisError:
        logger.warning("API rate limit reset skipped: Redis unavailable")
