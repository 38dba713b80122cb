"""Sign-in (password, then TOTP for staff), enrolment of the second factor, password change, API
tokens and the registry of organisations. Views parse, fetch through access functions, call one
service or selector and render."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import ApiTokenForm, OrganisationFilterForm, OtpTokenForm, PasswordChangeForm
from .middleware import SESSION_STARTED_KEY
from .permissions import can_manage_organisation
from .security import second_factor_satisfied

ORGANISATIONS_PER_PAGE = 50


def lockout_response(request: HttpRequest, credentials: Any, *args: Any, **kwargs: Any) -> HttpResponse:
    """What django-axes answers once (username, IP) has failed too often."""
    return render(request, "accounts/locked_out.html", status=429)


def _safe_next(request: HttpRequest) -> str:
    """Where to go after sign-in: ``next`` if it points into this site, the home page otherwise."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, target: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': target})}"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        self.request.session[SESSION_STARTED_KEY] = time.time()
        return response

    def get_success_url(self) -> str:
        target = self.get_redirect_url() or resolve_url(settings.LOGIN_REDIRECT_URL)
        user = self.request.user
        if second_factor_satisfied(self.request, user):
            return target
        if selectors.confirmed_totp_device(user=user) is None:
            return _with_next("accounts:otp_enrol", target)
        return _with_next("accounts:otp_verify", target)


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    target = _safe_next(request)
    if second_factor_satisfied(request, request.user):
        return redirect(target)
    device = selectors.confirmed_totp_device(user=request.user)
    if device is None:
        return redirect(_with_next("accounts:otp_enrol", target))
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.second_factor_verify(request=request, device=device, token=form.cleaned_data["token"]):
            return redirect(target)
        form.add_error("token", _("验证码不正确或已过期。"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": target})


@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest) -> HttpResponse:
    target = _safe_next(request)
    if selectors.confirmed_totp_device(user=request.user) is not None:
        # Already enrolled: a second device is added by an administrator resetting the first.
        if second_factor_satisfied(request, request.user):
            return redirect(target)
        return redirect(_with_next("accounts:otp_verify", target))
    device = services.totp_device_start(user=request.user)  # type: ignore[arg-type]
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(request=request, device=device, token=form.cleaned_data["token"]):
            return redirect(target)
        form.add_error("token", _("验证码不正确或已过期。"))
    context = {
        "form": form,
        "next": target,
        "secret": selectors.totp_secret_base32(device),
        "qr_svg": selectors.totp_qr_svg(device),
    }
    return render(request, "accounts/otp_enrol.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the password; every session of the user ends, this one too (DOMAIN.md §14)."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_password_change(
            user=request.user,  # type: ignore[arg-type]
            new_password=form.cleaned_data["new_password1"],
            actor=request.user,  # type: ignore[arg-type]
        )
        logout(request)
        return redirect("accounts:password_changed")
    return render(request, "accounts/password_change.html", {"form": form})


def password_changed(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_changed.html", {})


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """List the user's API tokens and create one; the raw token is shown once, on this response."""
    form = ApiTokenForm(request.POST or None)
    raw_token = ""
    if request.method == "POST" and form.is_valid():
        try:
            _token, raw_token = services.api_token_create(
                user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = ApiTokenForm()
    context = {"form": form, "raw_token": raw_token, "tokens": selectors.api_tokens_of(user=request.user)}
    response = render(request, "accounts/tokens.html", context)
    if raw_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponseBase:
    token = selectors.access_api_token_by_id(token_id=token_id, user=request.user)
    services.api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("令牌 %(name)s 已撤销。") % {"name": token.name})
    return redirect("accounts:tokens")


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    form = OrganisationFilterForm(request.GET or None)
    kind = query = ""
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        query = form.cleaned_data["q"]
    organisations = selectors.organisations_visible(user=request.user, kind=kind, query=query)
    page = Paginator(organisations, ORGANISATIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "querystring": urlencode({"kind": kind, "q": query})}
    template = (
        "accounts/_organisation_rows.html"
        if getattr(request, "htmx", False)
        else "accounts/organisations.html"
    )
    return render(request, template, context)


@login_required
def organisation_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = selectors.access_organisation_by_id(organisation_id=organisation_id, user=request.user)
    context = {
        "organisation": organisation,
        "memberships": selectors.organisation_memberships(organisation=organisation, user=request.user),
        "compound_links": selectors.organisation_compounds(organisation=organisation, user=request.user),
        "may_manage": can_manage_organisation(request.user, organisation),
    }
    return render(request, "accounts/organisation_detail.html", context)
