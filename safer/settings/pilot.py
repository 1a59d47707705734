"""`make run`: SAFER served as production serves it, on one machine, over plain HTTP.

Production's hardening (DEBUG off, hashed static files through WhiteNoise, the service's own error
pages, a secret key that is not in the code) minus what needs HTTPS and a real host name: no HTTPS
redirect, no HSTS, no ``Secure``/``__Host-`` cookies (a browser drops them on http://127.0.0.1),
and host names of this machine. The embedded PostgreSQL and Redis start unless DATABASE_URL and
REDIS_URL name real ones. See docs/decisions/0008-pilot-serving.md.

Not for a service reachable from a network: that is ``safer.settings.production`` behind TLS.
"""

import os
import secrets

from safer.settings.base import *
from safer.settings.base import caches, celery_settings, databases, redis_base_url

SAFER_ENVIRONMENT = "pilot"
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list this service's host names (no '*').")

PILOT_SECRET_KEY_FILE = VAR_DIR / "pilot-secret-key"


def _pilot_secret_key() -> str:
    """SECRET_KEY from the environment, or one made on first start and kept under var/.

    The development key is public (it is in this repository): anyone could forge a session with
    it. A pilot holds real-looking data, so it gets a random key, readable only by its owner, and
    the same key on every start (sessions and reset links survive a restart).
    """
    given = env_optional("SECRET_KEY")
    if given:
        return given
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: web, worker and beat may start together; only one of them writes the key.
        descriptor = os.open(PILOT_SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = PILOT_SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
        if len(key) >= 50:
            return key
        raise ImproperlyConfigured(
            f"{PILOT_SECRET_KEY_FILE} is not a usable secret key: delete it to make a new one."
        ) from None
    key = secrets.token_urlsafe(64)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


SECRET_KEY = _pilot_secret_key()
# Persistent connections: gunicorn's fixed pool of threads bounds them (workers x threads).
DATABASES = databases(SAFER_ENVIRONMENT)
REDIS_URL = redis_base_url(SAFER_ENVIRONMENT)
CACHES = caches(REDIS_URL)
globals().update(celery_settings(REDIS_URL))

# Plain HTTP on this machine: what needs HTTPS stays off (production turns each on).
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
