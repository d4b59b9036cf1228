"""Finding and ordering names: the search page (one row per TLD, each checked by its own
request), suggestions, and the register and transfer forms."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from customers.selectors import visible_customers
from domains import availability, hooks, names, policies, services
from domains.forms import RegisterForm, SearchForm, TransferForm, split_lines
from domains.models import Tld
from domains.selectors import visible_tlds
from domains.views._common import INVALID, add_service_errors, vary_on_htmx

FAVOURITE_TLDS = ["com", "net", "org", "io"]
SUGGESTIONS = 8


def _active_tlds(actor) -> list[Tld]:
    tlds = list(visible_tlds(actor).filter(is_active=True))
    rank = {name: i for i, name in enumerate(FAVOURITE_TLDS)}
    return sorted(tlds, key=lambda t: (rank.get(t.name, len(rank)), t.name))


def _split(query: str, tlds: list[Tld]) -> tuple[str, str]:
    """``"tunji.com.ng"`` -> ("tunji", "com.ng"); ``"tunji"`` -> ("tunji", "")."""
    query = query.strip().lower().rstrip(".")
    for tld in sorted(tlds, key=lambda t: -len(t.name)):
        if query.endswith(f".{tld.name}") and len(query) > len(tld.name) + 1:
            return query[: -(len(tld.name) + 1)], tld.name
    if "." in query:
        label, rest = query.split(".", 1)
        return label, rest
    return query, ""


@login_required
@require_GET
def domain_search(request: HttpRequest) -> HttpResponse:
    """Rows come out pending at once; each fills itself in with ``domains:check``."""
    actor = request.actor
    form = SearchForm(request.GET or None)
    context: dict = {"form": form, "rows": [], "label": "", "error": ""}
    if form.is_valid():
        tlds = _active_tlds(actor)
        label, wanted = _split(form.cleaned_data["q"], tlds)
        by_name = {t.name: t for t in tlds}
        if wanted and wanted not in by_name:
            context["error"] = f"We do not offer .{wanted} domains."
        ordered = ([by_name[wanted]] if wanted in by_name else []) + [
            t for t in tlds if t.name != wanted
        ]
        # Local rules first (LDH, length, IDN): a label no TLD accepts is refused here and
        # nothing is sent to any registry.
        parsed, first_error = [], ""
        for tld in ordered:
            try:
                parsed.append(names.parse_domain_name(f"{label}.{tld.name}", tlds=by_name))
            except ValidationError as exc:
                first_error = first_error or " ".join(exc.messages)
        if not tlds:
            context["error"] = "No domain extensions are on sale yet."
        elif not parsed:
            context["error"] = context["error"] or first_error
        else:
            context["label"] = label
            context["rows"] = [f"{label}.{tld.name}" for tld in ordered]
            context["wanted"] = f"{label}.{wanted}" if wanted in by_name else ""
    response = render(request, "domains/search/search.html", context)
    return vary_on_htmx(response)


@login_required
@require_GET
def domain_check(request: HttpRequest) -> HttpResponse:
    """One row of the search page: availability and price of one name."""
    name = request.GET.get("name", "")[:253]
    result = availability.check_names(request.actor, [name])[0]
    response = render(request, "domains/search/_row.html", {"result": result})
    return vary_on_htmx(response)


@login_required
@require_GET
def domain_suggestions(request: HttpRequest) -> HttpResponse:
    """Alternatives below the search results: the names the results already list (the label
    under every extension on sale) are not repeated here."""
    keyword = request.GET.get("q", "")
    label = keyword.strip().lower().rstrip(".")
    listed = [f"{label}.{tld.name}" for tld in _active_tlds(request.actor)]
    error = ""
    try:
        results = availability.suggest(request.actor, keyword, SUGGESTIONS, exclude=listed)
    except ValidationError as exc:
        results, error = [], " ".join(exc.messages)
    response = render(
        request, "domains/search/_suggestions.html", {"results": results, "error": error}
    )
    return vary_on_htmx(response)


# --- ordering -----------------------------------------------------------------------------------
def _parse(name: str) -> names.DomainName | None:
    try:
        return names.parse_domain_name(name)
    except ValidationError:
        return None


def _order_kwargs(request: HttpRequest) -> dict:
    """Staff and resellers choose the customer; a customer orders for itself."""
    actor = request.actor
    if actor.is_customer:
        return {}
    return {"customers": visible_customers(actor).order_by("last_name", "first_name", "pk")}


def _customer(request: HttpRequest, form):
    return request.actor.customer if request.actor.is_customer else form.cleaned_data["customer"]


def _price(actor, tld: Tld | None, action: str, years) -> dict:
    """The order summary's price, from the one price function: a customer sees what it pays; a
    reseller also sees its cost (``cost``); staff see the platform's price and the registry's
    cost."""
    if tld is None:
        return {}
    try:
        years = int(years or 1)
    except (TypeError, ValueError):
        years = 1
    if not 1 <= years <= tld.max_years:
        years = 1
    # The price of the whole term (a multi-year row when the list has one), never the 1-year
    # price multiplied here.
    quote = hooks.price_list(actor, [tld], action, years).price(tld)
    if quote is None:
        return {}
    summary = {
        "price": quote.price,
        "total": quote.price,
        "currency": quote.currency,
        "years": years,
        "below_cost": bool(getattr(quote, "below_cost", False)) and not actor.is_customer,
    }
    if quote.cost is not None:
        summary["cost"] = quote.cost
    return summary


def _order_fields(data: dict, action: str) -> dict:
    """What the customer chose on the page, as the order's item carries it."""
    fields = {"name": data["name"], "years": data["years"]}
    if action == "transfer":
        return {**fields, "auth_code": data["auth_code"]}
    return {
        **fields,
        "nameservers": split_lines(data["nameservers"]) or None,
        "id_protection": data["id_protection"],
        "autorenew": data["autorenew"],
    }


