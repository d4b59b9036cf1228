"""The cart: names to register and names to transfer in (each with its code), quoted by
``billing.quotes`` and placed once by ``billing.orders`` (a hidden token is the idempotency
key, so a double click or a reload places one order); then the invoice page takes the
payment."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from billing.orders import order_place
from billing.quotes import MAX_ITEMS, quote
from customers.selectors import visible_customers
from portal.tenancy import ActorKind


class CartForm(forms.Form):
    names = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        help_text="One domain name per line.",
        max_length=MAX_ITEMS * 260,
        required=False,
    )
    transfers = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 3, "class": "form-control", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="One per line: the domain name, a space, then its transfer (EPP) code.",
        max_length=MAX_ITEMS * 330,
        required=False,
    )
    years = forms.TypedChoiceField(
        choices=[(n, f"{n} year{'s' if n > 1 else ''}") for n in range(1, 11)],
        coerce=int,
        initial=1,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    promo_code = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    customer = forms.ModelChoiceField(
        queryset=None, required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    token = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        if actor.is_customer:
            del self.fields["customer"]
        else:
            self.fields["customer"].queryset = visible_customers(actor).order_by(
                "last_name", "first_name", "pk"
            )
            self.fields["customer"].required = True

    def clean_names(self) -> list[str]:
        return [n.strip() for n in self.cleaned_data["names"].splitlines() if n.strip()]

    def clean_transfers(self) -> list[tuple[str, str]]:
        pairs = []
        for number, line in enumerate(self.cleaned_data["transfers"].splitlines(), 1):
            if not line.strip():
                continue
            name, _, code = line.strip().partition(" ")
            if not code.strip():
                raise ValidationError(
                    f"Line {number}: put the transfer code after the name, separated by a space."
                )
            pairs.append((name, code.strip()))
        return pairs

    def clean(self):
        data = super().clean()
        count = len(data.get("names") or []) + len(data.get("transfers") or [])
        if not self.errors and count == 0:
            raise ValidationError("Enter at least one domain name to register or transfer.")
        if count > MAX_ITEMS:
            raise ValidationError(f"At most {MAX_ITEMS} names in one order.")
        return data

    def items(self) -> list[dict]:
        years = self.cleaned_data["years"]
        registrations = [
            {"type": "domain", "action": "register", "name": name, "years": years}
            for name in self.cleaned_data["names"]
        ]
        transfers = [
            {"type": "domain", "action": "transfer", "name": name, "auth_code": code, "years": 1}
            for name, code in self.cleaned_data["transfers"]
        ]
        return registrations + transfers

    def buyer(self):
        if self.actor.is_customer:
            return self.actor.customer
        return self.cleaned_data["customer"]


@login_required
@require_http_methods(["GET", "POST"])
def cart(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if not (actor.is_customer or actor.is_reseller or actor.is_staff):
        raise Http404
    if actor.kind == ActorKind.CONTACT and not actor.can("billing", "orders"):
        raise PermissionDenied("Your account does not let you place orders.")
    status, result = 200, None
    if request.method == "POST":
        form = CartForm(request.POST, actor=actor)
        if form.is_valid():
            try:
                if request.POST.get("action") == "order":
                    order = order_place(
                        actor=actor,
                        customer=form.buyer(),
                        items=form.items(),
                        idempotency_key=f"cart:{form.cleaned_data['token']}",
                        promo_code=form.cleaned_data["promo_code"],
                    )
                    invoice = order.invoices.order_by("pk").first()
                    if invoice.status == invoice.Status.PAID:
                        messages.success(request, "Ordered and paid from your account credit.")
                    else:
                        messages.success(request, "Ordered: pay the invoice to register.")
                    return redirect("billing:invoice_detail", pk=invoice.pk)
                result = quote(
                    actor=actor,
                    customer=form.buyer(),
                    items=form.items(),
                    promo_code=form.cleaned_data["promo_code"],
                )
            except ValidationError as exc:
                for field, errors in getattr(exc, "message_dict", {"": exc.messages}).items():
                    form.add_error(field if field in form.fields else None, errors)
        if form.errors:
            status = 422
    else:
        form = CartForm(
            actor=actor,
            initial={
                "names": request.GET.get("names", "")[:260],
                # The transfer page sends its name here: the code is typed after it.
                "transfers": (request.GET.get("transfer", "")[:260].strip() + " ").lstrip(),
                "years": request.GET.get("years", "1")[:2],
                "token": uuid.uuid4().hex,
            },
        )
    return render(request, "billing/cart.html", {"form": form, "quote": result}, status=status)
