"""One's own account (/account/): password, e-mail, two-factor sign-in and recovery codes,
signed-in sessions; and the second factor's sign-in pages (/accounts/otp/)."""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers import account, registrant_tokens
from customers.account_forms import (
    CurrentPasswordForm,
    EmailChangeForm,
    PasswordChangeForm,
    RecoveryCodeForm,
    RegistrantTokenForm,
)
from portal.forms import OtpSetupForm, StaffOtpForm
from portal.tenancy import Actor, ActorKind


def form_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form (fields it names, or the whole form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("dashboard")


# --- The account page ----------------------------------------------------------------------


def _registrant_token_section(actor: Actor, form: RegistrantTokenForm | None) -> dict | None:
    """The "Registrant API tokens" section (its views are customers.registrant_token_views), for
    a customer signed in as itself (or signed in as by its reseller or staff); None for everyone
    else (members, contacts, staff). An archived account lists its tokens but makes none."""
    if actor.kind != ActorKind.CUSTOMER or actor.customer is None:
        return None
    if not registrant_tokens.may_manage(actor, actor.customer):
        return None
    tokens = registrant_tokens.visible_tokens(actor).filter(customer=actor.customer)
    return {
        "tokens": list(tokens.order_by("-created_at", "-pk")),
        "form": form or RegistrantTokenForm(),
        "archived": actor.customer.is_archived,
    }


def _page(request: HttpRequest, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    context = {
        "password_form": forms.get("password_form") or PasswordChangeForm(),
        "email_form": forms.get("email_form") or EmailChangeForm(),
        "disable_form": forms.get("disable_form") or CurrentPasswordForm(),
        "two_factor": account.two_factor_enabled(user),
        "two_factor_required": account.two_factor_required(user, request.actor),
        "recovery_left": account.recovery_codes_left(user),
        "sessions": account.active_sessions(user),
        "current_session": request.session.session_key,
        "registrant_tokens": _registrant_token_section(
            request.actor, forms.get("registrant_token_form")
        ),
    }
    return render(request, "account/account.html", context, status=status)


def account_page_with(request: HttpRequest, **forms) -> HttpResponse:
    """The account page again with a form's errors (400), for the sections kept elsewhere."""
    return _page(request, status=400, **forms)


@login_required
def account_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            account.password_change(
                actor=request.actor,
                user=request.user,
                current_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            update_session_auth_hash(request, request.user)  # a new key for this session
            account.sessions_end(user=request.user, keep=request.session.session_key or "")
            messages.success(request, "Your password is changed; your other sessions ended.")
            return redirect("account:page")
    return _page(request, password_form=form, status=400)


@login_required
@require_POST
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            account.email_change(
                actor=request.actor,
                user=request.user,
                current_password=form.cleaned_data["current_password"],
                new_email=form.cleaned_data["email"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, "Your e-mail address is changed: sign in with it from now.")
            return redirect("account:page")
    return _page(request, email_form=form, status=400)


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = CurrentPasswordForm(request.POST)
    if form.is_valid():
        try:
            account.two_factor_disable(
                actor=request.actor,
                user=request.user,
                current_password=form.cleaned_data["current_password"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("account:page")
    return _page(request, disable_form=form, status=400)


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown on this answer only."""
    if not account.two_factor_enabled(request.user):
        messages.error(request, "Set up an authenticator app first.")
        return redirect("account:page")
    codes = account.recovery_codes_generate(actor=request.actor, user=request.user)
    return _codes_page(request, codes, next_url=reverse("account:page"))


def _codes_page(request: HttpRequest, codes: list[str], *, next_url: str) -> HttpResponse:
    response = render(request, "account/recovery_codes.html", {"codes": codes, "next": next_url})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    ended = account.sessions_end_others(
        actor=request.actor, user=request.user, keep=request.session.session_key or ""
    )
    messages.success(
        request, f"Signed out everywhere else ({ended} session{'s' if ended != 1 else ''})."
    )
    return redirect("account:page")


# --- The second factor at sign-in ----------------------------------------------------------


@login_required
def otp(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code, or spend a recovery code, for the signed-in user."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()
    if device is None:
        return redirect(f"{reverse('otp_setup')}?{urlencode({'next': _next_url(request)})}")
    posted = request.method == "POST"
    using_code = posted and "recovery_code" in request.POST
    form = StaffOtpForm(user, request, data=request.POST if posted and not using_code else None)
    code_form = RecoveryCodeForm(request.POST if using_code else None)
    if posted and not using_code and form.is_valid():
        django_otp.login(request, user.otp_device)
        return redirect(_next_url(request))
    if using_code and code_form.is_valid():
        if account.recovery_code_use(
            actor=request.actor, user=user, code=code_form.cleaned_data["recovery_code"]
        ):
            django_otp.login(request, device)
            left = account.recovery_codes_left(user)
            messages.warning(
                request,
                f"You signed in with a recovery code; {left} left. "
                "Make new ones on your account page if you are running out.",
            )
            return redirect(_next_url(request))
        code_form.add_error(
            "recovery_code", "That recovery code is not valid, or was used already."
        )
    return render(
        request,
        "registration/otp.html",
        {
            "form": form,
            "code_form": code_form,
            "next": _next_url(request),
            "is_staff": user.is_staff,
        },
    )


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: an unconfirmed TOTP device until the user enters a code. The
    first one turns two-factor sign-in on and shows the recovery codes once."""
    user = request.user
    has_confirmed = TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()
    if has_confirmed and not user.is_verified():
        # Adding a device must not become a way around the existing second factor.
        return redirect(f"{reverse('otp')}?{urlencode({'next': reverse('otp_setup')})}")
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by(
        "-pk"
    ).first() or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = OtpSetupForm(device, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        django_otp.login(request, device)
        messages.success(request, "Your authenticator app is set up.")
        if not has_confirmed:
            codes = account.recovery_codes_generate(actor=request.actor, user=user)
            return _codes_page(request, codes, next_url=_next_url(request))
        return redirect(_next_url(request))
    secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    return render(
        request,
        "registration/otp_setup.html",
        {
            "form": form,
            "device": device,
            "config_url": device.config_url,
            "secret": secret,
            "next": _next_url(request),
        },
    )
