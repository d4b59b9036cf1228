"""Template context for the page shell: the navigation of the signed-in actor and its mode."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from portal.tenancy import ActorKind


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    active: bool = False


# (key, label, url name, the URL namespaces that count as "in this section")
_SECTIONS = [
    ("dashboard", "Dashboard", "dashboard", ()),
    ("customers", "Customers", "customers:list", ("customers",)),
    ("domains", "Domains", "domains:list", ("domains",)),
    ("dns", "DNS", "dns:zone_list", ("dns",)),
    ("invoices", "Invoices", "billing:invoice_list", ("billing",)),
    ("tickets", "Tickets", "support:ticket_list", ("support",)),
]


def _contact_has_dns(contact) -> bool:
    granted = (contact.privileges or {}).get("domains") or {}
    if not isinstance(granted, dict):
        return False
    if granted.get("full"):
        return True
    return any(
        "dnsmanagement" in items for key, items in granted.items() if isinstance(items, list)
    )


def _sections_for(actor) -> list[str]:
    kind = actor.kind
    if kind == ActorKind.STAFF:
        return ["dashboard", "customers", "domains", "dns", "invoices", "tickets"]
    if kind == ActorKind.RESELLER:
        return ["dashboard", "customers", "domains", "dns", "invoices", "tickets"]
    if kind == ActorKind.CUSTOMER:
        return ["dashboard", "domains", "dns", "invoices", "tickets"]
    if kind == ActorKind.CONTACT:
        sections = ["dashboard", "domains"]
        if _contact_has_dns(actor.contact):
            sections.append("dns")
        if actor.can("billing", "payinvoice"):
            sections.append("invoices")
        if actor.can("support", "tickets") or actor.can("support", "newticket"):
            sections.append("tickets")
        return sections
    return []


# The "Staff" menu: every staff tool, for staff only (key, label, url name, url names that
# count as "on it"). Reseller owners and admins get the audit log of their organisation.
_STAFF_TOOLS = [
    ("operations", "Registry operations", "domains:operation_list", ("operation_list",)),
    ("registrars", "Registrar accounts", "domains:account_list", ("account_list",)),
    ("tlds", "TLDs", "domains:tld_list", ("tld_list", "tld_create", "tld_page")),
    ("registry-messages", "Registry messages", "domains:registry_message_list", ()),
    ("audit", "Audit log", "audit_log", ("audit_log",)),
    ("balances", "Reseller balances", "billing:account_list", ("account_list",)),
    ("platform-prices", "Platform costs and prices", "billing:price_list", ()),
    ("django-admin", "Django admin", "admin:index", ()),
]


def _tools_for(actor, namespace: str, url_name: str) -> list[NavItem]:
    if actor.kind == ActorKind.STAFF:
        tools = _STAFF_TOOLS
    elif actor.kind == ActorKind.RESELLER and actor.membership_role in {"owner", "admin"}:
        tools = [t for t in _STAFF_TOOLS if t[0] == "audit"]
    else:
        return []
    items = []
    for key, label, name, names in tools:
        space = name.split(":", 1)[0] if ":" in name else ""
        active = url_name in names and namespace == space
        items.append(NavItem(key=key, label=label, url=reverse(name), active=active))
    return items


def navigation(request):
    actor = getattr(request, "actor", None)
    if actor is None or not actor.is_authenticated:
        return {
            "nav_items": [],
            "tools_nav": [],
            "show_mode_switch": False,
            "sandbox_mode": False,
        }
    match = getattr(request, "resolver_match", None)
    namespace = match.namespace if match else ""
    url_name = match.url_name if match else ""
    wanted = set(_sections_for(actor))
    items = []
    for key, label, name, namespaces in _SECTIONS:
        if key not in wanted:
            continue
        active = namespace in namespaces if namespaces else (url_name == "dashboard")
        items.append(NavItem(key=key, label=label, url=reverse(name), active=bool(active)))
    on_prices = namespace == "billing" and (url_name or "").startswith(
        ("price_", "markup_", "own_price")
    )
    if on_prices:
        items = [NavItem(i.key, i.label, i.url, False) if i.key == "invoices" else i for i in items]
    if actor.kind in {ActorKind.STAFF, ActorKind.RESELLER}:
        items.append(
            NavItem(
                key="prices", label="Prices", url=reverse("billing:price_list"), active=on_prices
            )
        )
    if actor.kind == ActorKind.STAFF:
        items.append(NavItem(key="admin", label="Admin", url=reverse("admin:index")))
    is_reseller = actor.kind == ActorKind.RESELLER
    return {
        "actor": actor,
        "nav_items": items,
        "tools_nav": _tools_for(actor, namespace, url_name),
        "show_mode_switch": is_reseller,
        "sandbox_mode": actor.livemode is False,
    }
