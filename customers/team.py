"""The team: invitations by e-mail, roles, removing members, and the two-factor policy of the
organisation. Every change is checked against customers/roles.py and audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from customers.account import sessions_end
from customers.models import Contact, Customer, Invitation, Membership, Organisation, User
from customers.roles import Right, require
from portal.audit import audit
from portal.tenancy import Actor, ActorKind

INVITATION_DAYS = 7
Role = Membership.Role

OWNER_ONLY = "Only an owner may make someone an owner, or change or remove an owner."
LAST_OWNER = "The organisation must keep at least one owner: make someone else an owner first."
INVALID_INVITATION = (
    "This invitation link is not valid any more: it was used, withdrawn or has expired. "
    "Ask the person who invited you for a new one."
)


def hash_token(raw: str) -> str:
    """Invitation tokens carry 256 bits of randomness: one SHA-256 is enough to store them."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _is_owner(actor: Actor) -> bool:
    return actor.is_staff or (
        actor.kind == ActorKind.RESELLER and actor.membership_role == Role.OWNER
    )


def _own_organisation(actor: Actor, organisation: Organisation) -> None:
    if not actor.is_staff and actor.organisation_id != organisation.pk:
        raise PermissionDenied("You may manage your own organisation's team only.")


def _other_account(user: User, organisation: Organisation) -> str:
    """Why ``user`` cannot join ``organisation`` ('' when it can)."""
    if user.is_staff:
        return "This address belongs to a platform staff account."
    if Customer.objects.filter(user=user).exists() or Contact.objects.filter(user=user).exists():
        return "This address belongs to a customer's login; invite another address."
    if user.memberships.exclude(organisation=organisation).exists():
        return "This address already belongs to another organisation's team."
    if user.memberships.filter(organisation=organisation).exists():
        return "This address is already a member of the team."
    return ""


# --- Invitations ---------------------------------------------------------------------------


def invitation_create(
    *, actor: Actor, organisation: Organisation, email: str, role: str, site_url: str
) -> tuple[Invitation, str]:
    """Invite ``email`` with ``role``; e-mails a one-use link valid INVITATION_DAYS days (after
    commit). Returns the invitation and the raw token (only its hash is stored). An earlier
    open invitation of the same address is withdrawn."""
    require(actor, Right.TEAM)
    _own_organisation(actor, organisation)
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    if role == Role.OWNER and not _is_owner(actor):
        raise PermissionDenied(OWNER_ONLY)
    email = (email or "").strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and (reason := _other_account(existing, organisation)):
        raise ValidationError({"email": reason})
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.select_for_update().filter(
            organisation=organisation,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=now)
        invitation = Invitation(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=hash_token(raw),
            invited_by=actor.user,
            expires_at=now + timedelta(days=INVITATION_DAYS),
        )
        invitation.full_clean()
        invitation.save()
        audit(
            actor=actor,
            action="team.invite",
            obj=invitation,
            organisation=organisation,
            data={"email": email, "role": role},
        )
        link = site_url.rstrip("/") + reverse("team:join", kwargs={"token": raw})
        inviter = (actor.user.get_full_name() or actor.user.email) if actor.user else "Nameport"
        subject = f"You are invited to join {organisation.name} on Nameport"
        body = (
            f"{inviter} invites you to join the team of {organisation.name} on Nameport as "
            f"{Role(role).label}.\n\n"
            f"Accept the invitation (the link works once, for {INVITATION_DAYS} days):\n"
            f"{link}\n\n"
            "If you did not expect this, ignore this message.\n"
        )
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        )
    return invitation, raw


def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    require(actor, Right.TEAM)
    _own_organisation(actor, invitation.organisation)
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if updated:
            audit(
                actor=actor,
                action="team.invitation_revoke",
                obj=invitation,
                organisation=invitation.organisation,
                data={"email": invitation.email},
            )
    invitation.refresh_from_db()
    return invitation


def _usable(queryset, raw: str) -> Invitation | None:
    if not raw or len(raw) > 100:
        return None
    return (
        queryset.select_related("organisation")
        .filter(
            token_hash=hash_token(raw),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            organisation__is_active=True,
        )
        .first()
    )


def invitation_for_token(raw: str) -> Invitation | None:
    """The open invitation the link's token names, or None (used, withdrawn, expired, unknown)."""
    return _usable(Invitation.objects.all(), raw)


