"""Production: every secret and service comes from the environment; nothing embedded starts."""

from safer.settings.base import *
from safer.settings.base import caches, celery_settings, databases, redis_base_url

SAFER_ENVIRONMENT = "production"
DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list this service's host names (no '*').")
DATABASES = databases(SAFER_ENVIRONMENT)
REDIS_URL = redis_base_url(SAFER_ENVIRONMENT)
CACHES = caches(REDIS_URL)
globals().update(celery_settings(REDIS_URL))

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 63072000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
# Trust X-Forwarded-Proto only when the operator says a proxy sets it; otherwise anyone could.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
