from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from .models import OrganisationKind


class OtpTokenForm(forms.Form):
    token = forms.RegexField(
        label=_("动态验证码"),
        regex=r"^\d{6}$",
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"\d{6}",
                "autofocus": True,
            }
        ),
        error_messages={"invalid": _("请输入 6 位数字验证码。")},
    )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Checks the old password and the validators; the view saves through ``user_password_change``."""

    def save(self, commit: bool = True) -> Any:  # pragma: no cover - never used, see the view
        raise NotImplementedError("Passwords change only through services.user_password_change.")


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("令牌名称"),
        max_length=100,
        help_text=_("写明用途，例如“区城运平台对接”。"),
    )


class OrganisationFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部类型")), *OrganisationKind.choices]
    )
