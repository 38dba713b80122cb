"""Writes of the accounts app: users and passwords, the second factor, organisations, memberships,
compound service links and API tokens. Every change writes an event row in its own transaction."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from shequ.core.events import diff, event_record
from shequ.places.models import Compound, Division, DivisionLevel, Grid

from . import permissions
from .api_auth import TOKEN_PREFIX, token_digest
from .models import (
    ApiToken,
    CompoundService,
    CompoundServiceKind,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from .roles import ROLE_NODES
from .visibility import forget_scope

TOTP_DEVICE_NAME = "default"


# --- Users and passwords --------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    actor: User | None,
    display_name: str = "",
    mobile: str = "",
    is_superuser: bool = False,
) -> User:
    """Create a user whose password passes the validators (≥ 12 characters, not common)."""
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("该用户名已被使用。")})
    candidate = User(username=username, display_name=display_name, mobile=mobile)
    validate_password(password, user=candidate)
    user = User.objects.create_user(
        username=username,
        password=password,
        display_name=display_name,
        mobile=mobile,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    event_record(subject=user, type="USER_CREATED", actor=actor, data={"username": username})
    return user


@transaction.atomic
def user_password_change(*, user: User, new_password: str, actor: User | None) -> User:
    """Set a new password. Every session of the user ends: sessions carry a hash of the password, so
    none of them (the current one included) survives the change; callers never re-hash the session."""
    validate_password(new_password, user=user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    event_record(subject=user, type="PASSWORD_CHANGED", actor=actor)
    return user


# --- Second factor (TOTP) ---------------------------------------------------------------------------


def totp_device_start(*, user: User) -> TOTPDevice:
    """The user's unconfirmed device, created on the first visit to the enrolment page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Confirm a new device with a code from the authenticator app; the session is then verified."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    user = request.user
    if device.confirmed or not device.verify_token(token):
        event_record(
            subject=device.user, type="SECOND_FACTOR_FAILED", actor=device.user, data={"step": "enrol"}
        )
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).exclude(pk=device.pk).delete()
    otp_login(request, device)
    event_record(
        subject=device.user, type="SECOND_FACTOR_ENROLLED", actor=user if user.is_authenticated else None
    )
    return True


