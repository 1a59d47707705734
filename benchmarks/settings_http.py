"""The HTTP bench's settings (``benchmarks.http_load``): `make run`'s (``safer.settings.pilot``:
DEBUG off, hashed static files through WhiteNoise, persistent connections, gunicorn's fixed
pool of threads) with one change: the partner API's rate limits are lifted.

Every bench client comes from one address (127.0.0.1), and the per-address limit (1,200 a
minute, ``safer.api.throttle.ADDRESS``) is below what 16 clients send; a 429 would measure the
limit, not the intake. Nothing else differs from what a pilot serves.
"""

from safer.settings.pilot import *  # noqa: F403

SAFER_API_RATE_LIMITS = {"api-client": (10**9, 60), "api-ip": (10**9, 60)}
