"""Templates ask ``domains.policies`` what to offer: ``{% load domain_policies %}``, then
``{% if actor|may_order %}`` or ``{{ op|operation_message:actor }}``."""

from __future__ import annotations

from django import template

from domains import policies

register = template.Library()


@register.filter
def may_order(actor) -> bool:
    return actor is not None and policies.can_order(actor)


@register.filter
def may_manage_operations(actor) -> bool:
    return actor is not None and policies.can_manage_operations(actor)


@register.filter
def operation_message(operation, actor) -> str:
    if actor is None:
        return ""
    return policies.operation_message_for(actor, operation)