def invitation_accept(
    *,
    token: str,
    user: User | None = None,
    password: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Join the team. ``user``: the signed-in account (its address must be the invited one);
    without it a new account is made with ``password``. The token works once: the invitation is
    locked, checked and marked accepted in one transaction."""
    with transaction.atomic():
        invitation = _usable(Invitation.objects.select_for_update(of=("self",)), token)
        if invitation is None:
            raise ValidationError(INVALID_INVITATION)
        organisation = invitation.organisation
        if user is None:
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise ValidationError(
                    "An account with this address exists: sign in to accept the invitation."
                )
            candidate = User(
                email=invitation.email, first_name=first_name.strip(), last_name=last_name.strip()
            )
            try:
                validate_password(password, candidate)
            except ValidationError as error:
                raise ValidationError({"password1": error.messages}) from error
            user = User.objects.create_user(
                email=invitation.email,
                password=password,
                first_name=candidate.first_name,
                last_name=candidate.last_name,
            )
        elif user.email.lower() != invitation.email.lower():
            raise ValidationError(
                f"This invitation is for {invitation.email}; you are signed in as {user.email}."
            )
        elif reason := _other_account(user, organisation):
            raise ValidationError(reason)
        membership = Membership(user=user, organisation=organisation, role=invitation.role)
        membership.full_clean()
        membership.save()
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        joined = Actor(
            kind=ActorKind.RESELLER,
            user=user,
            organisation=organisation,
            membership_role=membership.role,
        )
        audit(
            actor=joined,
            action="team.join",
            obj=membership,
            organisation=organisation,
            data={"email": user.email, "role": membership.role, "invitation": invitation.pk},
        )
    return membership


# --- Members -------------------------------------------------------------------------------


def _owners_left(organisation: Organisation, without: Membership) -> int:
    """The other owners, locked (PostgreSQL refuses FOR UPDATE with COUNT: the rows are read)."""
    owners = (
        Membership.objects.select_for_update()
        .filter(organisation=organisation, role=Role.OWNER)
        .exclude(pk=without.pk)
        .values_list("pk", flat=True)
    )
    return len(list(owners))


def membership_set_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    require(actor, Right.TEAM)
    _own_organisation(actor, membership.organisation)
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        before = membership.role
        if before == role:
            return membership
        if Role.OWNER in {before, role} and not _is_owner(actor):
            raise PermissionDenied(OWNER_ONLY)
        if before == Role.OWNER and _owners_left(membership.organisation, membership) == 0:
            raise ValidationError({"role": LAST_OWNER})
        membership.role = role
        membership.full_clean()
        membership.save(update_fields=["role"])
        audit(
            actor=actor,
            action="team.role_change",
            obj=membership,
            organisation=membership.organisation,
            data={"email": membership.user.email, "from": before, "to": role},
        )
    return membership


def membership_remove(*, actor: Actor, membership: Membership) -> None:
    """Take a member off the team and end their signed-in sessions."""
    require(actor, Right.TEAM)
    _own_organisation(actor, membership.organisation)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        )
        if membership.role == Role.OWNER:
            if not _is_owner(actor):
                raise PermissionDenied(OWNER_ONLY)
            if _owners_left(membership.organisation, membership) == 0:
                raise ValidationError(LAST_OWNER)
        user = membership.user
        audit(
            actor=actor,
            action="team.remove",
            obj=membership,
            organisation=membership.organisation,
            data={"email": user.email, "role": membership.role},
        )
        membership.delete()
        transaction.on_commit(lambda: sessions_end(user=user))


def organisation_set_two_factor(
    *, actor: Actor, organisation: Organisation, members: bool, customers: bool
) -> Organisation:
    """Require two-factor sign-in for the organisation's members and/or its customers."""
    require(actor, Right.SETTINGS)
    _own_organisation(actor, organisation)
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = (organisation.require_2fa_members, organisation.require_2fa_customers)
        organisation.require_2fa_members = members
        organisation.require_2fa_customers = customers
        organisation.save(update_fields=["require_2fa_members", "require_2fa_customers"])
        if before != (members, customers):
            audit(
                actor=actor,
                action="organisation.two_factor",
                obj=organisation,
                organisation=organisation,
                data={"members": members, "customers": customers},
            )
    return organisation