@transaction.atomic
def second_factor_verify(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Check a code at sign-in. Failures are logged; the device throttles repeated failures."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(token):
        event_record(
            subject=device.user, type="SECOND_FACTOR_FAILED", actor=device.user, data={"step": "verify"}
        )
        return False
    otp_login(request, device)
    event_record(subject=device.user, type="SECOND_FACTOR_VERIFIED", actor=device.user)
    return True


@transaction.atomic
def totp_device_reset(*, user: User, actor: User | None) -> int:
    """Remove a user's devices (lost phone); they enrol again at the next sign-in."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("只有平台管理员可以重置动态验证码。"))
    removed, _detail = TOTPDevice.objects.filter(user=user).delete()
    event_record(subject=user, type="SECOND_FACTOR_RESET", actor=actor, data={"devices": removed})
    return removed


# --- Organisations ----------------------------------------------------------------------------------

# Kinds that must sit at a division of a particular level.
_ORGANISATION_LEVELS: dict[str, str] = {
    OrganisationKind.STREET_OFFICE: DivisionLevel.STREET,
    OrganisationKind.OWNERS_COMMITTEE: DivisionLevel.COMMITTEE,
}


def organisation_validate(
    *,
    name: str,
    kind: str,
    code: str,
    division: Division | None,
    parent: Organisation | None,
    instance: Organisation | None = None,
) -> None:
    """Raise ``ValidationError`` (by field) unless these values make a sound organisation."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("请填写名称。")
    if kind not in OrganisationKind.values:
        errors["kind"] = _("未知的组织类型。")
    if not code.strip():
        errors["code"] = _("请填写组织代码。")
    elif (
        Organisation.objects.filter(code=code)
        .exclude(pk__in=[instance.pk] if instance is not None else [])
        .exists()
    ):
        errors["code"] = _("该组织代码已被使用。")
    if division is None:
        errors["division"] = _("每个组织都须属于一个区划（市级部门属于市）。")
    elif kind in _ORGANISATION_LEVELS and division.level != _ORGANISATION_LEVELS[kind]:
        errors["division"] = _("%(kind)s 须设在%(level)s一级。") % {
            "kind": OrganisationKind(kind).label,
            "level": DivisionLevel(_ORGANISATION_LEVELS[kind]).label,
        }
    if kind == OrganisationKind.DEPARTMENT_BRANCH:
        if parent is None or parent.kind != OrganisationKind.DEPARTMENT:
            errors["parent"] = _("部门派出机构须隶属于一个职能部门。")
        elif (
            division is not None
            and parent.division is not None
            and not division.path.startswith(parent.division.path)
        ):
            errors["division"] = _("派出机构的辖区须在上级部门的辖区之内。")
    if parent is not None and instance is not None and parent.pk == instance.pk:
        errors["parent"] = _("组织不能隶属于自身。")
    if errors:
        raise ValidationError(errors)


def _organisation_values(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "kind": organisation.kind,
        "code": organisation.code,
        "division": organisation.division_id,
        "parent": organisation.parent_id,
        "sector": organisation.sector,
        "is_active": organisation.is_active,
    }


@transaction.atomic
def organisation_create(
    *,
    name: str,
    kind: str,
    code: str,
    division: Division | None,
    actor: User | None,
    parent: Organisation | None = None,
    sector: str = "",
) -> Organisation:
    """Register an organisation. ``actor=None`` is the system (imports, demo data)."""
    if actor is not None and not permissions.can_create_organisation(
        actor, kind=kind, division=division, parent=parent
    ):
        raise PermissionDenied(_("您无权在此登记该类组织。"))
    organisation_validate(name=name, kind=kind, code=code, division=division, parent=parent)
    organisation = Organisation.objects.create(
        name=name.strip(),
        kind=kind,
        code=code.strip(),
        division=division,
        parent=parent,
        sector=sector.strip(),
    )
    event_record(
        subject=organisation,
        type="ORGANISATION_CREATED",
        actor=actor,
        data=_organisation_values(organisation),
        scope_path=division.path if division is not None else "",
    )
    return organisation


@transaction.atomic
def organisation_update(
    *,
    organisation: Organisation,
    actor: User | None,
    name: str | None = None,
    division: Division | None = None,
    parent: Organisation | None = None,
    sector: str | None = None,
    is_active: bool | None = None,
) -> Organisation:
    """Change an organisation's name, area, parent, sector or active flag (kind and code are fixed)."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if actor is not None and not permissions.can_manage_organisation(actor, organisation):
        raise PermissionDenied(_("您无权修改该组织。"))
    old = _organisation_values(organisation)
    new_division = division if division is not None else organisation.division
    new_parent = parent if parent is not None else organisation.parent
    if (
        actor is not None
        and new_division != organisation.division
        and not permissions.can_create_organisation(
            actor, kind=organisation.kind, division=new_division, parent=new_parent
        )
    ):
        raise PermissionDenied(_("您无权将该组织移至此区划。"))
    organisation_validate(
        name=name if name is not None else organisation.name,
        kind=organisation.kind,
        code=organisation.code,
        division=new_division,
        parent=new_parent,
        instance=organisation,
    )
    if name is not None:
        organisation.name = name.strip()
    organisation.division = new_division
    organisation.parent = new_parent
    if sector is not None:
        organisation.sector = sector.strip()
    if is_active is not None:
        organisation.is_active = is_active
    changes = diff(old, _organisation_values(organisation))
    if changes:
        organisation.save(update_fields=["name", "division", "parent", "sector", "is_active"])
        event_record(
            subject=organisation,
            type="ORGANISATION_UPDATED",
            actor=actor,
            data=changes,
            scope_path=new_division.path if new_division is not None else "",
        )
    return organisation


@transaction.atomic
def compound_service_link(
    *,
    compound: Compound,
    organisation: Organisation,
    kind: str,
    actor: User | None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> CompoundService:
    """Link a compound to its property company or owners' committee (with contract/term dates)."""
    expected: dict[str, str] = {
        CompoundServiceKind.PROPERTY_MANAGEMENT: OrganisationKind.PROPERTY_COMPANY,
        CompoundServiceKind.OWNERS_COMMITTEE: OrganisationKind.OWNERS_COMMITTEE,
    }
    if kind not in expected:
        raise ValidationError({"kind": _("未知的服务类型。")})
    if organisation.kind != expected[kind]:
        raise ValidationError(
            {"organisation": _("该服务须由%(kind)s提供。") % {"kind": OrganisationKind(expected[kind]).label}}
        )
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("结束日期不能早于开始日期。")})
    if actor is not None and not permissions.can_manage_organisation(actor, organisation):
        raise PermissionDenied(_("您无权为该组织登记服务小区。"))
    link = CompoundService.objects.create(
        compound=compound, organisation=organisation, kind=kind, starts_on=starts_on, ends_on=ends_on
    )
    event_record(
        subject=link,
        type="COMPOUND_SERVICE_LINKED",
        actor=actor,
        data={"compound": compound.pk, "organisation": organisation.pk, "kind": kind},
        scope_path=compound.path,
    )
    return link


