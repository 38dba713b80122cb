"""Production: PostgreSQL, HTTPS, secrets from the environment. `shequ check --deploy` is clean
when the variables documented in docs/security.md are set."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool, env_list

if not SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SHEQU_SECRET_KEY must be set to a random string of at least 50 characters.")
if not os.environ.get("SHEQU_ALLOWED_HOSTS"):
    raise ImproperlyConfigured("SHEQU_ALLOWED_HOSTS must list the host names the site is served under.")
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL must point at the production database (postgres://…).")

DEBUG = False
ALLOWED_HOSTS = env_list("SHEQU_ALLOWED_HOSTS")

# --- HTTPS ------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SHEQU_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SHEQU_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SHEQU_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SHEQU_HSTS_PRELOAD", default=True)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Cookies: Secure, HttpOnly session, host-only (the __Host- prefix forbids a Domain attribute) ---
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-shequ_session"
CSRF_COOKIE_NAME = "__Host-shequ_csrftoken"
CSRF_TRUSTED_ORIGINS = env_list("SHEQU_CSRF_TRUSTED_ORIGINS")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHEQU_LOG_LEVEL", "INFO")},
    "loggers": {
        # Sign-in failures and lockouts (django-axes) and refused requests are security events.
        "axes": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
