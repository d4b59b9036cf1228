"""Contacts on a customer account (seed 003's ``/contact``): add, edit, remove, and the
invitation e-mail whose link lets the contact set a password and sign in.

Who may manage them: staff and the customer's reseller (the customer page). The privileges are
seed 003's (``customers.models.validate_privileges``); the per-domain lists may name only the
customer's own domains, which the caller passes (``allowed_domain_ids``, from
``domains.selectors``: this app sits below domains and does not read them itself).

The invitation link carries a token of :data:`invitation_tokens`, Django's password-reset
token with its own salt: it works once (setting the password changes what it is made of) and
expires after ``PASSWORD_RESET_TIMEOUT`` seconds (three days unless configured).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from customers.accounts import can_manage_customers
from customers.branding import branded_sender
from customers.models import Contact, Customer, User
from portal.audit import audit
from portal.tenancy import Actor, actor_for_user

logger = logging.getLogger(__name__)

DUPLICATE_MESSAGE = "This customer already has a contact with that e-mail address."
TAKEN_MESSAGE = (
    "That e-mail address already signs in to another account; "
    "give this contact another address to invite it."
)
FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company_name",
    "address1",
    "address2",
    "city",
    "state",
    "post_code",
    "country",
    "phone",
    "type",
)


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "customers.contacts.InvitationTokenGenerator"


invitation_tokens = InvitationTokenGenerator()


def can_manage_contacts(actor: Actor, customer: Customer) -> bool:
    if actor.is_staff:
        return True
    return can_manage_customers(actor) and customer.organisation_id == actor.organisation_id


def _require(actor: Actor, customer: Customer) -> None:
    if not can_manage_contacts(actor, customer):
        raise PermissionDenied("You may not change this customer's contacts.")


def _check_domains(privileges: dict, allowed_domain_ids: Iterable[int] | None) -> None:
    domains = privileges.get("domains")
    if allowed_domain_ids is None or not isinstance(domains, dict):
        return
    allowed = {str(pk) for pk in allowed_domain_ids}
    unknown = sorted(key for key in domains if key != "full" and key not in allowed)
    if unknown:
        raise ValidationError({"privileges": "Choose only this customer's own domains."})


def _save(contact: Contact) -> None:
    contact.email = (contact.email or "").strip().lower()
    contact.country = (contact.country or "").strip().upper()
    taken = Contact.objects.filter(customer_id=contact.customer_id, email__iexact=contact.email)
    if taken.exclude(pk=contact.pk).exists():
        raise ValidationError({"email": DUPLICATE_MESSAGE})
    contact.full_clean()
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError as exc:
        raise ValidationError({"email": DUPLICATE_MESSAGE}) from exc


def contact_create(
    *,
    actor: Actor,
    customer: Customer,
    values: dict[str, Any],
    privileges: dict,
    allowed_domain_ids: Iterable[int] | None = None,
) -> Contact:
    _require(actor, customer)
    _check_domains(privileges, allowed_domain_ids)
    with transaction.atomic():
        contact = Contact(
            customer=customer,
            privileges=privileges,
            **{
                k: (str(v).strip() if v is not None else "")
                for k, v in values.items()
                if k in FIELDS
            },
        )
        _save(contact)
        audit(
            actor=actor,
            action="contact.create",
            obj=contact,
            organisation=customer.organisation,
            data={"customer": customer.pk, "email": contact.email, "privileges": privileges},
        )
    return contact


def contact_update(
    *,
    actor: Actor,
    contact: Contact,
    values: dict[str, Any],
    privileges: dict | None = None,
    allowed_domain_ids: Iterable[int] | None = None,
) -> Contact:
    customer = contact.customer
    _require(actor, customer)
    if privileges is not None:
        _check_domains(privileges, allowed_domain_ids)
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        changed: dict[str, Any] = {}
        for name, value in values.items():
            if name not in FIELDS or value is None:
                continue
            value = str(value).strip()
            if getattr(locked, name) != value:
                changed[name] = value
                setattr(locked, name, value)
        if privileges is not None and privileges != locked.privileges:
            changed["privileges"] = privileges
            locked.privileges = privileges
        if changed:
            if "email" in changed and locked.user_id is not None:
                raise ValidationError(
                    {"email": "This contact signs in with its address; it cannot be changed here."}
                )
            _save(locked)
            audit(
                actor=actor,
                action="contact.update",
                obj=locked,
                organisation=customer.organisation,
                data={"customer": customer.pk, "changed": changed},
            )
    return locked


def _has_other_role(user: User, contact: Contact) -> bool:
    return (
        user.is_staff
        or user.memberships.exists()
        or Customer.objects.filter(user=user).exists()
        or Contact.objects.filter(user=user).exclude(pk=contact.pk).exists()
    )


def contact_delete(*, actor: Actor, contact: Contact) -> None:
    """Remove the contact; its login (when it has no other role) stops working at once."""
    customer = contact.customer
    _require(actor, customer)
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        user = locked.user
        audit(
            actor=actor,
            action="contact.delete",
            obj=locked,
            organisation=customer.organisation,
            data={"customer": customer.pk, "email": locked.email},
        )
        locked.delete()
        if user is not None and not _has_other_role(user, locked):
            user.is_active = False
            user.save(update_fields=["is_active"])


def invitation_path(user: User) -> str:
    return reverse(
        "customers:contact_invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": invitation_tokens.make_token(user),
        },
    )


def contact_invite(*, actor: Actor, contact: Contact, base_url: str) -> Contact:
    """Give the contact a login (no password yet) and e-mail it a link to set one.

    ``base_url`` is the scheme and host the link starts with (the page the reseller is on).
    Sending again sends a new link; an older unused one keeps working until it expires.
    """
    customer = contact.customer
    _require(actor, customer)
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        user = locked.user
        if user is None:
            user = User.objects.filter(email__iexact=locked.email).first()
            if user is None:
                user = User.objects.create_user(
                    locked.email, first_name=locked.first_name, last_name=locked.last_name
                )
            elif _has_other_role(user, locked):
                raise ValidationError({"email": TAKEN_MESSAGE})
            locked.user = user
            locked.save(update_fields=["user"])
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        audit(
            actor=actor,
            action="contact.invite",
            obj=locked,
            organisation=customer.organisation,
            data={"customer": customer.pk, "email": locked.email},
        )
        link = base_url.rstrip("/") + invitation_path(user)
        contact_id = locked.pk
        transaction.on_commit(lambda: send_invitation(contact_id, link))
    return locked


def send_invitation(contact_id: int, link: str) -> int:
    """The invitation e-mail. The link is a secret: it is mailed, never logged."""
    contact = Contact.objects.select_related("customer__organisation").get(pk=contact_id)
    organisation = contact.customer.organisation
    context = {
        "contact": contact,
        "customer": contact.customer,
        "organisation": organisation,
        "link": link,
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    message = EmailMessage(
        subject=f"You are invited to {contact.customer.name}'s account at {organisation.name}",
        body=render_to_string("customers/contact_invitation_email.txt", context),
        # The contact is one of the organisation's customers' people: its brand (settings).
        from_email=branded_sender(organisation, settings.DEFAULT_FROM_EMAIL),
        to=[contact.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    try:
        return message.send()
    except OSError:
        logger.warning("contact invitation e-mail not sent", extra={"contact": contact_id})
        return 0


def invitation_accept(*, user: User, password: str) -> User:
    """Set the invited contact's password (the token was checked by the caller)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.save(update_fields=["password"])
        contact = Contact.objects.select_related("customer__organisation").filter(user=user).first()
        if contact is not None:
            audit(
                actor=actor_for_user(user),
                action="contact.invitation_accept",
                obj=contact,
                organisation=contact.customer.organisation,
                data={"customer": contact.customer_id},
            )
    return user
