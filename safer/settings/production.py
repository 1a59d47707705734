"""Production: every secret and service comes from the environment; nothing embedded starts."""

from safer.settings.base import *
from safer.settings.base import caches, celery_settings, databases, redis_base_url

# What an operator must set (each also as NAME_FILE). docker-compose.yml is tested against this
# list, so a new required variable here fails the build until the deployment sets it too.
REQUIRED_PRODUCTION_VARIABLES = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "SAFER_SITE_URL",
)
_missing = [name for name in REQUIRED_PRODUCTION_VARIABLES if env_optional(name) is None]
if _missing:
    raise ImproperlyConfigured(
        f"production settings need {', '.join(_missing)} to be set (or the NAME_FILE variants)."
    )

SAFER_ENVIRONMENT = "production"
DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters in production.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list this service's host names (no '*').")
# Links in emails are built from it: a default of http://127.0.0.1 would send people nowhere.
SITE_URL = (env_url("SAFER_SITE_URL", schemes=("https",)) or "").rstrip("/")
# Outside development mail really leaves (console output would lose a password-reset email).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
DATABASES = databases(SAFER_ENVIRONMENT)
REDIS_URL = redis_base_url(SAFER_ENVIRONMENT)
CACHES = caches(REDIS_URL)
globals().update(celery_settings(REDIS_URL))

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The container health check and load balancers probe /healthz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 63072000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# __Host- cookies are refused by browsers unless Secure, path / and without a Domain: they cannot
# be planted by a sibling subdomain.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
# Trust X-Forwarded-Proto only when the operator says a proxy sets it; otherwise anyone could.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