# --- Memberships ------------------------------------------------------------------------------------


def membership_validate(
    *,
    user: User,
    role: str,
    division: Division | None = None,
    grid: Grid | None = None,
    organisation: Organisation | None = None,
) -> None:
    """Raise ``ValidationError`` unless ``role`` fits the node and the node is usable."""
    nodes = [n for n in (division, grid, organisation) if n is not None]
    if len(nodes) != 1:
        raise ValidationError(_("成员身份须且只能设在一个节点：区划、网格或组织。"))
    if role not in ROLE_NODES:
        raise ValidationError({"role": _("未知的角色。")})
    rule = ROLE_NODES[role]
    role_label = Role(role).label
    message = _("%(role)s 只能设在%(where)s。") % {"role": role_label, "where": rule.description}
    if division is not None:
        if division.level not in rule.division_levels:
            raise ValidationError({"division": message})
        if not division.is_active:
            raise ValidationError({"division": _("该区划已撤销。")})
    if grid is not None and not rule.grid:
        raise ValidationError({"grid": message})
    if organisation is not None:
        if organisation.kind not in rule.organisation_kinds:
            raise ValidationError({"organisation": message})
        if not organisation.is_active:
            raise ValidationError({"organisation": _("该组织已停用。")})
    if not user.is_active:
        raise ValidationError({"user": _("该用户已停用。")})
    if Membership.objects.filter(
        user=user, role=role, division=division, grid=grid, organisation=organisation, is_active=True
    ).exists():
        raise ValidationError(_("该用户已在此节点担任该角色。"))


@transaction.atomic
def membership_grant(
    *,
    user: User,
    role: str,
    actor: User | None,
    division: Division | None = None,
    grid: Grid | None = None,
    organisation: Organisation | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Membership:
    """Give ``user`` the ``role`` at one node. ``actor=None`` is the system (demo data, imports)."""
    if actor is not None and not permissions.can_grant_membership(
        actor, role=role, division=division, grid=grid, organisation=organisation
    ):
        raise PermissionDenied(_("您无权在此节点授予该角色。"))
    # Lock the user row so that two grants of the same role cannot both pass the duplicate check.
    User.objects.select_for_update().filter(pk=user.pk).first()
    membership_validate(user=user, role=role, division=division, grid=grid, organisation=organisation)
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("结束日期不能早于开始日期。")})
    membership = Membership.objects.create(
        user=user,
        role=role,
        division=division,
        grid=grid,
        organisation=organisation,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    event_record(
        subject=membership,
        type="MEMBERSHIP_GRANTED",
        actor=actor,
        data={"user": user.pk, "role": role, "node": str(division or grid or organisation)},
        scope_path=permissions.node_path(division=division, grid=grid, organisation=organisation),
    )
    forget_scope(user)
    permissions.forget_powers(user)
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, actor: User | None) -> Membership:
    """End a membership today. The row stays (history); the scope it gave is gone at once."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("division", "grid", "organisation__division", "user")
        .get(pk=membership.pk)
    )
    if actor is not None and not permissions.can_revoke_membership(actor, membership):
        raise PermissionDenied(_("您无权撤销该成员身份。"))
    if membership.is_active:
        membership.is_active = False
        membership.ends_on = timezone.localdate()
        membership.save(update_fields=["is_active", "ends_on"])
        event_record(
            subject=membership,
            type="MEMBERSHIP_REVOKED",
            actor=actor,
            data={"user": membership.user_id, "role": membership.role},
            scope_path=permissions.node_path(
                division=membership.division, grid=membership.grid, organisation=membership.organisation
            ),
        )
        forget_scope(membership.user)
        permissions.forget_powers(membership.user)
    return membership


# --- API tokens -------------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal token; the raw value is returned once and only its SHA-256 is stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请为令牌命名（例如用途或系统名称）。")})
    if len(name) > ApiToken._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationError({"name": _("名称过长。")})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], digest=token_digest(raw))
    event_record(
        subject=token, type="API_TOKEN_CREATED", actor=user, data={"name": name, "prefix": token.prefix}
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token at once; requests carrying it are answered 401 from now on."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied(_("只能撤销自己的令牌。"))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        event_record(subject=token, type="API_TOKEN_REVOKED", actor=actor, data={"prefix": token.prefix})
    return token
