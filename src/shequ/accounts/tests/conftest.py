from __future__ import annotations

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from shequ.accounts.models import Role

from .factories import DEFAULT_PASSWORD, SmallTree, small_tree, user_with_role


def totp_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The code an authenticator app shows for ``device`` now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def tree() -> SmallTree:
    return small_tree()


@pytest.fixture
def staff(tree):
    return user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1), username="worker")


@pytest.fixture
def resident(tree):
    return user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1), username="resident")


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD
