"""Fast settings for the test suite. DATABASE_URL=postgres://… runs the same suite on PostgreSQL."""

import os

from .base import *  # noqa: F403
from .base import DATABASES

SECRET_KEY = "test-only-secret-key-0123456789abcdef"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
if not os.environ.get("DATABASE_URL"):
    # In-memory SQLite for speed (the live server used by browser tests shares the connection).
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }
