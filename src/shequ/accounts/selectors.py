"""Reads of the accounts app. Protected objects are fetched only through access functions that give
the same 404 for "missing" and "not yours" (STYLE.md rule 8)."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.db.models import Q, QuerySet
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ApiToken, CompoundService, Membership, Organisation, User
from .visibility import access_by_id, visible


def confirmed_totp_device(*, user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def organisations_visible(*, user: Any, kind: str = "", query: str = "") -> QuerySet[Organisation]:
    qs = visible(Organisation.objects.select_related("division", "parent"), user)
    if kind:
        qs = qs.filter(kind=kind)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__icontains=query) | Q(sector__icontains=query))
    return qs.order_by("name", "pk")


def access_organisation_by_id(*, organisation_id: Any, user: Any) -> Organisation:
    return access_by_id(Organisation.objects.select_related("division", "parent"), organisation_id, user)


def organisation_memberships(*, organisation: Organisation, user: Any) -> QuerySet[Membership]:
    """Active memberships of an organisation that ``user`` may see."""
    return visible(
        Membership.objects.filter(organisation=organisation, is_active=True).select_related("user"), user
    ).order_by("role", "user__username")


def organisation_compounds(*, organisation: Organisation, user: Any) -> QuerySet[CompoundService]:
    return visible(
        CompoundService.objects.filter(organisation=organisation).select_related("compound"), user
    ).order_by("compound__name")


def users_visible(*, user: Any) -> QuerySet[User]:
    """Users ``user`` may look up: themselves and the holders of memberships they can see."""
    if not getattr(user, "is_authenticated", False):
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    member_ids = visible(Membership.objects.all(), user).values("user_id")
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=member_ids))


def access_user_by_id(*, user_id: Any, actor: Any) -> User:
    try:
        return users_visible(user=actor).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def api_tokens_of(*, user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def access_api_token_by_id(*, token_id: Any, user: Any) -> ApiToken:
    """A token of ``user`` (someone else's token is simply not found)."""
    try:
        return api_tokens_of(user=user).get(pk=token_id)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret as the authenticator apps show it, for typing in when the QR code cannot be scanned."""
    return base64.b32encode(device.bin_key).decode()


def totp_qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code (no image request, nothing from the network)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=4, title="TOTP"))
