"""The Django admin for platform operators (superusers, behind the second factor). Every write goes
through the accounts services, so it is validated and leaves an event row like any other change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ApiToken, CompoundService, Membership, Organisation, User


def _admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The admin signs in through the same page as everyone else: password, then TOTP."""
    target = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")


admin.site.login = _admin_login  # type: ignore[method-assign]
admin.site.site_header = _("社区云 平台管理")
admin.site.site_title = _("社区云 平台管理")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "is_active", "is_superuser", "last_login")
    search_fields = ("username", "display_name")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        (_("社区云"), {"fields": ("display_name", "mobile")}),
    )
    actions = ("reset_second_factor",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and "password1" in form.cleaned_data:
            created = services.user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                actor=request.user,  # type: ignore[arg-type]
            )
            obj.pk = created.pk
            obj._state.adding = False
            obj.refresh_from_db()
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=_("重置动态验证码（下次登录时重新绑定）"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.totp_device_reset(user=user, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("已重置所选用户的动态验证码。"), messages.SUCCESS)


class OrganisationAdminForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ("name", "kind", "code", "division", "parent", "sector", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            services.organisation_validate(
                name=data.get("name") or "",
                kind=data.get("kind") or "",
                code=data.get("code") or "",
                division=data.get("division"),
                parent=data.get("parent"),
                instance=self.instance if self.instance.pk else None,
            )
        except ValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return data


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationAdminForm
    list_display = ("name", "kind", "code", "division", "sector", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code", "sector")
    raw_id_fields = ("division", "parent")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("kind", "code") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor = request.user
        if change:
            services.organisation_update(
                organisation=obj,
                actor=actor,  # type: ignore[arg-type]
                name=data["name"],
                division=data["division"],
                parent=data.get("parent"),
                sector=data.get("sector", ""),
                is_active=data.get("is_active", True),
            )
        else:
            created = services.organisation_create(
                name=data["name"],
                kind=data["kind"],
                code=data["code"],
                division=data["division"],
                parent=data.get("parent"),
                sector=data.get("sector", ""),
                actor=actor,  # type: ignore[arg-type]
            )
            obj.pk = created.pk
            obj._state.adding = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # organisations are deactivated, never deleted


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "role", "division", "grid", "organisation", "starts_on", "ends_on")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("user") is not None and data.get("role"):
            try:
                services.membership_validate(
                    user=data["user"],
                    role=data["role"],
                    division=data.get("division"),
                    grid=data.get("grid"),
                    organisation=data.get("organisation"),
                )
            except ValidationError as exc:
                raise ValidationError(
                    exc.message_dict if hasattr(exc, "error_dict") else exc.messages
                ) from None
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ("user", "role", "division", "grid", "organisation", "is_active", "starts_on", "ends_on")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__display_name", "division__name", "organisation__name")
    raw_id_fields = ("user", "division", "grid", "organisation")
    actions = ("revoke",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A membership is granted or revoked, never edited: the history stays true.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        created = services.membership_grant(
            user=data["user"],
            role=data["role"],
            division=data.get("division"),
            grid=data.get("grid"),
            organisation=data.get("organisation"),
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            actor=request.user,  # type: ignore[arg-type]
        )
        obj.pk = created.pk
        obj._state.adding = False

    @admin.action(description=_("撤销所选成员身份"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset:
            services.membership_revoke(membership=membership, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("已撤销所选成员身份。"), messages.SUCCESS)


@admin.register(CompoundService)
class CompoundServiceAdmin(admin.ModelAdmin):
    list_display = ("compound", "organisation", "kind", "starts_on", "ends_on")
    list_filter = ("kind",)
    raw_id_fields = ("compound", "organisation")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        created = services.compound_service_link(
            compound=data["compound"],
            organisation=data["organisation"],
            kind=data["kind"],
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            actor=request.user,  # type: ignore[arg-type]
        )
        obj.pk = created.pk
        obj._state.adding = False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners; operators can only see and revoke them."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("digest",)
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("撤销所选令牌"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("已撤销所选令牌。"), messages.SUCCESS)
