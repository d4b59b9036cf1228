"""The team page (/team/): members and their roles, invitations, the two-factor policy; the API
keys page (/team/api-keys/); and the invitation link (/team/join/<token>/).

Reseller members only (everyone else gets 404). Every role may look; changes need the rights of
customers/roles.py, which RoleMiddleware checks before these views and the services again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers import services as key_services
from customers import team
from customers.account_forms import (
    AcceptInvitationForm,
    ApiKeyForm,
    InvitationForm,
    RoleForm,
    TwoFactorPolicyForm,
)
from customers.account_views import form_errors
from customers.models import Membership, User
from customers.roles import RIGHTS, WHAT, Right, rights_of
from customers.selectors import visible_api_keys, visible_invitations, visible_memberships
from portal.tenancy import Actor, ActorKind


def _member(request: HttpRequest) -> Actor:
    actor = request.actor
    if actor.kind != ActorKind.RESELLER:
        raise Http404
    return actor


def _role_table() -> list[dict]:
    rows = []
    for role, label in Membership.Role.choices:
        rights = RIGHTS[role]
        rows.append({"label": label, "can": [WHAT[right] for right in Right if right in rights]})
    return rows


def _team_page(request: HttpRequest, *, status: int = 200, **forms) -> HttpResponse:
    actor = _member(request)
    members = list(
        visible_memberships(actor).order_by("user__email").select_related("user", "organisation")
    )
    with_2fa = set(
        TOTPDevice.objects.filter(
            user__in=[m.user_id for m in members], confirmed=True
        ).values_list("user_id", flat=True)
    )
    invitations = visible_invitations(actor).filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )
    organisation = actor.organisation
    context = {
        "members": members,
        "with_2fa": with_2fa,
        "invitations": invitations,
        "invite_form": forms.get("invite_form") or InvitationForm(),
        "policy_form": forms.get("policy_form")
        or TwoFactorPolicyForm(
            initial={
                "require_2fa_members": organisation.require_2fa_members,
                "require_2fa_customers": organisation.require_2fa_customers,
            }
        ),
        "roles": Membership.Role.choices,
        "role_table": _role_table(),
        "error": forms.get("error", ""),
        "rights": rights_of(actor),
        "is_owner": actor.membership_role == Membership.Role.OWNER,
    }
    return render(request, "team/team.html", context, status=status)


@login_required
def team_page(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@login_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    actor = _member(request)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation, _token = team.invitation_create(
                actor=actor,
                organisation=actor.organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                site_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("team:page")
    return _team_page(request, invite_form=form, status=400)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _member(request)
    invitation = get_object_or_404(visible_invitations(actor), pk=pk)
    team.invitation_revoke(actor=actor, invitation=invitation)
    messages.success(request, f"The invitation of {invitation.email} is withdrawn.")
    return redirect("team:page")


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _member(request)
    membership = get_object_or_404(visible_memberships(actor), pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            team.membership_set_role(
                actor=actor, membership=membership, role=form.cleaned_data["role"]
            )
        except ValidationError as error:
            return _team_page(request, error=" ".join(error.messages), status=400)
        messages.success(
            request,
            f"{membership.user.email} is now {Membership.Role(form.cleaned_data['role']).label}.",
        )
        return redirect("team:page")
    return _team_page(request, error="Choose one of the roles.", status=400)


@login_required
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST removes the member."""
    actor = _member(request)
    membership = get_object_or_404(visible_memberships(actor), pk=pk)
    error = ""
    if request.method == "POST":
        try:
            team.membership_remove(actor=actor, membership=membership)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            if membership.user_id == actor.user.pk:
                messages.success(request, f"You left {actor.organisation.name}.")
                return redirect("dashboard")
            messages.success(request, f"{membership.user.email} is no longer on the team.")
            return redirect("team:page")
    return render(
        request,
        "team/member_remove.html",
        {"membership": membership, "error": error, "is_self": membership.user_id == actor.user.pk},
        status=400 if error else 200,
    )


