"""Settings for mdtcare, read from environment variables in this one place.

Every variable is documented in `.env.example`. Defaults are safe for
production; the demo (`MDTCARE_DEMO=true`) and the tests switch on what only
they may have (demo log-ins, NHS numbers from the 999 test range).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Demo mode: the demo logins and the 999 test range of NHS numbers are allowed.
DEMO_MODE = env.bool("MDTCARE_DEMO", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or DEMO_MODE):
        raise environ.ImproperlyConfigured("Set SECRET_KEY (required outside debug and demo).")
    SECRET_KEY = "insecure-local-only-key-for-demo-and-debug-0123456789abcdefghijkl"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "mdtcare.accounts",
    "mdtcare.audit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "mdtcare.core",
    "mdtcare.notifications",
    "mdtcare.reports",
    "patients",
    "careplans",
    "meetings",
]

MIDDLEWARE = [
    "mdtcare.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, which answers static files itself: they get the CSP
    # and the frame denial too (an SVG is a document).
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mdtcare.core.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mdtcare.core.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "mdtcare.accounts.middleware.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "mdtcare.accounts.middleware.TwoFactorRequiredMiddleware",
    "mdtcare.audit.middleware.AuditContextMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mdtcare.core.middleware.NoStoreMiddleware",
    # Last, so that a locked-out log-in is answered before the view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mdtcare.urls"
WSGI_APPLICATION = "mdtcare.wsgi.application"

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
                "mdtcare.core.context_processors.service",
                "mdtcare.notifications.context_processors.unread",
            ],
        },
    },
]

# Widgets render with the project's templates (the NHS.UK date input).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Database: SQLite under var/ unless DATABASE_URL names another (PostgreSQL in
# production and CI).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mdtcare.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo's web server and worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool(
    "DATABASE_JIT", default=False
):
    # A page's queries take milliseconds; PostgreSQL's JIT compiles any whose
    # estimate is large (a network's register, its counts) and took longer
    # than the query itself (50-100 ms at the design ceiling). Off for this
    # application's sessions only (docs/decisions/0009).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = " ".join(filter(None, [options.get("options"), "-c jit=off"]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

# Sessions: idle timeout (the cookie age, renewed on every request) and an
# absolute lifetime counted from log-in (SessionLifetimeMiddleware).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
# Emergency access to a person outside the practitioner's networks ("break
# glass") lasts this long from when they give their reason.
EMERGENCY_ACCESS_MINUTES = env.int("EMERGENCY_ACCESS_MINUTES", default=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Two-factor (TOTP): "admins" (default), "everyone" or "off". Off in the demo.
TWO_FACTOR_REQUIRED_FOR = env.str(
    "TWO_FACTOR_REQUIRED_FOR", default="off" if DEMO_MODE else "admins"
)
OTP_TOTP_ISSUER = "mdtcare"

# django-axes: the sixth wrong password in a row for a username locks that
# account for the cool-off; the lock is by username so nobody learns whether
# an account exists.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=6)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_SENSITIVE_PARAMETERS = ["username", "password"]
# Locking by IP address too would lock out a whole NHS site behind one
# address after a few colleagues' typos; the API token endpoint is throttled.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or DEMO_MODE)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# The demo and debug runs serve static files straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG or DEMO_MODE
WHITENOISE_AUTOREFRESH = DEBUG or DEMO_MODE

# E-mail: EMAIL_URL such as smtp+tls://user:pass@host:587; the demo writes
# messages to files under var/mail.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mdtcare <no-reply@mdtcare.invalid>")
# A mail server that does not answer within this many seconds is an error
# (and the e-mail is tried again), never a worker stuck for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# This site's address (scheme and host), for the links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Notifications by e-mail (mdtcare/notifications): every few minutes the
# sweep queues again what is still unsent this many minutes after it was
# made; the daily digest goes at this local hour (after the reminder jobs,
# so it counts the day's reminders); an e-mail a mail server turns away is
# tried this many times in all, waiting the first wait and twice as long
# each time after (capped).
NOTIFICATIONS_SWEEP_MINUTES = env.int("NOTIFICATIONS_SWEEP_MINUTES", default=5)
NOTIFICATIONS_DIGEST_HOUR = env.int("NOTIFICATIONS_DIGEST_HOUR", default=8)
NOTIFICATIONS_EMAIL_MAX_ATTEMPTS = env.int("NOTIFICATIONS_EMAIL_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_EMAIL_RETRY_SECONDS = env.int("NOTIFICATIONS_EMAIL_RETRY_SECONDS", default=60)
NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS = env.int(
    "NOTIFICATIONS_EMAIL_RETRY_MAX_SECONDS", default=15 * 60
)

# NHS numbers from the 999 test range are refused unless this is on.
NHS_NUMBER_ALLOW_TEST_RANGE = env.bool("NHS_NUMBER_ALLOW_TEST_RANGE", default=DEMO_MODE)

# Celery: Redis when REDIS_URL or CELERY_BROKER_URL is set; otherwise kombu's
# filesystem transport under var/, so the demo's worker and beat need no server.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# The daily reminder jobs: the days before a care plan review when its
# clinical lead and navigator are reminded (each must have its notification
# kind: 14 and 7; overdue plans are always reminded), how many plans a job
# reads and raises at a time, and the local hour the jobs run.
REMINDER_WINDOWS = env.list("REMINDER_WINDOWS", cast=int, default=[14, 7])
REMINDER_BATCH_SIZE = env.int("REMINDER_BATCH_SIZE", default=500)
REMINDERS_HOUR = env.int("REMINDERS_HOUR", default=7)
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "mdtcare.accounts.tasks.sessions_clear_expired",
        "schedule": 60 * 60,
    },
    # The notification outbox: re-queue what is still unsent, and the daily digest.
    "notifications-sweep": {
        "task": "notifications.sweep",
        "schedule": NOTIFICATIONS_SWEEP_MINUTES * 60,
    },
    "notifications-digest": {
        "task": "notifications.digest",
        "schedule": crontab(hour=NOTIFICATIONS_DIGEST_HOUR, minute=0),
    },
    # The daily reminder jobs, at REMINDERS_HOUR (TIME_ZONE, Europe/London).
    # Each is idempotent: a second run on the same day changes nothing.
    "review-reminders": {
        "task": "careplans.review_reminders",
        "schedule": crontab(hour=REMINDERS_HOUR, minute=0),
    },
    "overdue-action-digests": {
        "task": "meetings.overdue_digests",
        "schedule": crontab(hour=REMINDERS_HOUR, minute=0),
    },
    "meeting-reminders": {
        "task": "meetings.meeting_reminders",
        "schedule": crontab(hour=REMINDERS_HOUR, minute=0),
    },
    # Report exports past their keeping time are deleted, with their files.
    "report-exports-expire": {
        "task": "reports.exports_expire",
        "schedule": crontab(minute=15),
    },
}

# Report exports (mdtcare/reports/background.py): an export of at most this
# many rows streams within the request; a larger one is written by the
# worker into this folder (shared by web and worker) and kept this many hours.
REPORT_EXPORT_INLINE_ROWS = env.int("REPORT_EXPORT_INLINE_ROWS", default=50_000)
REPORT_EXPORT_DIR = Path(env.str("REPORT_EXPORT_DIR", default=str(VAR_DIR / "exports")))
REPORT_EXPORT_KEEP_HOURS = env.int("REPORT_EXPORT_KEEP_HOURS", default=24)

# Cache (rate limits): shared Redis when there is one, so every web replica
# counts the same; the demo's single process uses local memory.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "mdtcare.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mdtcare.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON in, as out: a form-encoded body cannot say null from "" or a
    # number from text. The file uploads take multipart themselves.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_THROTTLE_RATES": {"token": "10/minute"},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rate limits count the client address: behind our one proxy, the last
    # X-Forwarded-For entry; otherwise the connection's own address.
    "NUM_PROXIES": 1 if env.bool("BEHIND_TLS_PROXY", default=False) else 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mdtcare API",
    "DESCRIPTION": "Case management for integrated care network MDTs. Every `id` is a UUID.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The errors every operation can answer (401, 403, 404, 429; 400 and 415
    # for writes), with the API's JSON error body.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mdtcare.api.schema.generic_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "EpisodeStatusEnum": "patients.models.EntryStatus",
        "RiskImportStatusEnum": "patients.models.RiskImport.Status",
        "AssessmentStatusEnum": "careplans.models.AssessmentStatus",
        "CarePlanStatusEnum": "careplans.models.CarePlanStatus",
        "SourceEnum": "patients.models.ReferralSource",
        "MeetingStatusEnum": "meetings.models.MeetingStatus",
        "MeetingFormatEnum": "meetings.models.MeetingFormat",
        "AgendaReasonEnum": "meetings.models.AgendaReason",
        "OutcomeEnum": "meetings.models.Outcome",
        "AttendanceStatusEnum": "meetings.models.AttendanceStatus",
        "ActionStatusEnum": "meetings.models.ActionStatus",
        "ActionPriorityEnum": "meetings.models.ActionPriority",
        "ActionSourceEnum": "meetings.models.ActionSource",
        # "KindEnum" stays the assessments' (as before notifications had a kind).
        "KindEnum": "careplans.models.AssessmentKind",
        "NotificationKindEnum": "mdtcare.notifications.models.NotificationKind",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = ["nhsuk"]
CRISPY_TEMPLATE_PACK = "nhsuk"

# Security headers. django-csp: no inline scripts anywhere; the Swagger UI
# page gets its own, still script-inline-free, policy (see mdtcare/api/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_local = DEBUG or DEMO_MODE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not _local)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if _local else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not _local)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not _local)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not _local)
CSRF_FAILURE_VIEW = "mdtcare.core.views.csrf_failure"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Logging: one JSON object per line with the request id; never patient data.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "mdtcare.core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "mdtcare.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Risk stratification: the case-finding list shows people whose latest risk
# score is at or above this (0-100).
CASE_FINDING_THRESHOLD = env.int("CASE_FINDING_THRESHOLD", default=80)
# The largest file any CSV import accepts (risk scores, hospital activity), in
# bytes. RISK_IMPORT_MAX_BYTES is its earlier name, still read.
IMPORT_MAX_BYTES = env.int(
    "IMPORT_MAX_BYTES", default=env.int("RISK_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
)