def _order_page(request, form_class, template: str, action: str, perform, done: str):
    actor = request.actor
    if not policies.can_order(actor):
        # Not offered in the pages either; a request that comes anyway is told why.
        raise PermissionDenied(policies.order_refusal(actor))
    data = request.POST if request.method == "POST" else None
    raw_name = (data or request.GET).get("name", "")
    parsed = _parse(raw_name) if raw_name else None
    tld = parsed.tld if parsed else None
    initial = {"name": raw_name}
    if request.GET.get("customer", "").isdigit():
        initial["customer"] = int(request.GET["customer"])
    if request.GET.get("years", "").isdigit():
        initial["years"] = int(request.GET["years"])
    form = form_class(data, initial=initial, tld=tld, **_order_kwargs(request))
    token = (data or {}).get("token", "")[:64] or uuid.uuid4().hex
    if data is not None and form.is_valid():
        try:
            customer = _customer(request, form)
            # A customer's order is invoiced (the billing app's order, paid before it is
            # sent); resellers and staff order at cost, without invoicing the customer.
            ordered = (
                hooks.customer_order(
                    actor=actor,
                    customer=customer,
                    action=action,
                    idempotency_key=f"{action}:{token}",
                    **_order_fields(form.cleaned_data, action),
                )
                if actor.is_customer
                else None
            )
            if ordered is None:
                domain = perform(form, customer)
        except ValidationError as exc:
            add_service_errors(form, exc, "name")
        else:
            if ordered is not None:
                url, message = ordered
                messages.success(request, message)
                return redirect(url)
            messages.success(request, done.format(name=domain.name))
            return redirect("domains:detail", pk=domain.pk)
    years = form["years"].value() or 1
    context = {
        "form": form,
        "tld": tld,
        "parsed": parsed,
        "quote": _price(actor, tld, action, years),
        "customer": actor.customer if actor.is_customer else None,
        "order_token": token,
    }
    status = INVALID if data is not None else 200
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def domain_register(request: HttpRequest) -> HttpResponse:
    def perform(form, customer):
        data = form.cleaned_data
        return services.domain_register(
            actor=request.actor,
            customer=customer,
            name=data["name"],
            years=data["years"],
            nameservers=split_lines(data["nameservers"]) or None,
            id_protection=data["id_protection"],
            autorenew=data["autorenew"],
        )

    return _order_page(
        request,
        RegisterForm,
        "domains/register.html",
        "register",
        perform,
        "{name} is being registered: follow its progress below.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def domain_transfer(request: HttpRequest) -> HttpResponse:
    def perform(form, customer):
        data = form.cleaned_data
        return services.domain_transfer_in(
            actor=request.actor,
            customer=customer,
            name=data["name"],
            auth_code=data["auth_code"],
            years=data["years"],
        )

    return _order_page(
        request,
        TransferForm,
        "domains/transfer.html",
        "transfer",
        perform,
        "The transfer of {name} has started: the registry will ask the current registrar.",
    )
