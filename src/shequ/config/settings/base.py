"""Settings shared by every environment. Everything that differs comes from environment variables."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # src/shequ
BASE_DIR = Path(os.environ.get("SHEQU_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("SHEQU_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SHEQU_SECRET_KEY", "")
DEBUG = env_bool("SHEQU_DEBUG")
ALLOWED_HOSTS = env_list("SHEQU_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "shequ.core",
    "shequ.places",
    "shequ.accounts",
    "shequ.registry",
    "shequ.cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shequ.core.revisions.RevisionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shequ.accounts.middleware.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "shequ.accounts.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shequ.config.urls"
WSGI_APPLICATION = "shequ.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Embedded default: SQLite in WAL mode. Production and CI: DATABASE_URL=postgres://…
SQLITE_PATH = Path(os.environ.get("SHEQU_SQLITE_PATH", VAR_DIR / "shequ.sqlite3"))
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{SQLITE_PATH}",
        conn_max_age=int(os.environ.get("SHEQU_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # Prepared statements for the statements written once for hot paths (``core.rows``); Django's
    # own queries use client-side binding and are never prepared. ``off`` for a connection pooler
    # that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
    _prepare = os.environ.get("SHEQU_DB_PREPARE_THRESHOLD", "1").strip().lower()
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        None if _prepare in {"", "off", "none", "0"} else int(_prepare)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication and security baseline (DOMAIN.md §14; ASVS + 等保 level 3) ------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lockout after 5 failures per (user, IP), 15-minute cool-off.
AXES_FAILURE_LIMIT = int(os.environ.get("SHEQU_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SHEQU_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The 15 minutes run from the failure that locked; attempts during the lock do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "shequ.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# The client IP of the lockout key. Behind N trusted reverse proxies set SHEQU_PROXY_COUNT=N and the
# address is read from X-Forwarded-For (the N-th entry from the right); otherwise REMOTE_ADDR.
AXES_CLIENT_IP_CALLABLE = "shequ.accounts.security.client_ip"
SHEQU_PROXY_COUNT = int(os.environ.get("SHEQU_PROXY_COUNT", "0"))

# Sessions: idle timeout 30 minutes (renewed on every request), absolute lifetime 12 hours.
SESSION_COOKIE_AGE = int(os.environ.get("SHEQU_SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
SHEQU_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SHEQU_SESSION_ABSOLUTE_SECONDS", str(12 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
OTP_TOTP_ISSUER = "shequ 社区云"

# --- Internationalisation: zh-Hans first, English available ------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("SHEQU_STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("SHEQU_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

# --- Background work ------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "shequ.core.tasks_queue.DatabaseBackend"}}

EMAIL_BACKEND = os.environ.get("SHEQU_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("SHEQU_FROM_EMAIL", "shequ@localhost")

# --- Notifications and idempotency ------------------------------------------------------------
# The site's address, for the links in emails, SMS and webhook payloads.
SHEQU_SITE_URL = os.environ.get("SHEQU_SITE_URL", "http://127.0.0.1:8000")
# The SMS backend (a dotted path to a class with send(phone, text)); the console one logs masked numbers.
SHEQU_SMS_BACKEND = os.environ.get("SHEQU_SMS_BACKEND", "shequ.core.sms.ConsoleSmsBackend")
SHEQU_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("SHEQU_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Attempts per notification before it is left failed.
SHEQU_NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("SHEQU_NOTIFICATION_MAX_ATTEMPTS", "5"))
# How long an Idempotency-Key holds its first answer.
SHEQU_IDEMPOTENCY_TTL_HOURS = float(os.environ.get("SHEQU_IDEMPOTENCY_TTL_HOURS", "24"))

# --- Domain defaults [practice] -------------------------------------------------------------
# Working hours for 工作时 deadlines (DOMAIN.md §3), "HH:MM-HH:MM" ranges separated by commas.
SHEQU_WORKING_HOURS = os.environ.get("SHEQU_WORKING_HOURS", "09:00-12:00,13:00-17:00")
# Radius (metres) within which locate() falls back to the nearest compound point.
SHEQU_LOCATE_RADIUS_M = float(os.environ.get("SHEQU_LOCATE_RADIUS_M", "300"))

# Retention of the registry (DOMAIN.md §4, PIPL Art. 47): moved-out and deceased records are archived
# this many days after the status change, and purged this many days after archiving; a person whose
# deletion request was approved is purged after the shorter period.
SHEQU_RETENTION_ARCHIVE_DAYS = int(os.environ.get("SHEQU_RETENTION_ARCHIVE_DAYS", "365"))
SHEQU_RETENTION_PURGE_DAYS = int(os.environ.get("SHEQU_RETENTION_PURGE_DAYS", "730"))
SHEQU_RETENTION_DELETION_PURGE_DAYS = int(os.environ.get("SHEQU_RETENTION_DELETION_PURGE_DAYS", "30"))

# The case loop ([practice] defaults of DOMAIN.md §5; stage timers and escalation steps are in
# shequ/cases/conf.py and may be overridden here as SHEQU_CASE_DEADLINES / SHEQU_CASE_ESCALATION).
SHEQU_CASE_MAX_EXTENSIONS = int(os.environ.get("SHEQU_CASE_MAX_EXTENSIONS", "2"))
SHEQU_CASE_REOPEN_DAYS = int(os.environ.get("SHEQU_CASE_REOPEN_DAYS", "7"))
# Rankings compare only units with at least this many cases in the period.
SHEQU_RANKING_MIN_VOLUME = int(os.environ.get("SHEQU_RANKING_MIN_VOLUME", "30"))
# Open311 GeoReport v2: the jurisdiction id clients send, and the contact shown by discovery.
SHEQU_OPEN311_JURISDICTION = os.environ.get("SHEQU_OPEN311_JURISDICTION", "shanghai.gov.cn")
SHEQU_OPEN311_CONTACT = os.environ.get("SHEQU_OPEN311_CONTACT", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHEQU_LOG_LEVEL", "WARNING")},
}
