"""Customer price groups in the price list editor: one group's page (change it, its customers,
delete it) and a customer's price group (a select). Every change goes through
``billing.price_groups``; groups are listed and created on the price list page
(``billing.views_prices``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from billing import price_groups
from billing.models import PriceGroup, PriceGroupMembership
from billing.pricing import PriceList
from billing.selectors import visible_price_group_memberships, visible_price_groups
from billing.views_prices import PriceGroupForm, _run, _warn_below_cost
from customers.selectors import visible_customers
from domains.models import Tld
from portal.tenancy import Actor, ActorKind


def _group(request: HttpRequest, pk: int) -> PriceGroup:
    return get_object_or_404(visible_price_groups(request.actor), pk=pk)


@login_required
def price_group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the group's form and its customers; POST: save it (back to the price list) or show
    the form's errors (422)."""
    group = _group(request, pk)
    actor = request.actor
    form = PriceGroupForm(
        request.POST if request.method == "POST" else None,
        prefix="group",
        initial={"name": group.name, "percent": group.percent},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            saved = _run(
                form,
                lambda: price_groups.price_group_save(
                    actor=actor, group=group, name=data["name"], percent=data["percent"]
                ),
            )
            if saved is not None:
                messages.success(request, f"Price group {saved.name} saved.")
                _warn_below_cost(request, saved)
                return redirect("billing:price_list")
        status = 422
    members = (
        visible_price_group_memberships(actor)
        .filter(group=group)
        .order_by("customer__last_name", "customer__first_name", "customer_id")
    )
    others = (
        visible_customers(actor)
        .filter(organisation_id=group.organisation_id, livemode=True)
        .exclude(price_group_membership__group=group)
        .order_by("last_name", "first_name", "pk")
    )
    context = {
        "group": group,
        "form": form,
        "members": members,
        "others": others[:500],
        "can_edit": price_groups.may_change(actor, group.organisation_id),
    }
    return render(request, "billing/price_group.html", context, status=status)


@login_required
@require_POST
def price_group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    try:
        price_groups.price_group_delete(actor=request.actor, group=group)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Price group {group.name} deleted: its customers pay your prices again."
        )
    return redirect("billing:price_list")


@login_required
@require_POST
def price_group_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Put one of the reseller's customers (``customer``) in the group."""
    group = _group(request, pk)
    raw = request.POST.get("customer", "")
    customer = (
        visible_customers(request.actor)
        .filter(organisation_id=group.organisation_id, pk=int(raw))
        .first()
        if raw.isdigit() and int(raw) < 2**63
        else None
    )
    if customer is None:
        messages.error(request, "Choose one of your customers.")
        return redirect("billing:price_group_detail", pk=group.pk)
    try:
        price_groups.price_group_assign(actor=request.actor, customer=customer, group=group)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{customer} is in {group.name}.")
    return redirect("billing:price_group_detail", pk=group.pk)


class CustomerGroupForm(forms.Form):
    group = forms.ModelChoiceField(
        queryset=PriceGroup.objects.none(),
        required=False,
        empty_label="No group: your prices",
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": "Choose one of your price groups."},
    )

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups


def _customer_actor(customer) -> Actor:
    return Actor(
        kind=ActorKind.CUSTOMER,
        organisation=customer.organisation,
        customer=customer,
        livemode=customer.livemode,
    )


@login_required
def customer_price_group(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's price group, chosen by its reseller (or staff), with the register prices the
    customer sees in it."""
    actor = request.actor
    if not (actor.is_staff or actor.is_reseller):
        raise Http404
    customer = get_object_or_404(visible_customers(actor), pk=pk)
    groups = PriceGroup.objects.filter(organisation_id=customer.organisation_id).order_by("name")
    current = PriceGroupMembership.objects.filter(customer=customer).select_related("group").first()
    form = CustomerGroupForm(
        request.POST if request.method == "POST" else None,
        groups=groups,
        initial={"group": current.group if current else None},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            chosen = form.cleaned_data["group"]
            try:
                price_groups.price_group_assign(actor=actor, customer=customer, group=chosen)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"{customer} is in {chosen.name}."
                    if chosen
                    else f"{customer} is in no price group.",
                )
                back = request.POST.get("next", "")
                if back and url_has_allowed_host_and_scheme(
                    back, allowed_hosts={request.get_host()}
                ):
                    return redirect(back)
                return redirect("billing:customer_price_group", pk=customer.pk)
        status = 422
    tlds = list(Tld.objects.filter(is_active=True).order_by("name"))
    prices = PriceList(_customer_actor(customer), tlds, "register", 1)
    seen = [(tld, prices.price(tld)) for tld in tlds]
    context = {
        "customer": customer,
        "current": current,
        "form": form,
        "prices": [(tld, price) for tld, price in seen if price is not None],
        "can_edit": price_groups.may_change(actor, customer.organisation_id) and customer.livemode,
    }
    return render(request, "billing/customer_price_group.html", context, status=status)
