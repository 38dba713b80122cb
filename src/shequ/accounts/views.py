"""Sign-in (password, then TOTP for staff), enrolment of the second factor, sign-out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import services
from .forms import OtpTokenForm


def lockout_response(request: HttpRequest, credentials: Any, *args: Any, **kwargs: Any) -> HttpResponse:
    return render(request, "accounts/locked_out.html", status=429)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    device = services.confirmed_totp_device(user=request.user)
    if device is None:
        return redirect(f"/accounts/otp/enrol/?next={_safe_next(request)}")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.otp_verify_login(request=request, device=device, token=form.cleaned_data["token"]):
            return redirect(_safe_next(request))
        form.add_error("token", _("验证码不正确或已过期。"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _safe_next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest) -> HttpResponse:
    if services.confirmed_totp_device(user=request.user) is not None and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect(f"/accounts/otp/verify/?next={_safe_next(request)}")
    device = services.totp_device_pending(user=request.user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(request=request, device=device, token=form.cleaned_data["token"]):
            return redirect(_safe_next(request))
        form.add_error("token", _("验证码不正确或已过期。"))
    context = {
        "form": form,
        "next": _safe_next(request),
        "secret": services.totp_secret_base32(device),
        "qr_svg": services.totp_qr_svg(device),
    }
    return render(request, "accounts/otp_enrol.html", context)
