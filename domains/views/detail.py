"""One domain: the page with its tabs, the operation history, and one POST URL per action.

Every action fetches the domain through ``visible_domains(request.actor)`` (another tenant gets
404) and calls the service that the native API calls too. An HTMX POST answers with the tab
fragment (and ``HX-Trigger`` for a toast and the history); a normal POST redirects back with a
flash message. A refused change answers 422 with the service's message and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from domains import hooks, policies, services
from domains.forms import (
    ContactForm,
    DsForm,
    HostAddressesForm,
    HostForm,
    NameserversForm,
    RenewForm,
    RestoreForm,
    ToggleForm,
)
from domains.models import (
    Domain,
    DomainContact,
    DomainDrift,
    DomainStatus,
    RegistrarOperation,
    TransferRequest,
)
from domains.selectors import visible_domains, visible_operations
from domains.views._common import (
    INVALID,
    OPERATIONS_CHANGED,
    add_service_errors,
    is_htmx,
    toast,
    trigger,
    vary_on_htmx,
)

TABS = [
    ("overview", "Overview"),
    ("nameservers", "Nameservers"),
    ("lock", "Lock"),
    ("privacy", "Privacy"),
    ("contacts", "Contacts"),
    ("hosts", "Glue hosts"),
    ("dnssec", "DNSSEC"),
    ("auth-code", "Auth code"),
    ("transfer", "Transfer"),
    ("sync", "Sync"),
]
TAB_NAMES = {name for name, _ in TABS}
MANAGEABLE = {DomainStatus.ACTIVE, DomainStatus.EXPIRED, DomainStatus.GRACE}
UNFINISHED = {RegistrarOperation.Status.PENDING, RegistrarOperation.Status.RUNNING}
HISTORY_SIZE = 15
DOMAIN_CHANGED = "np-domain-changed"

# What each tab's forms need (seed-003 contact privileges; others in scope may act).
PRIVILEGES = {
    "renew": "renew",
    "autorenew": "autorenew",
    "nameservers": "nameservers",
    "lock": "reglock",
    "privacy": "idprotection",
    "contacts": "contactinfo",
    "dnssec": "dnsmanagement",
    "auth_code": "eppcode",
    "sync": "basic",
}


def _domain(request: HttpRequest, pk: int) -> Domain:
    return get_object_or_404(
        visible_domains(request.actor).select_related("organisation", "registrar_account"), pk=pk
    )


def _can_resolve_drift(actor) -> bool:
    return policies.can_manage_operations(actor)


# --- what a tab shows ---------------------------------------------------------------------------
def _tab_context(request: HttpRequest, domain: Domain, tab: str, forms: dict) -> dict[str, Any]:
    actor = request.actor
    context: dict[str, Any] = {}
    if tab == "overview":
        context["renew_form"] = forms.get("renew_form") or RenewForm(tld=domain.tld)
        if policies.can_restore(actor, domain, now=True):
            context["restore_form"] = forms.get("restore_form") or RestoreForm()
            prices = hooks.price_list(actor, [domain.tld], "redemption", 1)
            context["restore_price"] = prices.price(domain.tld)
        context["nameservers"] = list(domain.nameservers.all())
        context["registrant"] = domain.contacts.filter(role=DomainContact.Role.REGISTRANT).first()
        context["status_changes"] = list(domain.status_changes.all()[:10])
    elif tab == "nameservers":
        nameservers = list(domain.nameservers.all())
        context["nameservers"] = nameservers
        context["nameservers_form"] = forms.get("nameservers_form") or NameserversForm(
            initial={"nameservers": "\n".join(ns.hostname for ns in nameservers)}
        )
    elif tab == "contacts":
        by_role = {c.role: c for c in domain.contacts.all()}
        rows = []
        for role, label in DomainContact.Role.choices:
            form = forms.get(f"contact_form_{role}") or ContactForm.for_contact(
                role, by_role.get(role)
            )
            rows.append({"role": role, "label": label, "contact": by_role.get(role), "form": form})
        context["contact_rows"] = rows
    elif tab == "hosts":
        hosts = list(domain.hosts.all())
        in_use = set(domain.nameservers.values_list("hostname", flat=True))
        context["host_rows"] = [
            {
                "host": host,
                "in_use": host.hostname in in_use,
                "form": forms.get(f"host_form_{host.pk}")
                or HostAddressesForm(
                    prefix=f"host-{host.pk}",
                    initial={"ipv4": "\n".join(host.ipv4), "ipv6": "\n".join(host.ipv6)},
                ),
            }
            for host in hosts
        ]
        context["host_form"] = forms.get("host_form") or HostForm(
            initial={"hostname": f"ns1.{domain.name_puny}"}
        )
    elif tab == "dnssec":
        context["ds_records"] = list(domain.ds_records.all())
        context["ds_form"] = forms.get("ds_form") or DsForm()
    elif tab == "auth-code":
        context["has_auth_code"] = bool(domain.auth_code)
    elif tab == "transfer":
        context.update(_transfer_context(actor, domain))
    elif tab == "sync":
        drifts = list(domain.drifts.all()[:30])
        context["open_drifts"] = [d for d in drifts if d.resolution == DomainDrift.Resolution.OPEN]
        context["resolved_drifts"] = [
            d for d in drifts if d.resolution != DomainDrift.Resolution.OPEN
        ][:10]
        context["can_resolve_drift"] = _can_resolve_drift(actor)
    return context


def _transfer_context(actor, domain: Domain) -> dict[str, Any]:
    """The transfer tab: another registrar's requests for the domain (the open one to answer),
    and our own transfer in while the registry has not decided."""
    requests = list(domain.transfer_requests.all()[:10])
    incoming = None
    if domain.status == DomainStatus.PENDING_TRANSFER:
        incoming = {
            "operations": list(
                domain.operations.filter(
                    kind__in=[
                        RegistrarOperation.Kind.TRANSFER,
                        RegistrarOperation.Kind.TRANSFER_QUERY,
                        RegistrarOperation.Kind.TRANSFER_CANCEL,
                    ]
                ).order_by("-pk")[:5]
            ),
            "can_cancel": policies.can_cancel_transfer(actor, domain),
        }
    open_request = next((r for r in requests if r.is_open), None)
    return {
        "open_request": open_request,
        "answerable": open_request is not None
        and services.transfer_request_answerable(open_request),
        "past_requests": [r for r in requests if not r.is_open],
        "incoming": incoming,
    }


def _header_context(request: HttpRequest, domain: Domain) -> dict[str, Any]:
    """What the page header (domains/detail/_header.html) and the tabs' flags need."""
    actor = request.actor
    return {
        "domain": domain,
        "can": {
            key: policies.can_act(actor, domain, privilege) for key, privilege in PRIVILEGES.items()
        },
        "manageable": domain.status in MANAGEABLE,
        "restorable": policies.can_restore(actor, domain, now=True),
    }


