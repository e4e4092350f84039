"""Settings for Practica, read from the environment through one ``environ.Env()``.

``DJANGO_ENV`` is ``development`` (the default: ``make run``), ``test`` (set by the test
suite) or ``production``. Production refuses to start without ``SECRET_KEY`` and is clean
under ``manage.py check --deploy``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from practice import queues

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise environ.ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

DEVELOPMENT_SECRET_KEY = "development-only-key-not-for-production-use-0123456789"
if PRODUCTION:
    # No default: a production process without a secret key must not start. An empty one
    # (SECRET_KEY= in an env file) or the development key counts as none: Django would only
    # notice an empty key on first use, long after the process started serving.
    SECRET_KEY = env.str("SECRET_KEY")
    if not SECRET_KEY.strip() or SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        raise environ.ImproperlyConfigured("Set the SECRET_KEY environment variable to a long random value")
else:
    SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)

DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "development")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Encrypts secrets stored in the database (a self-hosted practice's own Stripe keys).
if PRODUCTION:
    FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY")
    if len(FIELD_ENCRYPTION_KEY) < 32:
        raise environ.ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be at least 32 characters in production.")
else:
    FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="dev-field-key")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "practice",
    "clients",
    "appointments",
    "billing",
    "payments",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Before SessionLifetimeMiddleware, which answers an htmx request differently.
    "django_htmx.middleware.HtmxMiddleware",
    "practice.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "practice.middleware.PracticeMiddleware",
    # Axes last, as its documentation asks, so it sees the final response of a sign-in.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "practice.urls"
WSGI_APPLICATION = "practice.wsgi.application"

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
                "practice.context_processors.shell",
                "practice.context_processors.outbox",
                "payments.context_processors.stripe_test_mode",
                "clients.portal.portal_shell",
                "billing.context_processors.portal_nav",
            ],
            "builtins": ["practice.templatetags.practice_tags"],
        },
    }
]

DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/practica")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "practica",
    }
}

AUTH_USER_MODEL = "practice.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out account or address before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
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
LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "signin"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# Sessions: an idle limit (a practice setting, 15 minutes by default, at most 8 hours)
# enforced by practice.middleware.SessionLifetimeMiddleware, and an absolute lifetime.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_DEFAULT_MINUTES = 15
SESSION_IDLE_MAX_MINUTES = 8 * 60
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=env.int("SESSION_ABSOLUTE_HOURS", default=12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIFETIME.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Throttling: 5 failures for one email from one address lock that email from that address
# for 15 minutes. Locking the email from everywhere let anyone lock the real person out with
# five guesses (and, behind a proxy, lock everyone); an address spraying many emails is
# stopped by the per-address limit below instead (practice.throttle).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "practice.throttle.SignInThrottleHandler"
AXES_LOCKOUT_CALLABLE = "practice.throttle.lockout_response"
# The per-address limit counts axes' failure log.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
SIGNIN_ADDRESS_FAILURE_LIMIT = 50
SIGNIN_ADDRESS_WINDOW = timedelta(hours=1)
# Password reset emails: at most this many per email and per client address in the window.
PASSWORD_RESET_EMAIL_LIMIT = 3
PASSWORD_RESET_ADDRESS_LIMIT = 20
PASSWORD_RESET_WINDOW = timedelta(hours=1)
# Axes defaults this to USERNAME_FIELD ("email"), but the sign-in form and authenticate() call
# it "username": without this every failure was recorded for no account, so the per-account
# lock never counted anything.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
# The lock lasts 15 minutes from the fifth failure, as the lockout page says; a person who
# tries again while locked does not restart the clock.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ADMIN = True
AXES_VERBOSE = False
# Behind a reverse proxy every request comes from the proxy: count the proxies so sign-in
# throttling and audit rows see the client's address (practice.audit.client_ip).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "practice.audit.client_ip"

OTP_TOTP_ISSUER = "Practica"

INVITE_VALID_DAYS = 7

# The client portal (clients.portal): a sign-in link by email, single use, valid 15 minutes;
# at most PORTAL_SIGNIN_EMAIL_LIMIT links per email and PORTAL_SIGNIN_ADDRESS_LIMIT per
# client address in the window, known email or not. A staff Portal invitation's link lasts
# longer (it may sit in an inbox for days). Portal sessions end after 30 idle minutes.
PORTAL_SIGNIN_LINK_MINUTES = 15
PORTAL_INVITE_VALID_DAYS = 7
PORTAL_SIGNIN_EMAIL_LIMIT = 5
PORTAL_SIGNIN_ADDRESS_LIMIT = 30
PORTAL_SIGNIN_WINDOW = timedelta(hours=1)
PORTAL_SESSION_IDLE_MINUTES = env.int("PORTAL_SESSION_IDLE_MINUTES", default=30)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Collected files are only needed where whitenoise serves them without finders.
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".run" / "staticfiles") if PRODUCTION else None
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".run" / "media")

# Email goes to the SMTP server in EMAIL_URL (smtp://, smtp+tls://, smtp+ssl://). Without
# one, development keeps every message for the Outbox page (/dev/outbox/, practice.mail) so
# the links in them can be followed without a mail server; production prints them.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "practice.mail.OutboxBackend"
# The send task holds the email's row lock while talking to the server: never for long.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Practica <no-reply@practica.example>")
# How long an emailed or copied payment link (billing.payment_links) opens the invoice.
PAYMENT_LINK_MAX_AGE_DAYS = env.int("PAYMENT_LINK_MAX_AGE_DAYS", default=60)

# Celery: every task is acknowledged late and given back when its worker dies, so a
# killed worker's job is redelivered rather than lost; jobs are written to be safe twice.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / ".run" / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "sessions-clear-expired": {
        "task": "practice.tasks.sessions_clear_expired",
        "schedule": 60 * 60,
    },
    "emails-sweep": {
        "task": "practice.tasks.emails_sweep",
        "schedule": 10 * 60,
    },
    "sign-in-records-prune": {
        "task": "practice.tasks.sign_in_records_prune",
        "schedule": 60 * 60,
    },
    "portal-sign-in-links-prune": {
        "task": "clients.tasks.portal_sign_in_links_prune",
        "schedule": 60 * 60,
    },
    # Stripe events whose job was lost, and failed ones due another try (payments.webhooks).
    "webhook-events-sweep": {
        "task": "payments.tasks.webhook_events_sweep",
        "schedule": 60,
    },
    # Billing documents exports are kept a week (billing/documents/export.py).
    "exports-clean": {
        "task": "billing.tasks.exports_clean",
        "schedule": 24 * 60 * 60,
    },
    # Scheduled jobs, each once a day at a local time of day of each practice (practice/jobs.py).
    "jobs-tick": {
        "task": "practice.tasks.jobs_tick",
        "schedule": 5 * 60,
    },
    # AutoPay charges whose task was lost (payments/autopay_night.py).
    "autopay-sweep": {
        "task": "payments.tasks.autopay_sweep",
        "schedule": 5 * 60,
    },
}
# Tasks go to queues by kind (practice/queues.py), so that each kind can have workers of
# its own: a long invoice run holds up no email, and AutoPay scales on its own machines.
CELERY_TASK_DEFAULT_QUEUE = queues.DEFAULT_QUEUE
CELERY_TASK_ROUTES = queues.task_routes()
# Nightly AutoPay's pace across all workers (payments/autopay_rate.py): well under
# Stripe's 100 requests a second in live mode, which the rest of the app shares.
AUTOPAY_CHARGES_PER_SECOND = env.float("AUTOPAY_CHARGES_PER_SECOND", default=10.0)
# A daily job's run still "running" after this long was left by a worker that died, and the
# next tick runs it again (practice.jobs): longer than any run, shorter than the visibility
# timeout above. The kill tests shorten it for their worker processes.
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=30 * 60)
# An AutoPay charge left pending or charging this long was dropped by its worker, and the
# sweeper (beat, every 5 minutes) queues it again (payments/autopay_night.py): also
# shorter than the visibility timeout, and shortened by the kill tests.
AUTOPAY_SWEEP_AFTER_SECONDS = env.int("AUTOPAY_SWEEP_AFTER_SECONDS", default=15 * 60)

# Stripe (used by the payments app). Without keys the local fake Stripe server is used.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# The Connect endpoint's own secret: events of connected accounts are signed with it.
STRIPE_CONNECT_WEBHOOK_SECRET = env.str("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_PLATFORM_FEE_PERCENT = env.str("STRIPE_PLATFORM_FEE_PERCENT", default="0")
# A fixed platform fee per charge, in the charge's currency (added to the percent).
STRIPE_PLATFORM_FEE_FIXED = env.str("STRIPE_PLATFORM_FEE_FIXED", default="0")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=20.0)

# Content Security Policy: nothing inline, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    if TRUSTED_PROXY_COUNT > 0:
        # Only a proxy we were told about sets X-Forwarded-Proto; without one, a client could
        # send "https" itself and be treated as secure.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint reports each step of every PDF at INFO.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}

DEMO_PASSWORD = "practica-demo"