@login_required
@require_POST
def two_factor_policy(request: HttpRequest) -> HttpResponse:
    actor = _member(request)
    form = TwoFactorPolicyForm(request.POST)
    if not form.is_valid():
        return _team_page(request, policy_form=form, status=400)
    team.organisation_set_two_factor(
        actor=actor,
        organisation=actor.organisation,
        members=form.cleaned_data["require_2fa_members"],
        customers=form.cleaned_data["require_2fa_customers"],
    )
    messages.success(request, "Two-factor sign-in policy saved.")
    return redirect("team:page")


def join(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: a new account sets its password; an existing one signs in and
    accepts. An unknown, used, withdrawn or expired link is a 404 page saying so."""
    invitation = team.invitation_for_token(token)
    if invitation is None:
        return render(request, "team/join.html", {"invalid": team.INVALID_INVITATION}, status=404)
    user = request.user if request.user.is_authenticated else None
    existing = User.objects.filter(email__iexact=invitation.email).exists()
    other_user = user is not None and user.email.lower() != invitation.email
    form = None if existing or other_user else AcceptInvitationForm(request.POST or None)
    error = ""
    if other_user:
        error = (
            f"This invitation is for {invitation.email}; you are signed in as {user.email}. "
            "Sign out first, then open the link again."
        )
    elif request.method == "POST":
        if existing and user is None:
            error = "Sign in first to accept the invitation."
        elif form is None or form.is_valid():
            try:
                if existing:
                    team.invitation_accept(token=token, user=user)
                else:
                    membership = team.invitation_accept(
                        token=token,
                        password=form.cleaned_data["password1"],
                        first_name=form.cleaned_data["first_name"],
                        last_name=form.cleaned_data["last_name"],
                    )
                    login(
                        request,
                        membership.user,
                        backend="django.contrib.auth.backends.ModelBackend",
                    )
            except ValidationError as refused:
                if form is not None:
                    form_errors(form, refused)
                else:
                    error = " ".join(refused.messages)
            else:
                messages.success(request, f"Welcome to the team of {invitation.organisation.name}.")
                return redirect("team:page")
    login_url = f"{reverse('login')}?next={request.path}"
    return render(
        request,
        "team/join.html",
        {
            "invitation": invitation,
            "form": form,
            "existing": existing,
            "signed_in_as": user,
            "other_user": other_user,
            "error": error,
            "login_url": login_url,
            "role_label": Membership.Role(invitation.role).label,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- API keys ------------------------------------------------------------------------------


def _keys_page(request: HttpRequest, *, form=None, status: int = 200) -> HttpResponse:
    actor = _member(request)
    keys = visible_api_keys(actor).select_related("created_by").order_by("-created_at", "-pk")
    return render(
        request,
        "team/api_keys.html",
        {"keys": keys, "form": form or ApiKeyForm(), "rights": rights_of(actor)},
        status=status,
    )


@login_required
def api_key_list(request: HttpRequest) -> HttpResponse:
    return _keys_page(request)


@login_required
@require_POST
def api_key_create(request: HttpRequest) -> HttpResponse:
    """Issue a key; this answer is the only place the whole key is ever shown."""
    actor = _member(request)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _keys_page(request, form=form, status=400)
    key, raw = key_services.api_key_issue(
        actor=actor,
        organisation=actor.organisation,
        livemode=form.cleaned_data["mode"] == "live",
        name=form.cleaned_data["name"].strip(),
    )
    response = render(request, "team/api_key_created.html", {"key": key, "raw_key": raw})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST revokes (the key stops working at once)."""
    actor = _member(request)
    key = get_object_or_404(visible_api_keys(actor), pk=pk)
    if request.method == "POST":
        key_services.api_key_revoke(actor=actor, api_key=key)
        messages.success(request, f"The key {key.prefix}… is revoked.")
        return redirect("team:api_keys")
    return render(request, "team/api_key_revoke.html", {"key": key})
