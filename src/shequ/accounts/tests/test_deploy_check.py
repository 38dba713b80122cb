"""`shequ check --deploy` is clean under production settings when the documented variables are set,
and production refuses to start without them (docs/security.md)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3]

_CHECK = (
    "import django; django.setup();"
    "from django.core.management import call_command;"
    "call_command('check', deploy=True, fail_level='WARNING')"
)


def _production_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SHEQU_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "shequ.config.settings.production",
            "PYTHONPATH": str(SRC),
            "SHEQU_SECRET_KEY": secrets.token_urlsafe(64),
            "SHEQU_ALLOWED_HOSTS": "shequ.example.cn",
            "SHEQU_CSRF_TRUSTED_ORIGINS": "https://shequ.example.cn",
            "DATABASE_URL": "postgres://shequ@db.internal:5432/shequ",
        }
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def _run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-c", _CHECK], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_deploy_check_reports_nothing_with_the_documented_variables():
    result = _run_check(_production_env())

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SHEQU_SECRET_KEY", ""),
        ("SHEQU_SECRET_KEY", "too-short"),
        ("SHEQU_ALLOWED_HOSTS", ""),
        ("DATABASE_URL", ""),
    ],
)
def test_production_refuses_to_start_without_a_required_variable(variable, value):
    result = _run_check(_production_env(**{variable: value}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_deploy_check_warns_when_https_is_switched_off():
    result = _run_check(_production_env(SHEQU_SSL_REDIRECT="0", SHEQU_HSTS_SECONDS="0"))

    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout
    assert "security.W004" in result.stderr + result.stdout


def test_documentation_lists_every_production_and_security_variable():
    docs = (SRC.parent / "docs" / "security.md").read_text(encoding="utf-8")
    production = (SRC / "shequ" / "config" / "settings" / "production.py").read_text(encoding="utf-8")
    variables = set(re.findall(r"\"(SHEQU_[A-Z_]+|DATABASE_URL)\"", production)) | {
        "SHEQU_SECRET_KEY",
        "SHEQU_LOCKOUT_FAILURES",
        "SHEQU_LOCKOUT_MINUTES",
        "SHEQU_SESSION_IDLE_SECONDS",
        "SHEQU_SESSION_ABSOLUTE_SECONDS",
        "SHEQU_PROXY_COUNT",
        "SHEQU_DEMO_PASSWORD",
    }

    missing = sorted(v for v in variables if f"`{v}`" not in docs)

    assert "SHEQU_CSRF_TRUSTED_ORIGINS" in variables
    assert missing == []
