"""The test suite: the same embedded default as development (or the servers named by env)."""

from typing import Any

from safer.redis_urls import celery_broker, redis_db, with_db
from safer.settings.base import *
from safer.settings.base import caches, celery_settings, databases, redis_base_url

SAFER_ENVIRONMENT = "test"
DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
DATABASES = databases(SAFER_ENVIRONMENT)
REDIS_URL = redis_base_url(SAFER_ENVIRONMENT)
CACHES = caches(REDIS_URL)
globals().update(celery_settings(REDIS_URL))
# Tests publish to their own Redis database, so tasks they relay never reach a developer's worker
# listening on the development broker (the same server, database 0 by default).
CELERY_BROKER_URL = celery_broker(with_db(REDIS_URL, redis_db(REDIS_URL) + 2))
# Unit tests run tasks in-process; tests marked `worker` start a real worker and turn this off.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; tests only
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = True

# Several people (or agents) may run the suite against one server at once: a suffix keeps their
# test databases apart (pytest-xdist adds its own per-worker suffix on top).
_suffix = env_optional("SAFER_TEST_DB_SUFFIX")
if _suffix:
    DATABASES["default"]["TEST"] = {"NAME": f"test_safer_{_suffix}"}

# The read-replica alias is defined in the suite: a "replica" alias on the same test database (a
# test mirror), so what reads through it is exercised without a second server.
# The mirror's NAME is the test database's too: Django points only the main thread's connection
# at it, and a live server's threads open theirs from these settings.
_replica = DATABASES.get("replica", DATABASES["default"])
_default: dict[str, Any] = DATABASES["default"]
_test_name = (_default.get("TEST") or {}).get("NAME") or f"test_{_default['NAME']}"
DATABASES["replica"] = {**_replica, "NAME": _test_name, "TEST": {"MIRROR": "default"}}
# Routed to only where a test says so (tests/test_db_routing.py): a test is allowed only the
# databases it names, and most name the primary alone.
SAFER_REPLICA_READS = False
