"""`make dev`: the embedded PostgreSQL and Redis unless DATABASE_URL/REDIS_URL are set, DEBUG on.

Served by Django's autoreloading runserver, which starts a thread per request: connections are
closed after each request (CONN_MAX_AGE 0) so their number cannot grow with the requests.
"""

from safer.settings.base import *
from safer.settings.base import caches, celery_settings, databases, redis_base_url

SAFER_ENVIRONMENT = "development"
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "development-only-not-secret")
DATABASES = databases(SAFER_ENVIRONMENT, conn_max_age=0)
REDIS_URL = redis_base_url(SAFER_ENVIRONMENT)
CACHES = caches(REDIS_URL)
globals().update(celery_settings(REDIS_URL))
# Development serves unhashed files so a fresh clone works before collectstatic has run.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