def _context(
    request: HttpRequest,
    domain: Domain,
    tab: str,
    *,
    forms: dict | None = None,
    notice: str = "",
    error: str = "",
    **extra,
) -> dict[str, Any]:
    actor = request.actor
    return {
        **_header_context(request, domain),
        "tab": tab,
        "tabs": TABS,
        "tab_template": f"domains/detail/_{tab.replace('-', '_')}.html",
        "transfer_request": domain.transfer_requests.filter(
            status=TransferRequest.Status.PENDING
        ).first(),
        "can_answer_transfer": policies.can_answer_transfer(actor, domain),
        "notice": notice,
        "error": error,
        **_tab_context(request, domain, tab, forms or {}),
        **extra,
    }


def _history_context(request: HttpRequest, domain: Domain) -> dict[str, Any]:
    actor = request.actor
    operations = list(
        visible_operations(actor).filter(domain=domain).select_related("created_by")[:HISTORY_SIZE]
    )
    return {
        "domain": domain,
        "operations": operations,
        "polling": any(op.status in UNFINISHED for op in operations),
        "can_manage_operations": policies.can_manage_operations(actor),
    }


def _render(
    request: HttpRequest, domain: Domain, tab: str, *, status: int = 200, **kwargs
) -> HttpResponse:
    context = _context(request, domain, tab, **kwargs)
    if is_htmx(request):
        response = render(request, "domains/detail/_tabs.html", context, status=status)
    else:
        context.update(_history_context(request, domain))
        response = render(request, "domains/domain_detail.html", context, status=status)
    return vary_on_htmx(response)


