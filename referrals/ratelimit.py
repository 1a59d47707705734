"""A fixed-window rate limit per client address, on an atomic Redis counter.

INCR and EXPIRE run in one Lua script (atomic on the server), so concurrent requests never lose a
count and a key never lives without an expiry. (EXPIRE ... NX would do in a pipeline, but needs
Redis 7; the embedded server is 6.2.) Addresses are hashed before they become
keys: Redis holds no IP addresses.

If Redis is unreachable the limit is not applied (fail open): a survivor's referral must never
be refused because a cache is down. The outage is logged.
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


# Generous: several professionals in one office share an address. Overridable in settings.
FORM_POSTS = Limit("referral-form-post", 300, 60 * 60)
SUBMISSIONS = Limit("referral-submit", 20, 60 * 60)


def configured(limit: Limit) -> Limit:
    overrides: dict[str, tuple[int, int]] = getattr(settings, "SAFER_REFERRAL_RATE_LIMITS", {})
    if limit.scope in overrides:
        max_requests, window = overrides[limit.scope]
        return Limit(limit.scope, max_requests, window)
    return limit


# The window starts with the first request; later requests do not push it back. A key found
# without a TTL (written by something else) is given one rather than living for ever.
_INCR_WITH_EXPIRY = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    # No retries: with Redis down, a form post must not wait seconds for back-off before the
    # limit is skipped.
    return redis.Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )


def redis_client() -> redis.Redis:
    base: str = settings.REDIS_URL
    # The cache database (the broker's + 1): counters are disposable, like cache entries.
    return _client(with_db(base, redis_db(base) + 1))


def _key(limit: Limit, client_id: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{client_id}".encode()).hexdigest()[:32]
    return f"safer:ratelimit:{limit.scope}:{digest}"


def hit(limit: Limit, client_id: str) -> bool:
    """Count one request; True when it is within the limit."""
    limit = configured(limit)
    key = _key(limit, client_id)
    try:
        client = redis_client()
        count = client.register_script(_INCR_WITH_EXPIRY)(keys=[key], args=[limit.window_seconds])
    except redis.RedisError as error:
        logger.warning("rate limit not applied: Redis unavailable (%s)", type(error).__name__)
        return True
    return int(count) <= limit.max_requests


def reset(limit: Limit, client_id: str) -> None:
    """Forget the count for one client (an operator's unblock; tests)."""
    try:
        redis_client().delete(_key(configured(limit), client_id))
    except redis.RedisError:
        logger.warning("rate limit reset skipped: Redis unavailable")
