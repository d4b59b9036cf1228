"""Canned replies: ready answers an agent inserts into a reply.

Each belongs to whoever uses it: the platform's (no organisation) to staff, a reseller's to its
support team (owner, admin and support roles; ``policies.can_manage_canned_replies``). The list
and its changes are scoped by ``selectors.visible_canned_replies``: another reseller's reply is
not found (404). A title is unique among the owner's replies.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portal.audit import audit
from portal.tenancy import Actor
from support import policies
from support.models import CannedReply
from support.selectors import visible_canned_replies
from support.services import _refusal


def _require(actor: Actor) -> None:
    if not policies.can_manage_canned_replies(actor):
        raise PermissionDenied(_refusal(actor, "Only the support team manages canned replies."))


def _check(actor: Actor, *, title: str, body: str, position: int, exclude: int | None) -> tuple:
    errors = {}
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = "Title cannot be empty."
    elif len(title) > 100:
        errors["title"] = "At most 100 characters."
    if not body:
        errors["body"] = "Text cannot be empty."
    if not 0 <= position <= 32767:
        errors["position"] = "Give a position between 0 and 32767."
    same = visible_canned_replies(actor).filter(title__iexact=title)
    if title and same.exclude(pk=exclude).exists():
        errors["title"] = "You already have a canned reply with this title."
    if errors:
        raise ValidationError(errors)
    return title, body


def canned_reply_create(*, actor: Actor, title: str, body: str, position: int = 0) -> CannedReply:
    _require(actor)
    title, body = _check(actor, title=title, body=body, position=position, exclude=None)
    with transaction.atomic():
        canned = CannedReply(
            organisation=None if actor.is_staff else actor.organisation,
            title=title,
            body=body,
            position=position,
        )
        canned.full_clean(validate_constraints=False)
        canned.save()
        audit(
            actor=actor,
            action="canned_reply.create",
            obj=canned,
            organisation=canned.organisation,
            data={"title": title},
        )
    return canned


def canned_reply_update(
    *, actor: Actor, canned: CannedReply, title: str, body: str, position: int = 0
) -> CannedReply:
    _require(actor)
    if not visible_canned_replies(actor).filter(pk=canned.pk).exists():
        raise PermissionDenied("Not one of your canned replies.")
    title, body = _check(actor, title=title, body=body, position=position, exclude=canned.pk)
    with transaction.atomic():
        canned = CannedReply.objects.select_for_update().get(pk=canned.pk)
        changes = {
            name: [getattr(canned, name), value]
            for name, value in (("title", title), ("body", body), ("position", position))
            if getattr(canned, name) != value
        }
        if not changes:
            return canned
        canned.title, canned.body, canned.position = title, body, position
        canned.full_clean(validate_constraints=False)
        canned.save(update_fields=["title", "body", "position"])
        audit(
            actor=actor,
            action="canned_reply.update",
            obj=canned,
            organisation=canned.organisation,
            data={"title": title, "changed": sorted(changes)},
        )
    return canned


def canned_reply_delete(*, actor: Actor, canned: CannedReply) -> None:
    _require(actor)
    if not visible_canned_replies(actor).filter(pk=canned.pk).exists():
        raise PermissionDenied("Not one of your canned replies.")
    with transaction.atomic():
        audit(
            actor=actor,
            action="canned_reply.delete",
            obj=canned,
            organisation=canned.organisation,
            data={"title": canned.title},
        )
        CannedReply.objects.filter(pk=canned.pk).delete()