@login_required
@require_GET
def domain_detail(request: HttpRequest, pk: int) -> HttpResponse:
    domain = _domain(request, pk)
    tab = request.GET.get("tab", "overview")
    if tab not in TAB_NAMES:
        tab = "overview"
    return _render(request, domain, tab)


@login_required
@require_GET
def operation_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The history fragment; it polls itself while an operation is pending or running.

    An HTMX answer also carries the page header out of band (the status an operation changed
    shows at once) and, when the domain's status is not the one the page shows (``?shown=``),
    fires ``np-domain-changed`` so that the current tab reloads (its flags and buttons follow
    the status)."""
    domain = _domain(request, pk)
    context = _history_context(request, domain)
    if is_htmx(request):
        context.update(_header_context(request, domain), header_oob=True)
    response = render(request, "domains/detail/_operations.html", context)
    shown = request.GET.get("shown")
    if is_htmx(request) and shown is not None and shown != domain.status:
        trigger(response, **{DOMAIN_CHANGED.replace("-", "_"): True})
    return vary_on_htmx(response)


# --- answering an action ------------------------------------------------------------------------
def _done(request: HttpRequest, domain: Domain, tab: str, message: str, **extra) -> HttpResponse:
    if is_htmx(request):
        domain = _domain(request, domain.pk)  # flags and lists as they are now
        response = _render(request, domain, tab, notice=message, **extra)
        toast(response, message)
        return trigger(response, **{OPERATIONS_CHANGED.replace("-", "_"): True})
    messages.success(request, message)
    return redirect(f"{reverse('domains:detail', args=[domain.pk])}?tab={tab}")


def _refused(
    request: HttpRequest,
    domain: Domain,
    tab: str,
    *,
    exc: ValidationError | None = None,
    forms: dict | None = None,
) -> HttpResponse:
    """Nothing changed: show the form errors (or the service's message) where they belong."""
    error = " ".join(exc.messages) if exc is not None else ""
    if forms is None and not is_htmx(request):
        messages.error(request, error)
        return redirect(f"{reverse('domains:detail', args=[domain.pk])}?tab={tab}")
    return _render(request, domain, tab, status=INVALID, forms=forms, error=error)


def _simple_action(
    request: HttpRequest, pk: int, tab: str, perform: Callable[[Domain], str]
) -> HttpResponse:
    """An action without a form: ``perform`` calls the service and returns the notice."""
    domain = _domain(request, pk)
    try:
        message = perform(domain)
    except ValidationError as exc:
        return _refused(request, domain, tab, exc=exc)
    return _done(request, domain, tab, message)


def _toggle(request: HttpRequest) -> bool:
    form = ToggleForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Choose on or off.")
    return form.cleaned_data["value"]


# --- overview: renew, auto-renew ------------------------------------------------------------------
@login_required
@require_POST
def renew(request: HttpRequest, pk: int) -> HttpResponse:
    domain = _domain(request, pk)
    form = RenewForm(request.POST, tld=domain.tld)
    if form.is_valid():
        years = form.cleaned_data["years"]
        try:
            services.domain_renew(actor=request.actor, domain=domain, years=years)
        except ValidationError as exc:
            add_service_errors(form, exc, "years")
        else:
            plural = "s" if years > 1 else ""
            return _done(request, domain, "overview", f"Renewal for {years} year{plural} queued.")
    return _refused(request, domain, "overview", forms={"renew_form": form})


@login_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Restore a domain from its redemption period (``services.domain_restore``)."""
    domain = _domain(request, pk)
    form = RestoreForm(request.POST)
    refusal = None
    if form.is_valid():
        try:
            services.domain_restore(
                actor=request.actor, domain=domain, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            # Shown above the tab too: the form is gone once the domain is not restorable.
            refusal = exc
            add_service_errors(form, exc, "reason")
        else:
            return _done(request, domain, "overview", f"Restore of {domain.name} queued.")
    return _refused(request, domain, "overview", exc=refusal, forms={"restore_form": form})


@login_required
@require_POST
def autorenew(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(domain: Domain) -> str:
        enabled = _toggle(request)
        services.domain_set_autorenew(actor=request.actor, domain=domain, enabled=enabled)
        return f"Auto-renew turned {'on' if enabled else 'off'}."

    return _simple_action(request, pk, "overview", perform)


# --- nameservers, lock, privacy -------------------------------------------------------------------
@login_required
@require_POST
def nameservers(request: HttpRequest, pk: int) -> HttpResponse:
    domain = _domain(request, pk)
    form = NameserversForm(request.POST)
    if form.is_valid():
        try:
            services.domain_set_nameservers(
                actor=request.actor, domain=domain, nameservers=form.cleaned_data["nameservers"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, "nameservers")
        else:
            return _done(request, domain, "nameservers", "New nameservers sent to the registry.")
    return _refused(request, domain, "nameservers", forms={"nameservers_form": form})


@login_required
@require_POST
def lock(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(domain: Domain) -> str:
        locked = _toggle(request)
        services.domain_set_lock(actor=request.actor, domain=domain, locked=locked)
        return f"{domain.name} is {'locked' if locked else 'unlocked'}."

    return _simple_action(request, pk, "lock", perform)


@login_required
@require_POST
def privacy(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(domain: Domain) -> str:
        enabled = _toggle(request)
        services.domain_set_privacy(actor=request.actor, domain=domain, enabled=enabled)
        return f"ID protection turned {'on' if enabled else 'off'}."

    return _simple_action(request, pk, "privacy", perform)


# --- contacts -----------------------------------------------------------------------------------
@login_required
@require_POST
def contacts(request: HttpRequest, pk: int) -> HttpResponse:
    domain = _domain(request, pk)
    role = request.POST.get("role", "")
    if role not in DomainContact.Role.values:
        return _refused(
            request,
            domain,
            "contacts",
            exc=ValidationError("Choose which contact to change."),
        )
    form = ContactForm(request.POST, prefix=role)
    if form.is_valid():
        try:
            services.domain_set_contacts(
                actor=request.actor, domain=domain, contacts={role: form.cleaned_data}
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            label = DomainContact.Role(role).label.lower()
            return _done(request, domain, "contacts", f"The {label} contact was updated.")
    return _refused(request, domain, "contacts", forms={f"contact_form_{role}": form})


# --- glue hosts ---------------------------------------------------------------------------------
@login_required
@require_POST
def host_create(request: HttpRequest, pk: int) -> HttpResponse:
    domain = _domain(request, pk)
    form = HostForm(request.POST)
    if form.is_valid():
        try:
            host = services.host_create(actor=request.actor, domain=domain, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, "hostname")
        else:
            return _done(request, domain, "hosts", f"Glue host {host.hostname} created.")
    return _refused(request, domain, "hosts", forms={"host_form": form})


@login_required
@require_POST
def host_edit(request: HttpRequest, pk: int, host_id: int) -> HttpResponse:
    domain = _domain(request, pk)
    host = get_object_or_404(domain.hosts, pk=host_id)
    form = HostAddressesForm(request.POST, prefix=f"host-{host.pk}")
    if form.is_valid():
        try:
            services.host_set_addresses(actor=request.actor, host=host, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, "ipv4")
        else:
            return _done(request, domain, "hosts", f"Addresses of {host.hostname} updated.")
    return _refused(request, domain, "hosts", forms={f"host_form_{host.pk}": form})


@login_required
@require_POST
def host_delete(request: HttpRequest, pk: int, host_id: int) -> HttpResponse:
    domain = _domain(request, pk)
    host = get_object_or_404(domain.hosts, pk=host_id)

    def perform(domain: Domain) -> str:
        services.host_delete(actor=request.actor, host=host)
        return f"Glue host {host.hostname} deleted."

    return _simple_action(request, domain.pk, "hosts", perform)


# --- DNSSEC ---------------------------------------------------------------------------------------
@login_required
@require_POST
def ds_add(request: HttpRequest, pk: int) -> HttpResponse:
    domain = _domain(request, pk)
    form = DsForm(request.POST)
    if form.is_valid():
        try:
            ds = services.ds_add(actor=request.actor, domain=domain, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, "digest")
        else:
            return _done(request, domain, "dnssec", f"DS record {ds.key_tag} sent to the registry.")
    return _refused(request, domain, "dnssec", forms={"ds_form": form})


@login_required
@require_POST
def ds_delete(request: HttpRequest, pk: int, ds_id: int) -> HttpResponse:
    domain = _domain(request, pk)
    ds = get_object_or_404(domain.ds_records, pk=ds_id)

    def perform(domain: Domain) -> str:
        services.ds_remove(actor=request.actor, ds=ds)
        return f"DS record {ds.key_tag} removed."

    return _simple_action(request, domain.pk, "dnssec", perform)


# --- auth code ----------------------------------------------------------------------------------
@login_required
@require_POST
def auth_code(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(domain: Domain) -> str:
        services.domain_request_auth_code(actor=request.actor, domain=domain)
        return "Transfer code requested from the registry; show it once it has arrived."

    return _simple_action(request, pk, "auth-code", perform)


@login_required
@require_POST
def auth_code_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows the code in this answer only (never in a page that can be reloaded); audited."""
    domain = _domain(request, pk)
    try:
        code = services.domain_reveal_auth_code(actor=request.actor, domain=domain)
    except ValidationError as exc:
        return _refused(request, domain, "auth-code", exc=exc)
    response = _render(request, domain, "auth-code", revealed_code=code)
    response["Cache-Control"] = "no-store"
    return response


# --- transfers: another registrar's request, our own transfer in ---------------------------------
def _transfer_answer(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    def perform(domain: Domain) -> str:
        services.transfer_request_answer(actor=request.actor, domain=domain, approve=approve)
        if approve:
            return "Approval sent to the registry: the domain will leave Nameport."
        return "Rejection sent to the registry: the domain stays here."

    return _simple_action(request, pk, "transfer", perform)


@login_required
@require_POST
def transfer_request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _transfer_answer(request, pk, approve=True)


@login_required
@require_POST
def transfer_request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _transfer_answer(request, pk, approve=False)


@login_required
@require_POST
def transfer_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(domain: Domain) -> str:
        services.domain_transfer_cancel(actor=request.actor, domain=domain)
        return "Cancellation of the transfer sent to the registry."

    return _simple_action(request, pk, "transfer", perform)


# --- sync and drift -------------------------------------------------------------------------------
@login_required
@require_POST
def sync(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(domain: Domain) -> str:
        services.domain_sync(actor=request.actor, domain=domain)
        return "Sync queued: differences with the registry will be listed here."

    return _simple_action(request, pk, "sync", perform)


def _drift(request: HttpRequest, pk: int, drift_id: int, *, accept: bool) -> HttpResponse:
    domain = _domain(request, pk)
    drift = get_object_or_404(domain.drifts, pk=drift_id)
    if not _can_resolve_drift(request.actor):
        raise PermissionDenied("Only staff and resellers resolve differences with the registry.")

    def perform(domain: Domain) -> str:
        services.drift_resolve(actor=request.actor, drift=drift, accept=accept)
        if accept:
            return f"The registry's {drift.field} was accepted."
        return f"The portal's {drift.field} is being pushed to the registry again."

    return _simple_action(request, domain.pk, "sync", perform)


@login_required
@require_POST
def drift_accept(request: HttpRequest, pk: int, drift_id: int) -> HttpResponse:
    return _drift(request, pk, drift_id, accept=True)


@login_required
@require_POST
def drift_repush(request: HttpRequest, pk: int, drift_id: int) -> HttpResponse:
    return _drift(request, pk, drift_id, accept=False)
